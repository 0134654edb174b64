#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

extension RoutedModel {
    /// A request as sent to one model: through a cached prefix when the node asks for caching, the model offers it and
    /// the prefix reaches the model's minimum; else whole. Caching never fails a call: a cache that cannot be created
    /// is noted and the request goes whole.
    struct CachedCall: Sendable {
        var request: GeminiWire.Request
        /// The prefix's key when the request goes through a cache.
        var key: String?
        var note: String?
        /// Storage of a cache this call created, for its whole TTL.
        var storageUSD: Double = 0
    }

    func cached(_ wire: GeminiWire.Request, _ request: ModelRequest, model: ModelCatalog.Model, whole: Bool, day: String) async
        -> CachedCall
    {
        guard let ttl = request.cacheTTLSeconds else { return CachedCall(request: wire) }
        guard !whole else { return CachedCall(request: wire, note: "sent whole: the cached prefix was refused") }
        guard let minimum = model.cacheMinTokens else {
            return CachedCall(request: wire, note: "not cached: \(model.id) offers no explicit caching in MODEL_CATALOG")
        }
        let turns = min(request.prefixTurns, max(wire.contents.count - 1, 0))  // at least one turn follows the prefix
        let prefix = PromptCache.Prefix(
            contents: Array(wire.contents.prefix(turns)), systemInstruction: wire.systemInstruction, tools: wire.tools)
        guard prefix.estimatedTokens >= minimum else {
            return CachedCall(request: wire, note: "not cached: prefix ~\(prefix.estimatedTokens) tokens, below \(model.id)'s \(minimum)")
        }
        var through = wire
        through.contents = Array(wire.contents.dropFirst(turns))
        through.systemInstruction = nil
        through.tools = nil
        let key = prefix.key(model: model.id, scope: request.cacheScope)
        let now = clock.nowMillis()
        if let entry = await caches.entry(key, now: now) {
            through.cachedContent = entry.name
            return CachedCall(request: through, key: key, note: "reused \(entry.name)")
        }
        do {
            let entry = try await client.createCache(model: model.id, prefix, ttlSeconds: ttl, now: now)
            await caches.store(key, entry)
            through.cachedContent = entry.name
            let storage = Double(entry.tokens) * Double(ttl) / 3600 * (model.cacheStorageUSDPerMillionHour ?? 0) / 1_000_000
            return CachedCall(
                request: through, key: key, note: "created \(entry.name) (\(entry.tokens) tokens, \(ttl) s)", storageUSD: storage)
        } catch {
            return CachedCall(request: wire, note: "not cached: \(String("\(error)".prefix(160)))")
        }
    }
}
