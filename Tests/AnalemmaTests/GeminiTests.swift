import Foundation
import Testing

@testable import Analemma

@Suite("Gemini wire format, errors and routing")
struct GeminiTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/gemini")
    static func fixture(_ name: String) throws -> String { try String(contentsOf: fixtures.appendingPathComponent(name), encoding: .utf8) }

    static let request = GeminiWire.Request(
        contents: [GeminiWire.Request.userTurn("Summarise: tides")], systemInstruction: "Be brief.",
        generationConfig: ModelHints([
            "temperature": .number(0.2), "max_output_tokens": .number(256), "response_mime_type": .string("application/json"),
            "thinking_level": .string("low"), "complexity": .string("medium"),
        ]).generationConfig)

    /// The stable code an error reports (a classified call failure's, or the kernel error's).
    static func code(_ error: any Error) -> ErrorCode? { (error as? ModelFailure)?.code ?? (error as? AnalemmaError)?.code }

    /// `METHOD URL`, headers, blank line, body: the exact request as the fixture files write it.
    static func render(_ r: HTTPRequest) -> String {
        let port = r.port.map { ":\($0)" } ?? ""
        var text = "\(r.method) \(r.scheme)://\(r.host)\(port)\(r.path)\n"
        for (k, v) in r.headers { text += "\(k): \(v)\n" }
        return text + "\n" + String(decoding: r.body, as: UTF8.self) + "\n"
    }

    @Test(
        "the request matches Google's documented format byte for byte",
        arguments: [
            (
                GeminiClient.API.developer(
                    endpoint: AWSEndpoint(scheme: "https", host: "generativelanguage.googleapis.com", isCustom: false), key: "TEST_KEY"),
                "request-developer.http"
            ),
            (
                .vertex(
                    endpoint: AWSEndpoint(scheme: "https", host: "aiplatform.googleapis.com", isCustom: false), project: "my-project",
                    location: "global", token: "TEST_TOKEN"), "request-vertex.http"
            ),
        ])
    func requestBytes(api: GeminiClient.API, fixture: String) throws {
        let r = GeminiClient(api: api).httpRequest(model: "gemini-3.5-flash", Self.request)
        #expect(Self.render(r) == (try Self.fixture(fixture)))
    }

    @Test("a response yields its text (thoughts left out), usage, and the model turn verbatim with its thought signature")
    func response() throws {
        let body = Data(try Self.fixture("response-text.json").utf8)
        let r = try GeminiWire.Response.parse(body)
        #expect(r.text == #"{"summary": "Tides are driven by the Moon."}"#)
        #expect((r.promptTokens, r.outputTokens, r.thoughtTokens, r.cachedTokens) == (9, 12, 40, 4))
        #expect(r.finishReason == "STOP" && r.modelVersion == "gemini-3.5-flash")
        let content = String(decoding: r.content!, as: UTF8.self)
        #expect(content.hasPrefix("{\n        \"parts\""), "the raw bytes, not a re-encoding")
        #expect(content.contains(#""thoughtSignature": "CiQBVKhc7oWbg3bqkBHfJn1xDq+Y2m2yKk2zU8t5X2Xo1l5a6oo=""#))
    }

    @Test(
        "errors map to stable codes",
        arguments: [
            (429, "error-429.json", ErrorCode.modelThrottled), (503, "error-429.json", .modelThrottled),
            (500, "error-400.json", .modelUnavailable), (400, "error-400.json", .modelError),
            (200, "response-blocked.json", .modelBlocked), (200, "response-max-tokens.json", .modelTruncated),
        ])
    func errors(status: Int, fixture: String, code: ErrorCode) async throws {
        let transport = RecordingTransport([.respond(status, try Self.fixture(fixture))])
        let client = GeminiClient(
            api: .developer(endpoint: AWSEndpoint(scheme: "https", host: "x", isCustom: true), key: "k"), transport: transport)
        await #expect {
            _ = try await client.generate(model: "m", Self.request)
        } throws: { Self.code($0) == code && "\($0)".contains("model m") }
    }

    @Test("an unreachable endpoint is ModelUnavailable")
    func unreachable() async {
        let transport = RecordingTransport([.fail(TransportError("connection refused", sent: false))])
        let client = GeminiClient(
            api: .developer(endpoint: AWSEndpoint(scheme: "https", host: "x", isCustom: true), key: "k"), transport: transport)
        await #expect { _ = try await client.generate(model: "m", Self.request) } throws: { Self.code($0) == .modelUnavailable }
    }

    static let catalog = ModelCatalog(
        models: [
            .init(
                id: "lite", tier: .low, contextTokens: 32_000, maxOutputTokens: 8_000, latencyMillis: 500, inputUSDPerMillion: 0.1,
                outputUSDPerMillion: 0.4, retires: nil),
            .init(
                id: "flash", tier: .medium, contextTokens: 1_000_000, maxOutputTokens: 64_000, latencyMillis: 1500, inputUSDPerMillion: 0.3,
                outputUSDPerMillion: 2.5, retires: nil),
            .init(
                id: "flash-b", tier: .medium, contextTokens: 200_000, maxOutputTokens: 64_000, latencyMillis: 900, inputUSDPerMillion: 0.5,
                outputUSDPerMillion: 3, retires: nil),
            .init(
                id: "pro", tier: .high, contextTokens: 2_000_000, maxOutputTokens: 64_000, latencyMillis: 4000, inputUSDPerMillion: 2,
                outputUSDPerMillion: 12, retires: nil),
            .init(
                id: "old", tier: .low, contextTokens: 1_000_000, maxOutputTokens: 8_000, latencyMillis: 100, inputUSDPerMillion: 0.01,
                outputUSDPerMillion: 0.01, retires: "2026-12-01"),
        ], retired: ["gemini-2.5-flash": "2026-12-01"])

    struct Route: Sendable, CustomStringConvertible {
        let tier: ModelCatalog.Tier
        let tokens: Int
        let budget: Int?
        let pinned: String?
        let expected: [String]
        var description: String { "\(tier) \(tokens) tokens budget \(budget.map(String.init) ?? "-") pinned \(pinned ?? "-")" }
    }

    @Test(
        "routing table: tier, context window, latency budget, pinning; retired models skipped",
        arguments: [
            Route(tier: .low, tokens: 1_000, budget: nil, pinned: nil, expected: ["lite", "flash", "flash-b", "pro"]),
            Route(tier: .medium, tokens: 1_000, budget: nil, pinned: nil, expected: ["flash", "flash-b", "pro"]),
            Route(tier: .low, tokens: 100_000, budget: nil, pinned: nil, expected: ["flash", "flash-b", "pro"]),
            Route(tier: .medium, tokens: 500_000, budget: nil, pinned: nil, expected: ["flash", "pro"]),
            Route(tier: .medium, tokens: 1_000, budget: 1000, pinned: nil, expected: ["flash-b"]),
            Route(tier: .high, tokens: 1_000, budget: 1000, pinned: nil, expected: ["pro"]),
            Route(tier: .high, tokens: 1_000, budget: nil, pinned: "lite", expected: ["lite", "pro"]),
            Route(tier: .high, tokens: 1_500_000, budget: nil, pinned: nil, expected: ["pro"]),
        ])
    func routing(route: Route) throws {
        let router = ModelRouter(catalog: Self.catalog, today: "2026-12-02")
        let decisions = try router.route(
            complexity: route.tier, promptTokens: route.tokens, latencyBudgetMillis: route.budget, pinned: route.pinned)
        #expect(decisions.map(\.model.id) == route.expected)
        #expect(decisions.allSatisfy { $0.estimatedCostUSD > 0 })
    }

    @Test("no fitting model, a retired pin and an unknown pin are errors naming why")
    func routingErrors() {
        let router = ModelRouter(catalog: Self.catalog, today: "2026-12-02")
        #expect { _ = try router.route(promptTokens: 3_000_000) } throws: { "\($0)".contains("fits no model") }
        #expect { _ = try router.route(promptTokens: 10, pinned: "old") } throws: { "\($0)".contains("retired on 2026-12-01") }
        #expect { _ = try router.route(promptTokens: 10, pinned: "gemini-2.5-flash") } throws: { "\($0)".contains("retired on 2026-12-01") }
        #expect { _ = try router.route(promptTokens: 10, pinned: "nope") } throws: { "\($0)".contains("not in MODEL_CATALOG") }
    }

    @Test("start-up warnings name models retired or retiring within 30 days")
    func warnings() {
        #expect(
            Self.catalog.warnings(today: "2026-11-25", soon: "2026-12-25") == [
                "model old retires on 2026-12-01: no successor is set: pinned calls will fail; replace it in MODEL_CATALOG"
            ])
        #expect(
            Self.catalog.warnings(today: "2026-12-01", soon: "2026-12-31") == [
                "model old retired on 2026-12-01: routing skips it; no successor is set: pinned calls will fail"
            ])
        #expect(ModelConfiguration.date(1_795_629_310_000) == "2026-11-25")
    }

    @Test("a throttled model falls back to the next candidate; every candidate throttled is ModelThrottled")
    func fallback() async throws {
        let ok = try Self.fixture("response-text.json")
        let transport = RecordingTransport([.respond(429, try Self.fixture("error-429.json")), .respond(200, ok)])
        let model = RoutedModel(
            router: ModelRouter(catalog: Self.catalog, today: "2026-12-02"),
            client: GeminiClient(
                api: .developer(endpoint: AWSEndpoint(scheme: "https", host: "x", isCustom: true), key: "k"), transport: transport))
        let r = try await model.generate(ModelRequest(nodeID: "n", prompt: "hi", hints: ["complexity": .string("medium")]))
        #expect(r.model == "flash-b" && r.fallbacks == ["flash: Analemma.ModelThrottled, resting 5000 ms"])
        #expect(transport.requests.map(\.path) == ["/v1beta/models/flash:generateContent", "/v1beta/models/flash-b:generateContent"])
        #expect(r.estimatedCostUSD! > 0 && r.thoughtTokens == 40)
        let all = RecordingTransport(Array(repeating: .respond(429, try Self.fixture("error-429.json")), count: 3))
        let throttled = RoutedModel(
            router: ModelRouter(catalog: Self.catalog, today: "2026-12-02"),
            client: GeminiClient(
                api: .developer(endpoint: AWSEndpoint(scheme: "https", host: "x", isCustom: true), key: "k"), transport: all))
        await #expect { _ = try await throttled.generate(ModelRequest(nodeID: "n", prompt: "hi")) } throws: {
            ($0 as? AnalemmaError)?.code == .modelThrottled
        }
        #expect(all.requests.count == 3)
    }

    @Test("usage accumulates per node and in total")
    func usage() throws {
        var m = ModelResponse(text: "", model: "flash", inputTokens: 10, outputTokens: 5)
        m.estimatedCostUSD = 0.5
        let once = try SegmentRunnerService.usage(nil, adding: m, node: "a")
        let twice = try SegmentRunnerService.usage(once, adding: m, node: "b")
        let v = try JSONValue(json: twice)
        #expect(try v.value(at: "total.calls") == .number(2) && v.value(at: "total.input_tokens") == .number(20))
        #expect(try v.value(at: "nodes.a.calls") == .number(1) && v.value(at: "nodes.b.estimated_cost_usd") == .number(0.5))
    }
}

