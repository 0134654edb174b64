#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// Explicit context caching: a node's stable prefix (system instruction, its `context` turn, its tools) stored once
/// per model as a `cachedContents` resource and referenced by later calls, whose cached tokens bill at the cache
/// price. https://ai.google.dev/api/caching · https://cloud.google.com/vertex-ai/generative-ai/docs/context-cache/context-cache-create
package enum PromptCache {
    /// The part of a request that is cached: everything before the varying turns.
    package struct Prefix: Sendable, Equatable {
        package var contents: [Data]
        package var systemInstruction: String?
        package var tools: Data?

        /// The `CachedContent` create body (keys in a fixed order).
        package func body(model: String, ttlSeconds: Int) -> Data {
            var request = GeminiWire.Request(contents: contents, systemInstruction: systemInstruction, tools: tools).body()
            request.removeFirst()  // "{": the model and ttl go first
            var out = Data(#"{"model":"#.utf8)
            out.append(JSONValue.string(model).jsonData())
            out.append(contentsOf: #","ttl":"#.utf8)
            out.append(JSONValue.string("\(ttlSeconds)s").jsonData())
            out.append(UInt8(ascii: ","))
            out.append(request)
            return out
        }

        /// The key a cached prefix is found by: the owner, the model and the prefix's exact bytes.
        package func key(model: String, scope: String?) -> String {
            let head = Data((scope ?? "").utf8) + [0] + Data(model.utf8) + [0]
            return Digest.hex(Digest.sha256(head + body(model: "", ttlSeconds: 0)))
        }

        /// Rough size in tokens (~4 bytes each, as the router estimates).
        package var estimatedTokens: Int {
            let text = contents.reduce(0) { $0 + $1.count } + (systemInstruction?.utf8.count ?? 0) + (tools?.count ?? 0)
            return (text + 3) / 4
        }
    }

    /// A cache the service created.
    package struct Entry: Sendable, Equatable {
        package var name: String
        package var tokens: Int
        package var expiresMillis: Int64
    }
}

extension GeminiClient {
    /// `POST …/cachedContents`: caches `prefix` for `model` for `ttlSeconds`; the entry names it and counts its tokens.
    package func createCache(model: String, _ prefix: PromptCache.Prefix, ttlSeconds: Int, now: Int64) async throws -> PromptCache.Entry {
        let resource = parent.isEmpty ? "cachedContents" : "\(parent)/cachedContents"
        let response: HTTPResponse
        do {
            response = try await transport.send(
                post(resource, body: prefix.body(model: modelName(model), ttlSeconds: ttlSeconds)), timeout: timeout)
        } catch let e as TransportError {
            throw ModelFailure(kind: .server, message: "model \(model) cache: \(e)")
        }
        guard response.status == 200 else {
            throw ModelFailure.classify(status: response.status, headers: response.headers, body: response.body, model: model)
        }
        guard let doc = try? JSONValue(json: response.body), case .string(let name)? = try? doc.value(at: "name"),
            name.hasPrefix("cachedContents/") || name.contains("/cachedContents/")
        else {
            throw AnalemmaError(.modelError, "model \(model): cachedContents answered without a cache name")
        }
        var tokens = prefix.estimatedTokens
        if case .number(let n)? = try? doc.value(at: "usageMetadata.totalTokenCount"), let t = Bounded.integer(n, in: 0...Int(Int32.max)) {
            tokens = t
        }
        return PromptCache.Entry(name: name, tokens: tokens, expiresMillis: now + Int64(ttlSeconds) * 1000)
    }
}

/// The caches this instance created, by prefix key, until shortly before they expire.
package actor PromptCaches {
    private var entries: [String: PromptCache.Entry] = [:]

    package init() {}

    /// The live entry for `key`: one that still has a minute to run at `now`.
    package func entry(_ key: String, now: Int64) -> PromptCache.Entry? {
        guard let e = entries[key] else { return nil }
        guard e.expiresMillis - 60_000 > now else {
            entries[key] = nil
            return nil
        }
        return e
    }

    package func store(_ key: String, _ entry: PromptCache.Entry) { entries[key] = entry }

    package func forget(_ key: String) { entries[key] = nil }
}
