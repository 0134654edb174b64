/// One model call as a node asks for it.
public struct ModelRequest: Sendable, Equatable {
    public var nodeID: String
    public var prompt: String
    /// The node's hints (`complexity`, `model`, `max_output_tokens`, …), as written in its config.
    public var hints: [String: JSONValue]

    public init(nodeID: String, prompt: String, hints: [String: JSONValue] = [:]) {
        self.nodeID = nodeID
        self.prompt = prompt
        self.hints = hints
    }
}

/// What a model answered, with what the glass-box reports about the call.
public struct ModelResponse: Sendable, Equatable {
    public var text: String
    public var model: String
    public var inputTokens: Int
    public var outputTokens: Int
    public var thoughtTokens = 0
    public var cachedTokens = 0
    public var finishReason: String?
    /// Why this model (the router's decision) and the models tried before it.
    public var route: String?
    public var fallbacks: [String] = []
    public var estimatedCostUSD: Double?
    public var latencyMillis: Int?

    public init(text: String, model: String, inputTokens: Int, outputTokens: Int) {
        self.text = text
        self.model = model
        self.inputTokens = inputTokens
        self.outputTokens = outputTokens
    }
}

/// The one method `llm` nodes need. The cognition issue adds the Gemini client and the router behind it.
public protocol LanguageModel: Sendable {
    func generate(_ request: ModelRequest) async throws -> ModelResponse
}

/// A deterministic stand-in (`MODEL_PROVIDER=standin`, the default until a real provider is configured): answers
/// `[standin] <prompt>` so workflows run end to end offline and tests can check what the node sent.
public struct StandInModel: LanguageModel {
    public init() {}

    public func generate(_ request: ModelRequest) async throws -> ModelResponse {
        let text = "[standin] " + request.prompt
        return ModelResponse(
            text: text, model: "standin", inputTokens: (request.prompt.utf8.count + 3) / 4, outputTokens: (text.utf8.count + 3) / 4)
    }
}