/// A model that answers from a script and records every request (unit tests of exchanges).
final class ScriptedModel: LanguageModel, @unchecked Sendable {
    private let lock = NSLock()
    private var script: [ModelResponse]
    private(set) var requests: [ModelRequest] = []
    init(_ script: [ModelResponse]) { self.script = script }
    func generate(_ request: ModelRequest) async throws -> ModelResponse {
        try lock.withLock {
            requests.append(request)
            guard !script.isEmpty else { throw AnalemmaError(.modelError, "script exhausted") }
            return script.removeFirst()
        }
    }

    static func call(_ name: String, _ args: JSONValue, model: String = "m") -> ModelResponse {
        var r = ModelResponse(text: "", model: model, inputTokens: 10, outputTokens: 2)
        r.functionCalls = [FunctionCall(name: name, args: args)]
        r.content = Data(#"{"role":"model","parts":[{"functionCall":{"name":"\#(name)"}}]}"#.utf8)
        return r
    }
}

@Suite("Tool use")
struct ToolUseTests {
    static let node = WorkflowDefinition.Node(
        id: "r", type: "llm", reads: ["doc"], writes: ["answer"],
        config: ["prompt": .string("go"), "tools": .array([.string("json_extract")]), "max_steps": .number(3)])

    @Test("tool calls run skills over the node's reads, results go back, the exchange stays on one model")
    func exchange() async throws {
        let model = ScriptedModel([
            ScriptedModel.call("json_extract", .object(["from": .string("doc"), "path": .string("title")]), model: "flash"),
            ModelResponse(text: "The title is T.", model: "flash", inputTokens: 20, outputTokens: 5),
        ])
        let out = try await NodeExecutor(model: model).run(Self.node, fields: ["doc": Data(#"{"title":"T"}"#.utf8)])
        #expect(out.updates["answer"] == Data(#""The title is T.""#.utf8))
        #expect(out.toolCalls == [ToolCall(name: "json_extract", args: #"{"from":"doc","path":"title"}"#, ok: true, error: nil)])
        #expect(out.model?.inputTokens == 30, "usage summed over the exchange")
        let second = model.requests[1]
        #expect(second.continuing && second.hints["model"] == .string("flash"))
        #expect(second.turns.count == 3 && second.turns[2] == .toolResults([("json_extract", .object(["result": .string("T")]))]))
        #expect(model.requests[0].tools.map(\.name) == ["json_extract"])
    }

    @Test("a failing tool reports its error to the model; max_steps bounds the exchange")
    func bounded() async throws {
        let bad = ScriptedModel(Array(repeating: ScriptedModel.call("json_extract", .object(["from": .string("nope")])), count: 3))
        await #expect {
            _ = try await NodeExecutor(model: bad).run(Self.node, fields: [:])
        } throws: { "\($0)".contains("still calls tools after max_steps 3") }
        #expect(bad.requests.count == 3)
        guard case .toolResults(let results) = bad.requests[1].turns[2] else {
            Issue.record("no tool results")
            return
        }
        #expect(results[0].response == .object(["result": .null]), "absent field: null, not an error")
    }

    @Test("tools must be registered skills that declare a tool")
    func validation() {
        var node = Self.node
        node.config?["tools"] = .array([.string("fail")])
        let w = WorkflowDefinition(workflowID: "w", entry: "r", nodes: [node], edges: [])
        #expect { try NodeExecutor().check(w) } throws: { "\($0)".contains("\"fail\" cannot be offered as a tool") }
        node.config?["max_steps"] = .number(0)
        #expect { try NodeExecutor().check(WorkflowDefinition(workflowID: "w", entry: "r", nodes: [node], edges: [])) } throws: {
            "\($0)".contains("max_steps must be 1–20")
        }
    }

    @Test("function calls parse from a response; tool results encode as a functionResponse turn")
    func wire() throws {
        let body = Data(
            #"{"candidates":[{"content":{"role":"model","parts":[{"functionCall":{"name":"template","args":{"template":"x"}},"thoughtSignature":"s"}]},"finishReason":"STOP"}]}"#
                .utf8)
        let r = try GeminiWire.Response.parse(body)
        #expect(r.functionCalls == [FunctionCall(name: "template", args: .object(["template": .string("x")]))])
        #expect(String(decoding: r.content!, as: UTF8.self).contains(#""thoughtSignature":"s""#))
        let turn = GeminiWire.Request.turn(.toolResults([("template", .object(["result": .string("y")]))]))
        #expect(
            String(decoding: turn, as: UTF8.self)
                == #"{"parts":[{"functionResponse":{"name":"template","response":{"result":"y"}}}],"role":"user"}"#)
    }
}

@Suite("Co-design assistant")
struct CoDesignTests {
    static let valid =
        #"{"workflow_id":"w","entry":"a","nodes":[{"id":"a","type":"skill","skill":"template","reads":["x"],"writes":["y"],"config":{"template":"{{x}}"}}],"edges":[]}"#
    static let dangling = #"{"workflow_id":"w","entry":"a","nodes":[{"id":"a","type":"route"}],"edges":[{"from":"a","to":"ghost"}]}"#

