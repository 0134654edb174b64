#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// `generateContent` over HTTPS: the Gemini Developer API (`x-goog-api-key`) or Vertex AI (bearer token).
/// Errors map to stable codes: 429 / `RESOURCE_EXHAUSTED` → `ModelThrottled`, 5xx or transport → `ModelUnavailable`,
/// other 4xx → `ModelError`, a blocked prompt or answer → `ModelBlocked`, `MAX_TOKENS` → `ModelTruncated`.
package struct GeminiClient: Sendable {
    package enum API: Sendable, Equatable {
        /// `POST {endpoint}/v1beta/models/{model}:generateContent` with `x-goog-api-key`.
        case developer(endpoint: AWSEndpoint, key: String)
        /// `POST {endpoint}/v1/projects/{project}/locations/{location}/publishers/google/models/{model}:generateContent`
        /// with `Authorization: Bearer`.
        case vertex(endpoint: AWSEndpoint, project: String, location: String, token: String)
    }

    package let api: API
    package let transport: any HTTPTransport
    package let timeout: Duration

    package init(api: API, transport: any HTTPTransport = SocketTransport(), timeout: Duration = .seconds(120)) {
        self.api = api
        self.transport = transport
        self.timeout = timeout
    }

    /// The HTTP request for `model` (exact bytes: what the fixture tests compare).
    package func httpRequest(model: String, _ request: GeminiWire.Request) -> HTTPRequest {
        let endpoint: AWSEndpoint
        let path: String
        var headers: [(String, String)] = [("Content-Type", "application/json")]
        switch api {
        case .developer(let e, let key):
            endpoint = e
            path = "/v1beta/models/\(URIEncoding.encode(model)):generateContent"
            headers.append(("x-goog-api-key", key))
        case .vertex(let e, let project, let location, let token):
            endpoint = e
            path =
                "/v1/projects/\(URIEncoding.encode(project))/locations/\(URIEncoding.encode(location))/publishers/google/models/"
                + "\(URIEncoding.encode(model)):generateContent"
            headers.append(("Authorization", "Bearer \(token)"))
        }
        return HTTPRequest(
            method: "POST", scheme: endpoint.scheme, host: endpoint.host, port: endpoint.port, path: path, headers: headers,
            body: request.body())
    }

    /// One call to `model`.
    package func generate(model: String, _ request: GeminiWire.Request) async throws -> GeminiWire.Response {
        let response: HTTPResponse
        do { response = try await transport.send(httpRequest(model: model, request), timeout: timeout) } catch let e as TransportError {
            throw AnalemmaError(.modelUnavailable, "model \(model): \(e)")
        }
        guard response.status == 200 else {
            let (status, message) = GeminiWire.errorStatus(response.body)
            let detail =
                "model \(model): HTTP \(response.status) \(status ?? "") \(message ?? String(decoding: response.body.prefix(300), as: UTF8.self))"
            if response.status == 429 || status == "RESOURCE_EXHAUSTED" { throw AnalemmaError(.modelThrottled, detail) }
            if response.status >= 500 { throw AnalemmaError(.modelUnavailable, detail) }
            throw AnalemmaError(.modelError, detail)
        }
        let parsed = try GeminiWire.Response.parse(response.body)
        if let block = parsed.blockReason { throw AnalemmaError(.modelBlocked, "model \(model) blocked the prompt: \(block)") }
        switch parsed.finishReason {
        case "SAFETY"?, "RECITATION"?, "BLOCKLIST"?, "PROHIBITED_CONTENT"?, "SPII"?, "IMAGE_SAFETY"?:
            throw AnalemmaError(.modelBlocked, "model \(model) stopped: \(parsed.finishReason!)")
        case "MAX_TOKENS"?:
            throw AnalemmaError(.modelTruncated, "model \(model) hit maxOutputTokens after \(parsed.outputTokens) tokens")
        default:
            guard parsed.content != nil else { throw AnalemmaError(.modelError, "model \(model) returned no candidate") }
            return parsed
        }
    }
}

