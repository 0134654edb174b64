import Analemma
import Testing

@Suite("Immutable cache")
struct ImmutableCacheTests {
    @Test("loads once per key and drops the oldest beyond capacity")
    func lru() async throws {
        let cache = ImmutableCache<Int>(capacity: 2)
        var loads = 0
        for key in ["a", "a", "b", "a", "c", "a"] {
            _ = try await cache.value(key) {
                loads += 1
                return key.count
            }
        }
        #expect(loads == 4, "a, b, c, then a again after c pushed it out")
        #expect(cache["b"] == nil && cache["c"] == 1 && cache["a"] == 1)
    }
}
