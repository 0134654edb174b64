import Foundation
import Testing

@testable import Analemma

@Suite("Explicit caching: a node's stable prefix cached once per model, reused, never failing a call")
struct PromptCacheTests {
    static let catalog = """
        {"models": [{"id": "flash", "tier": "medium", "context_tokens": 1000000, "max_output_tokens": 64000, "latency_ms": 1500,
          "input_usd_per_mtok": 0.3, "output_usd_per_mtok": 2.5, "cached_input_usd_per_mtok": 0.03,
          "cache_min_tokens": 200, "cache_storage_usd_per_mtok_hour": 1.0}]}
        """
    static let created = #"{"name": "cachedContents/abc123", "model": "models/flash", "usageMetadata": {"totalTokenCount": 300}}"#
    static let context = String(repeating: "The tide tables of the harbour. ", count: 40)  // ~1,300 bytes, ~320 tokens

    static func model(_ steps: [RecordingTransport.Step], api: GeminiClient.API? = nil) throws -> (RoutedModel, RecordingTransport) {
        let transport = RecordingTransport(steps)
        let endpoint = AWSEndpoint(scheme: "https", host: "x", isCustom: true)
        let routed = RoutedModel(
            router: ModelRouter(catalog: try ModelCatalog.parse(catalog), today: "2026-12-02"),
            client: GeminiClient(api: api ?? .developer(endpoint: endpoint, key: "k"), transport: transport),
            clock: ManualClock(ModelLifecycleTests.december))
        return (routed, transport)
    }

    static func request(_ prompt: String, context: String = context, ttl: Int? = 600) -> ModelRequest {
        var r = ModelRequest(nodeID: "n", prompt: prompt, hints: ["system": .string("You read tide tables.")])
        r.context = context
        r.turns = [.user(context), .user(prompt)]
        r.prefixTurns = 1
        r.cacheTTLSeconds = ttl
        return r
    }

    static func body(_ r: HTTPRequest) throws -> JSONValue { try JSONValue(json: r.body) }