    static func answer(_ text: String) -> ModelResponse { ModelResponse(text: text, model: "pro", inputTokens: 1, outputTokens: 1) }

    @Test("validation errors go back to the model until the draft is valid, on one model")
    func repairs() async throws {
        let model = ScriptedModel([Self.answer("```json\n\(Self.dangling)\n```"), Self.answer(Self.valid)])
        let outcome = try await CoDesigner(model: model).design("copy x into y")
        #expect(outcome.rounds == 2 && outcome.workflow == Data(Self.valid.utf8))
        guard case .user(let feedback) = model.requests[1].turns.last else {
            Issue.record("no feedback turn")
            return
        }
        #expect(feedback.contains("\"ghost\"") && feedback.contains("refers to an unknown node"))
        #expect(model.requests[1].continuing && model.requests[0].prompt.contains("copy x into y"))
    }

    @Test("repairs are bounded; what is still wrong is reported")
    func bounded() async throws {
        let model = ScriptedModel(Array(repeating: Self.answer(Self.dangling), count: 3))
        let outcome = try await CoDesigner(model: model, maxRepairs: 2).design("anything")
        #expect(outcome.workflow == nil && outcome.rounds == 3 && outcome.problems.first?.contains("ghost") == true)
        #expect(model.requests.count == 3)
    }
}
