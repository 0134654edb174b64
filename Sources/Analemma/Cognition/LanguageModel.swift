#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// A function the model may call: a skill offered as a tool (Gemini function calling).
public struct ToolDeclaration: Sendable, Equatable {
    public var name: String
    public var description: String
    /// JSON Schema (OpenAPI subset) of the arguments object.
    public var parameters: JSONValue

    public init(name: String, description: String, parameters: JSONValue) {
        self.name = name
        self.description = description
        self.parameters = parameters
    }
}

/// A function call the model asked for.
package struct FunctionCall: Sendable, Equatable {
    package var name: String
    package var args: JSONValue
}

/// One turn of a multi-turn exchange.
package enum ModelTurn: Sendable, Equatable {
    case user(String)
    /// A user turn of several parts: media from state fields and text (``UserPart``).
    case parts([UserPart])
    /// The model's own turn, verbatim (thought signatures must go back unchanged).
    case model(Data)
    /// The results of the function calls of the previous model turn, in order.
    case toolResults([(name: String, response: JSONValue)])

    package static func == (a: Self, b: Self) -> Bool {
        switch (a, b) {
        case (.user(let x), .user(let y)): x == y
        case (.parts(let x), .parts(let y)): x == y
        case (.model(let x), .model(let y)): x == y
        case (.toolResults(let x), .toolResults(let y)): x.map(\.name) == y.map(\.name) && x.map(\.response) == y.map(\.response)
        default: false
        }
    }
}

/// One model call as a node asks for it.
package struct ModelRequest: Sendable, Equatable {
    package var nodeID: String
    package var prompt: String
    /// The node's hints (`complexity`, `model`, `max_output_tokens`, …), as written in its config.
    package var hints: [String: JSONValue]
    /// The exchange so far (empty: one user turn with `prompt`).
    package var turns: [ModelTurn] = []
    package var tools: [ToolDeclaration] = []
    /// A later turn of an exchange: stay on the pinned model, no fallback.
    package var continuing = false
    /// The most the call may wait for resting models (the node's `timeout_seconds`); nil: the model's own limit.
    package var waitBudgetMillis: Int64?
    /// The node's stable context (its `context` template rendered), sent as the first turn, before the prompt.
    package var context: String?
    /// How many leading turns belong to the stable prefix (with the system instruction and the tools).
    package var prefixTurns = 0
    /// Cache the stable prefix explicitly for this long when the model offers caching (`cache_ttl_seconds`).
    package var cacheTTLSeconds: Int?
    /// Who may share a cached prefix: the owner (one owner never learns what another has cached).
    package var cacheScope: String?

    package init(nodeID: String, prompt: String, hints: [String: JSONValue] = [:]) {
        self.nodeID = nodeID
        self.prompt = prompt
        self.hints = hints
    }
}

/// What a model answered, with what the glass-box reports about the call.
package struct ModelResponse: Sendable, Equatable {
    package var text: String
    package var model: String
    package var inputTokens: Int
    package var outputTokens: Int
    package var thoughtTokens = 0
    package var cachedTokens = 0
    package var finishReason: String?
    /// Why this model (the router's decision) and the models tried before it.
    package var route: String?
    package var fallbacks: [String] = []
    /// The retired id the node pinned, when its successor answered.
    package var remappedFrom: String?
    /// Time spent waiting for resting models before the answer.
    package var waitedMillis: Int64 = 0
    /// The day (`YYYY-MM-DD`, UTC) whose prices `estimatedCostUSD` uses: the call's.
    package var pricedOn: String?
    /// What explicit caching did for this call (created, reused, skipped and why); nil when the node asks for none.
    package var cache: String?
    package var estimatedCostUSD: Double?
    /// Model calls this answer stands for (a batch map's: every request its job answered).
    package var calls = 1
    /// The batch job that answered (`batches/{id}`), for a batch map.
    package var batchJob: String?
    package var latencyMillis: Int?
    /// The model's turn verbatim (for the next turn of an exchange).
    package var content: Data?
    /// Functions the model asked to call (tool use); empty for a final answer.
    package var functionCalls: [FunctionCall] = []

    package init(text: String, model: String, inputTokens: Int, outputTokens: Int) {
        self.text = text
        self.model = model
        self.inputTokens = inputTokens
        self.outputTokens = outputTokens
    }
}

/// The one method `llm` nodes need. The cognition issue adds the Gemini client and the router behind it.
package protocol LanguageModel: Sendable {
    func generate(_ request: ModelRequest) async throws -> ModelResponse
}

/// A deterministic stand-in (`MODEL_PROVIDER=standin`, the default until a real provider is configured): answers
/// `[standin] <prompt>` so workflows run end to end offline and tests can check what the node sent.
package struct StandInModel: LanguageModel {
    package init() {}

    package func generate(_ request: ModelRequest) async throws -> ModelResponse {
        let text = "[standin] " + request.prompt
        return ModelResponse(
            text: text, model: "standin", inputTokens: (request.prompt.utf8.count + 3) / 4, outputTokens: (text.utf8.count + 3) / 4)
    }
}