/// `llm` nodes through the router and a Gemini client: the router's candidates in order, falling back to the next
/// on throttling or unavailability (a fresh call each, never mid-conversation).
package struct RoutedModel: LanguageModel {
    package let router: ModelRouter
    package let client: GeminiClient
    package let clock: any WallClock

    package init(router: ModelRouter, client: GeminiClient, clock: any WallClock = SystemWallClock()) {
        self.router = router
        self.client = client
        self.clock = clock
    }

    package func generate(_ request: ModelRequest) async throws -> ModelResponse {
        let hints = request.hints
        func int(_ key: String) -> Int? {
            if case .number(let n)? = hints[key] { return Bounded.integer(n, in: 0...Int(Int32.max)) } else { return nil }
        }
        func string(_ key: String) -> String? { if case .string(let s)? = hints[key] { return s } else { return nil } }
        let tier =
            try string("complexity").map { c in
                guard let t = ModelCatalog.Tier(rawValue: c) else {
                    throw AnalemmaError(.invalidWorkflow, "node \(request.nodeID.debugDescription): complexity must be low, medium or high")
                }
                return t
            } ?? .medium
        let system = string("system")
        let promptTokens = ModelRouter.estimateTokens(request.prompt + (system ?? ""))
        var decisions = try router.route(
            complexity: tier, promptTokens: promptTokens, maxOutputTokens: int("max_output_tokens"),
            latencyBudgetMillis: int("latency_budget_ms"), pinned: string("model"))
        if request.continuing { decisions = Array(decisions.prefix(1)) }  // never switch model mid-exchange
        let turns = request.turns.isEmpty ? [ModelTurn.user(request.prompt)] : request.turns
        let wire = GeminiWire.Request(
            contents: turns.map(GeminiWire.Request.turn), systemInstruction: system, generationConfig: Self.config(hints),
            tools: GeminiWire.Request.tools(request.tools))
        var tried: [String] = []
        var last: (any Error)?
        for decision in decisions {
            let started = clock.nowMillis()
            do {
                let r = try await client.generate(model: decision.model.id, wire)
                var out = ModelResponse(text: r.text, model: decision.model.id, inputTokens: r.promptTokens, outputTokens: r.outputTokens)
                out.thoughtTokens = r.thoughtTokens
                out.cachedTokens = r.cachedTokens
                out.finishReason = r.finishReason
                out.route = decision.reason
                out.fallbacks = tried
                out.estimatedCostUSD = decision.model.estimatedCost(
                    inputTokens: r.promptTokens, outputTokens: r.outputTokens + r.thoughtTokens)
                out.latencyMillis = Int(clock.nowMillis() - started)
                out.content = r.content
                out.functionCalls = r.functionCalls
                return out
            } catch let e as AnalemmaError where e.code == .modelThrottled || e.code == .modelUnavailable {
                tried.append("\(decision.model.id): \(e.code.rawValue)")
                last = e
            }
        }
        throw last ?? AnalemmaError(.modelUnavailable, "no model to call")
    }

    /// `generationConfig` from node hints (snake_case in workflows, camelCase on the wire).
    static func config(_ hints: [String: JSONValue]) -> [String: JSONValue] {
        var config: [String: JSONValue] = [:]
        let names = [
            ("temperature", "temperature"), ("top_p", "topP"), ("max_output_tokens", "maxOutputTokens"),
            ("response_mime_type", "responseMimeType"), ("response_schema", "responseSchema"), ("stop_sequences", "stopSequences"),
        ]
        for (hint, wire) in names { if let v = hints[hint] { config[wire] = v } }
        var thinking: [String: JSONValue] = [:]
        if let level = hints["thinking_level"] { thinking["thinkingLevel"] = level }
        if let budget = hints["thinking_budget"] { thinking["thinkingBudget"] = budget }
        if !thinking.isEmpty { config["thinkingConfig"] = .object(thinking) }
        return config
    }
}
