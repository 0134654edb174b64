#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// What one node did.
package struct NodeOutcome: Sendable {
    /// Field updates (raw JSON), all within the node's declared writes.
    package var updates: [String: Data]
    package var attempts: Int
    package var model: ModelResponse?
    /// Skills the model called as tools, in order.
    package var toolCalls: [ToolCall] = []
    /// The rendered prompt of an `llm` node (for the event log; the answer is in `model.text`).
    package var prompt: String?

    package init(updates: [String: Data], attempts: Int, model: ModelResponse? = nil) {
        self.updates = updates
        self.attempts = attempts
        self.model = model
    }
}

/// One function call an `llm` node ran for the model.
package struct ToolCall: Codable, Sendable, Equatable {
    package var name: String
    /// The arguments, compact JSON (cut to 1 KB).
    package var args: String
    package var ok: Bool
    package var error: String?
}

/// Runs one node (its ``NodeKind``) over hydrated fields, enforcing its declared writes and its
/// `timeout_seconds`, and retrying it `retry.max_attempts` more times when it fails for a reason a retry can fix.
package struct NodeExecutor: Sendable {
    package let skills: SkillRegistry
    package let model: any LanguageModel
    /// The node types this executor runs and checks.
    package let kinds: NodeKinds

    package init(skills: SkillRegistry = .standard, model: any LanguageModel = StandInModel(), kinds: NodeKinds = .standard) {
        self.skills = skills
        self.model = model
        self.kinds = kinds
    }

    /// Checks what only the runner knows (node types and skills exist and accept their config, templates read
    /// declared fields) before any state is written. Each problem names its node.
    package func check(_ workflow: WorkflowDefinition) throws {
        try WorkflowValidator.validate(workflow, kinds: kinds)
        for node in workflow.nodes {
            let kind = try kinds.kind(of: node)
            try Self.checkConfigKeys(node, known: kind.configKeys)
            try kind.check(node, executor: self)
        }
    }

    /// Runs `node` with `fields` (its hydrated reads); `healInstruction` is injected when self-healing retries it
    /// (appended to an `llm` prompt, handed to a skill as ``SkillInput/healInstruction``).
    package func run(
        _ node: WorkflowDefinition.Node, fields: [String: Data], healInstruction: String? = nil, owner: String? = nil
    ) async throws -> NodeOutcome {
        var scoped = SkillInput(
            nodeID: node.id, config: node.config ?? [:], fields: fields, writes: node.writes ?? [], healInstruction: healInstruction)
        scoped.owner = owner
        let input = scoped
        let attempts = 1 + (node.retry?.maxAttempts ?? 0)
        var attempt = 0
        while true {
            attempt += 1
            do {
                let kind = try kinds.kind(of: node)
                var outcome = try await Self.within(node.timeoutSeconds, node: node) { try await kind.run(node, input, executor: self) }
                outcome.attempts = attempt
                try checkWrites(outcome.updates, node: node)
                return outcome
            } catch let e as AnalemmaError where Self.notRetriedHere.contains(e.code) {
                throw e
            } catch {
                if attempt >= attempts { throw Self.coded(error, node: node, attempts: attempt) }
            }
        }
    }

    /// Errors a node retry cannot fix (bad definitions, refused writes, blocked prompts) and model outages the
    /// router already fell back on and the state machine retries with backoff.
    static let notRetriedHere: Set<ErrorCode> = [
        .invalidWorkflow, .protectedField, .invalidState, .forgedPointer, .modelBlocked, .modelError, .modelThrottled, .modelUnavailable,
    ]

    /// The skills an `llm` node offers as tools (`config.tools`) and its step limit (`config.max_steps`, default 5).
    func tools(of node: WorkflowDefinition.Node) throws -> (skills: [any Skill], maxSteps: Int) {
        func bad(_ why: String) -> AnalemmaError { AnalemmaError(.invalidWorkflow, "node \(node.id.debugDescription): \(why)") }
        var maxSteps = 5
        if let steps = node.config?["max_steps"] {
            guard case .number(let n) = steps, n == n.rounded(), (1...20).contains(n) else { throw bad("config.max_steps must be 1–20") }
            maxSteps = Int(n)
        }
        guard let list = node.config?["tools"] else { return ([], maxSteps) }
        guard case .array(let names) = list else { throw bad("config.tools must be a list of skill names") }
        let skills = try names.map { name -> any Skill in
            guard case .string(let n) = name else { throw bad("config.tools must be a list of skill names") }
            let skill = try self.skills.skill(n, node: node.id)
            guard skill.tool != nil else { throw bad("skill \(n.debugDescription) cannot be offered as a tool (it declares no tool)") }
            return skill
        }
        return (skills, maxSteps)
    }

    /// An `llm` node's call as the model gets it (tools aside): its prompt rendered over `input`, the heal
    /// instruction appended, the stable prefix (system, context) first, its hints.
    package func modelRequest(_ node: WorkflowDefinition.Node, _ input: SkillInput) throws -> ModelRequest {
        var prompt = try Template(input.string("prompt")).render(input.fields)
        if let fix = input.healInstruction { prompt += "\n\nA previous attempt failed. Fix instruction: \(fix)" }
        var request = ModelRequest(
            nodeID: node.id, prompt: prompt,
            hints: input.config.filter {
                !["prompt", "tools", "max_steps", "into", "context", "cache_ttl_seconds", "parts"].contains($0.key)
            })
        // the stable prefix first (system, context, tools), the varying prompt after it: what caching reuses
        if case .string(let context)? = input.config["context"] {
            request.context = try Template(context).render(input.fields)
        }
        request.turns = (request.context.map { [ModelTurn.user($0)] } ?? []) + [try LLMNode.turn(node, input, prompt: prompt)]
        request.prefixTurns = request.context == nil ? 0 : 1
        request.cacheScope = input.owner
        if case .number(let ttl)? = input.config["cache_ttl_seconds"] { request.cacheTTLSeconds = Bounded.integer(ttl, in: 300...604_800) }
        request.waitBudgetMillis = node.timeoutSeconds.map { Int64($0) * 1000 }
        return request
    }

    /// An `llm` node: one call, or a bounded exchange where the model calls the node's tools (skills over the node's
    /// reads) and gets their results back, on one model throughout. The final text goes into the node's target.
    func converse(_ node: WorkflowDefinition.Node, _ input: SkillInput) async throws -> NodeOutcome {
        var request = try modelRequest(node, input)
        let prompt = request.prompt
        let (tools, maxSteps) = try self.tools(of: node)
        request.tools = tools.compactMap(\.tool)
        var total: ModelResponse?
        var calls: [ToolCall] = []
        for step in 1...maxSteps {
            let r = try await model.generate(request)
            total = total.map { Self.sum($0, r) } ?? r
            if r.functionCalls.isEmpty {
                let answer = try Self.answer(r, schema: input.config["response_schema"], node: node)
                var outcome = NodeOutcome(updates: [try input.target(): answer.jsonData()], attempts: 1, model: total)
                outcome.toolCalls = calls
                outcome.prompt = prompt
                return outcome
            }
            guard step < maxSteps else { break }
            request.turns.append(.model(r.content ?? Data("{}".utf8)))
            var results: [(name: String, response: JSONValue)] = []
            for call in r.functionCalls {
                let args = String(String(decoding: call.args.jsonData(), as: UTF8.self).prefix(1024))
                do {
                    guard let skill = tools.first(where: { $0.name == call.name }), case .object(var config) = call.args else {
                        throw AnalemmaError(.skillFailed, "no tool \(call.name.debugDescription) with object arguments")
                    }
                    config["into"] = .string("result")
                    let toolInput = SkillInput(nodeID: "\(node.id)/\(call.name)", config: config, fields: input.fields, writes: ["result"])
                    let out = try await skill.run(toolInput)
                    results.append((call.name, .object(["result": try out["result"].map { try JSONValue(json: $0) } ?? .null])))
                    calls.append(ToolCall(name: call.name, args: args, ok: true, error: nil))
                } catch {
                    let message = (error as? AnalemmaError)?.message ?? "\(error)"
                    results.append((call.name, .object(["error": .string(message)])))
                    calls.append(ToolCall(name: call.name, args: args, ok: false, error: String(message.prefix(512))))
                }
            }
            request.turns.append(.toolResults(results))
            request.hints["model"] = .string(r.model)  // the rest of the exchange stays on this model
            request.continuing = true
        }
        throw AnalemmaError(.skillFailed, "node \(node.id.debugDescription): the model still calls tools after max_steps \(maxSteps)")
    }

    /// The value an answer writes: its text; for a node with a `response_schema`, the JSON it holds, once it
    /// conforms (else `Analemma.ModelNonConforming`, which heals like any failed node).
    static func answer(_ r: ModelResponse, schema: JSONValue?, node: WorkflowDefinition.Node) throws -> JSONValue {
        guard let schema else { return .string(r.text) }
        func refuse(_ why: String) -> AnalemmaError {
            AnalemmaError(
                .modelNonConforming,
                "node \(node.id.debugDescription): model \(r.model)'s answer does not conform to response_schema: \(why)")
        }
        guard let value = try? JSONValue(json: Data(r.text.utf8)) else {
            throw refuse("not JSON (\(String(r.text.prefix(80)).debugDescription))")
        }
        if let why = ResponseSchema.violation(of: schema, by: value) { throw refuse(why) }
        return value
    }

    /// Usage of an exchange: tokens and cost summed, the last turn's text and calls.
    static func sum(_ a: ModelResponse, _ b: ModelResponse) -> ModelResponse {
        var s = b
        s.inputTokens += a.inputTokens
        s.outputTokens += a.outputTokens
        s.thoughtTokens += a.thoughtTokens
        s.cachedTokens += a.cachedTokens
        s.estimatedCostUSD = (a.estimatedCostUSD ?? 0) + (b.estimatedCostUSD ?? 0)
        s.latencyMillis = (a.latencyMillis ?? 0) + (b.latencyMillis ?? 0)
        s.route = a.route
        s.fallbacks = a.fallbacks + b.fallbacks
        s.remappedFrom = a.remappedFrom ?? b.remappedFrom
        s.waitedMillis = a.waitedMillis + b.waitedMillis
        let notes = [a.cache, b.cache].compactMap { $0 }
        s.cache = notes.isEmpty ? nil : notes.joined(separator: "; ")
        return s
    }

    /// Runs `body`, failing with `Analemma.SkillFailed` (retryable) if it takes longer than `seconds`.
    static func within(
        _ seconds: Int?, node: WorkflowDefinition.Node, _ body: @escaping @Sendable () async throws -> NodeOutcome
    ) async throws -> NodeOutcome {
        guard let seconds else { return try await body() }
        return try await withThrowingTaskGroup(of: NodeOutcome?.self) { group in
            group.addTask { try await body() }
            group.addTask {
                try await Task.sleep(for: .seconds(seconds))
                return nil
            }
            defer { group.cancelAll() }
            guard let first = try await group.next(), let outcome = first else {
                throw AnalemmaError(.skillFailed, "node \(node.id.debugDescription) timed out after \(seconds) s (timeout_seconds)")
            }
            return outcome
        }
    }

    /// A node's updates: valid JSON, no protected field (both as ``StateBag/merge(_:from:)`` checks every update),
    /// only its declared writes.
    func checkWrites(_ updates: [String: Data], node: WorkflowDefinition.Node) throws {
        var checked = StateBag()
        try checked.merge(updates, from: .node(node.id))
        let declared = Set(node.writes ?? [])
        if let field = updates.keys.sorted().first(where: { !declared.contains($0) }) {
            throw AnalemmaError(
                .invalidState, "node \(node.id.debugDescription) wrote \(field.debugDescription), which it does not declare in writes")
        }
    }

    static func coded(_ error: any Error, node: WorkflowDefinition.Node, attempts: Int) -> any Error {
        let tries = attempts > 1 ? " (after \(attempts) attempts)" : ""
        if let e = error as? AnalemmaError { return AnalemmaError(e.code, e.message + tries) }
        if error is any CodedError || error is AWSError || error is TransportError || error is AmbiguousFailure { return error }
        let what = node.skill.map { "skill \($0.debugDescription)" } ?? node.type
        return AnalemmaError(.skillFailed, "node \(node.id.debugDescription) (\(what)) failed\(tries): \(error)")
    }
}
