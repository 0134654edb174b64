#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// What one node did.
public struct NodeOutcome: Sendable {
    /// Field updates (raw JSON), all within the node's declared writes.
    public var updates: [String: Data]
    public var attempts: Int
    public var model: ModelResponse?
}

/// Runs one `skill`, `llm` or `route` node over hydrated fields, enforcing its declared writes and its
/// `timeout_seconds`, and retrying it `retry.max_attempts` more times when it fails for a reason a retry can fix.
public struct NodeExecutor: Sendable {
    public let skills: SkillRegistry
    public let model: any LanguageModel

    public init(skills: SkillRegistry = .standard, model: any LanguageModel = StandInModel()) {
        self.skills = skills
        self.model = model
    }

    /// Checks what only the runner knows (skills exist and accept their config, templates read declared fields)
    /// before any state is written. Each problem names its node.
    public func check(_ workflow: WorkflowDefinition) throws {
        try WorkflowValidator.validate(workflow)
        for node in workflow.nodes {
            switch node.type {
            case "skill": try skills.skill(node.skill ?? "", node: node.id).validate(node: node)
            case "llm":
                guard case .string(let prompt)? = node.config?["prompt"] else {
                    throw AnalemmaError(.invalidWorkflow, "node \(node.id.debugDescription): llm node needs config.prompt (a string)")
                }
                try Template.check(prompt, key: "prompt", node: node)
                let input = SkillInput(nodeID: node.id, config: node.config ?? [:], fields: [:], writes: node.writes ?? [])
                _ = try input.target()
            case "hitp":
                if case .string(let question)? = node.config?["question"] { try Template.check(question, key: "question", node: node) }
                if (node.writes ?? []).isEmpty {
                    throw AnalemmaError(
                        .invalidWorkflow, "node \(node.id.debugDescription): hitp node declares no writes (what may the human set?)")
                }
            case "map":
                throw AnalemmaError(
                    .invalidWorkflow, "node \(node.id.debugDescription): map fan-out needs the distributed executor, not in this build yet")
            default: break
            }
        }
    }

    /// Runs `node` with `fields` (its hydrated reads); `healInstruction` is injected when self-healing retries it
    /// (appended to an `llm` prompt, handed to a skill as ``SkillInput/healInstruction``).
    public func run(_ node: WorkflowDefinition.Node, fields: [String: Data], healInstruction: String? = nil) async throws -> NodeOutcome {
        let input = SkillInput(
            nodeID: node.id, config: node.config ?? [:], fields: fields, writes: node.writes ?? [], healInstruction: healInstruction)
        let attempts = 1 + (node.retry?.maxAttempts ?? 0)
        var attempt = 0
        while true {
            attempt += 1
            do {
                var outcome = try await Self.within(node.type == "hitp" ? nil : node.timeoutSeconds, node: node) {
                    try await once(node, input)
                }
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

    func once(_ node: WorkflowDefinition.Node, _ input: SkillInput) async throws -> NodeOutcome {
        switch node.type {
        case "skill":
            let updates = try await skills.skill(node.skill ?? "", node: node.id).run(input)
            return NodeOutcome(updates: updates, attempts: 1)
        case "llm":
            var prompt = try Template(input.string("prompt")).render(input.fields)
            if let fix = input.healInstruction { prompt += "\n\nA previous attempt failed. Fix instruction: \(fix)" }
            var hints = input.config
            hints["prompt"] = nil
            let response = try await model.generate(ModelRequest(nodeID: node.id, prompt: prompt, hints: hints))
            return NodeOutcome(updates: [try input.target(): JSONValue.string(response.text).jsonData()], attempts: 1, model: response)
        default:  // route: decides through its edges only
            return NodeOutcome(updates: [:], attempts: 1)
        }
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

    func checkWrites(_ updates: [String: Data], node: WorkflowDefinition.Node) throws {
        if let field = updates.keys.sorted().first(where: StateBag.protectedFields.contains) {
            throw AnalemmaError(
                .protectedField, "node \(node.id.debugDescription) tried to set kernel-protected field \(field.debugDescription)")
        }
        let declared = Set(node.writes ?? [])
        if let field = updates.keys.sorted().first(where: { !declared.contains($0) }) {
            throw AnalemmaError(
                .invalidState, "node \(node.id.debugDescription) wrote \(field.debugDescription), which it does not declare in writes")
        }
        for (name, value) in updates.sorted(by: { $0.key < $1.key }) {
            do { try JSONScanner.validate(value) } catch {
                throw AnalemmaError(
                    .invalidState, "node \(node.id.debugDescription) wrote invalid JSON into \(name.debugDescription): \(error)")
            }
        }
    }

    static func coded(_ error: any Error, node: WorkflowDefinition.Node, attempts: Int) -> any Error {
        let tries = attempts > 1 ? " (after \(attempts) attempts)" : ""
        if let e = error as? AnalemmaError { return AnalemmaError(e.code, e.message + tries) }
        if error is any CodedError || error is AWSError || error is TransportError || error is AmbiguousFailure { return error }
        let what = node.type == "skill" ? "skill \((node.skill ?? "").debugDescription)" : node.type
        return AnalemmaError(.skillFailed, "node \(node.id.debugDescription) (\(what)) failed\(tries): \(error)")
    }
}
