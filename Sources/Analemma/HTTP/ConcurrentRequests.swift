import Synchronization

/// Requests run concurrently, at most as many at once as the connection pool keeps per host: a burst (a large
/// state's first checkpoint writes thousands of pages) then reuses its connections instead of opening one per
/// request, each a TLS handshake on AWS.
package enum ConcurrentRequests {
    /// Requests in flight at once: the pool's idle connections per host.
    package static let limit = SocketTransport.defaultMaxIdlePerHost

    /// Runs `body` for every element, at most `limit` at a time; the first error cancels the rest and is thrown.
    package static func forEach<Element: Sendable>(
        _ elements: [Element], limit: Int = ConcurrentRequests.limit, _ body: @escaping @Sendable (Element) async throws -> Void
    ) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            var next = 0
            func start() {
                let element = elements[next]
                group.addTask { try await body(element) }
                next += 1
            }
            while next < min(max(limit, 1), elements.count) { start() }
            while try await group.next() != nil {
                if next < elements.count { start() }
            }
        }
    }

    /// `body`'s results for every element, in the elements' order, at most `limit` running at a time.
    package static func map<Element: Sendable, Result: Sendable>(
        _ elements: [Element], limit: Int = ConcurrentRequests.limit, _ body: @escaping @Sendable (Element) async throws -> Result
    ) async throws -> [Result] {
        let results = Mutex<[Int: Result]>([:])
        try await forEach(Array(elements.enumerated()), limit: limit) { i, element in
            let result = try await body(element)
            results.withLock { $0[i] = result }
        }
        return results.withLock { r in elements.indices.compactMap { r[$0] } }
    }
}
