import Synchronization

/// A small in-process cache for content-addressed values (a manifest by id, a workflow by its hash pointer): what a
/// key names can never change, so a warm Lambda container may keep it without invalidation. Oldest entries go first.
package final class ImmutableCache<Value: Sendable>: Sendable {
    private let state = Mutex<(values: [String: Value], order: [String])>(([:], []))
    package let capacity: Int

    package init(capacity: Int = 64) { self.capacity = capacity }

    package subscript(_ key: String) -> Value? { state.withLock { $0.values[key] } }

    /// Stores `value` under `key` (only ever call with the value the key names).
    package func insert(_ key: String, _ value: Value) {
        state.withLock { s in
            if s.values.updateValue(value, forKey: key) == nil { s.order.append(key) }
            while s.order.count > capacity { s.values[s.order.removeFirst()] = nil }
        }
    }

    /// The cached value, or `load()`'s result cached.
    package func value(_ key: String, load: () async throws -> Value) async throws -> Value {
        if let hit = self[key] { return hit }
        let loaded = try await load()
        insert(key, loaded)
        return loaded
    }
}
