import Analemma
import Testing

@Suite("Concurrent requests stay within the connection pool")
struct ConcurrentRequestsTests {
    actor Gauge {
        var now = 0
        var peak = 0
        var done: [Int] = []
        func enter() {
            now += 1
            peak = max(peak, now)
        }
        func leave(_ i: Int) {
            now -= 1
            done.append(i)
        }
    }

    @Test("every element runs once, never more than the limit at a time", arguments: [(0, 4), (3, 4), (100, 4), (100, 1), (50, 16)])
    func bounded(count: Int, limit: Int) async throws {
        let gauge = Gauge()
        try await ConcurrentRequests.forEach(Array(0..<count), limit: limit) { i in
            await gauge.enter()
            await Task.yield()
            await gauge.leave(i)
        }
        #expect(await gauge.done.sorted() == Array(0..<count))
        #expect(await gauge.peak <= limit)
    }

    struct Boom: Error {}

    @Test("the first failure is thrown")
    func failure() async {
        await #expect(throws: Boom.self) {
            try await ConcurrentRequests.forEach(Array(0..<20), limit: 3) { i in if i == 7 { throw Boom() } }
        }
    }
}