    @Test("the prefix is cached once, later calls send only what follows it, storage is priced for the TTL")
    func createThenReuse() async throws {
        let (routed, transport) = try Self.model([
            .respond(200, Self.created), try ModelLifecycleTests.ok(), try ModelLifecycleTests.ok(),
        ])
        let first = try await routed.generate(Self.request("When is high water?"))
        let second = try await routed.generate(Self.request("When is low water?"))
        #expect(
            transport.requests.map(\.path) == [
                "/v1beta/cachedContents", "/v1beta/models/flash:generateContent", "/v1beta/models/flash:generateContent",
            ])
        let create = try Self.body(transport.requests[0])
        #expect(try create.value(at: "model") == .string("models/flash") && create.value(at: "ttl") == .string("600s"))
        #expect(try create.value(at: "contents[0].parts[0].text") == .string(Self.context))
        #expect(try create.value(at: "systemInstruction.parts[0].text") == .string("You read tide tables."))
        for (i, prompt) in [(1, "When is high water?"), (2, "When is low water?")] {
            let call = try Self.body(transport.requests[i])
            #expect(try call.value(at: "cachedContent") == .string("cachedContents/abc123"))
            #expect(try call.value(at: "systemInstruction") == nil, "the system instruction is in the cache")
            #expect(try call.value(at: "contents") == .array([try JSONValue(json: GeminiWire.Request.userTurn(prompt))]))
        }
        #expect(first.cache == "created cachedContents/abc123 (300 tokens, 600 s)" && second.cache == "reused cachedContents/abc123")
        // response-text.json: 9 prompt tokens, 4 of them cached; 12 output and 40 thought tokens
        let call = (5 * 0.3 + 4 * 0.03 + 52 * 2.5) / 1_000_000
        #expect(abs(second.estimatedCostUSD! - call) < 1e-15)
        #expect(abs(first.estimatedCostUSD! - (call + 300 * (600.0 / 3600) * 1.0 / 1_000_000)) < 1e-15)
    }

    @Test("one owner never reuses, nor learns of, another owner's cached prefix")
    func scopedByOwner() async throws {
        let (routed, transport) = try Self.model([
            .respond(200, Self.created), try ModelLifecycleTests.ok(), .respond(200, Self.created), try ModelLifecycleTests.ok(),
            try ModelLifecycleTests.ok(),
        ])
        var notes: [String?] = []
        for owner in ["team-a", "team-b", "team-a"] {
            var request = Self.request("When?")
            request.cacheScope = owner
            notes.append(try await routed.generate(request).cache)
        }
        #expect(transport.requests.filter { $0.path == "/v1beta/cachedContents" }.count == 2)
        #expect(notes[1]?.hasPrefix("created") == true && notes[2] == "reused cachedContents/abc123")
    }

    @Test("a prefix below the model's minimum, or a node asking for no caching, is sent whole with no cache request")
    func belowMinimum() async throws {
        let (routed, transport) = try Self.model([try ModelLifecycleTests.ok(), try ModelLifecycleTests.ok()])
        let small = try await routed.generate(Self.request("When?", context: "Short tables."))
        #expect(small.cache?.hasPrefix("not cached: prefix ~") == true && small.cache?.contains("below flash's 200") == true)
        let none = try await routed.generate(Self.request("When?", ttl: nil))
        #expect(none.cache == nil)
        #expect(transport.requests.map(\.path) == Array(repeating: "/v1beta/models/flash:generateContent", count: 2))
        #expect(try Self.body(transport.requests[1]).value(at: "systemInstruction.parts[0].text") == .string("You read tide tables."))
    }

    @Test("a cache that cannot be created, or one refused later, leaves the call whole and answered")
    func failures() async throws {
        let notFound =
            #"{"error": {"code": 403, "message": "CachedContent not found (or permission denied)", "status": "PERMISSION_DENIED"}}"#
        let (routed, transport) = try Self.model([
            .respond(400, #"{"error": {"code": 400, "message": "Cached content is too small.", "status": "INVALID_ARGUMENT"}}"#),
            try ModelLifecycleTests.ok(),
            .respond(200, Self.created), .respond(403, notFound), try ModelLifecycleTests.ok(),
        ])
        let failed = try await routed.generate(Self.request("When?"))
        #expect(failed.cache?.hasPrefix("not cached: rejected: model flash: HTTP 400") == true)
        #expect(try Self.body(transport.requests[1]).value(at: "cachedContent") == nil)
        let refused = try await routed.generate(Self.request("When?"))
        #expect(refused.fallbacks.first?.hasPrefix("flash: cached prefix refused") == true)
        #expect(try Self.body(transport.requests[4]).value(at: "cachedContent") == nil)
        #expect(try Self.body(transport.requests[4]).value(at: "contents[0].parts[0].text") == .string(Self.context))
    }

    @Test("on Vertex the cache lives under the project and location and names the publisher model")
    func vertex() async throws {
        let api = GeminiClient.API.vertex(
            endpoint: AWSEndpoint(scheme: "https", host: "x", isCustom: true), project: "p", location: "us-central1", token: "t")
        let name = #"{"name": "projects/p/locations/us-central1/cachedContents/9", "usageMetadata": {"totalTokenCount": 300}}"#
        let (routed, transport) = try Self.model([.respond(200, name), try ModelLifecycleTests.ok()], api: api)
        _ = try await routed.generate(Self.request("When?"))
        #expect(transport.requests[0].path == "/v1/projects/p/locations/us-central1/cachedContents")
        #expect(
            try Self.body(transport.requests[0]).value(at: "model")
                == .string("projects/p/locations/us-central1/publishers/google/models/flash"))
        #expect(
            try Self.body(transport.requests[1]).value(at: "cachedContent") == .string("projects/p/locations/us-central1/cachedContents/9"))
    }
}
