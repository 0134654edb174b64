#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// The co-design assistant (user space): a plain-language description in, a workflow definition out. The model
/// drafts JSON; the orchestrator's own checks validate it; their errors go back to the model for a bounded number of
/// repairs, in one exchange on one model.
package struct CoDesigner: Sendable {
    package struct Outcome: Sendable {
        /// The valid definition's JSON, when one was reached.
        package var workflow: Data?
        /// Model turns used (1 = valid at the first draft).
        package var rounds: Int
        /// What was still wrong with the last draft, when none was valid.
        package var problems: [String]
        package var model: String?
    }

    package let model: any LanguageModel
    package let executor: NodeExecutor
    package let maxRepairs: Int

    package init(model: any LanguageModel, executor: NodeExecutor = NodeExecutor(), maxRepairs: Int = 3) {
        self.model = model
        self.executor = executor
        self.maxRepairs = maxRepairs
    }

    package func design(_ description: String) async throws -> Outcome {
        let prompt = Self.instructions(executor) + "\n\nThe workflow to design:\n" + description
        var request = ModelRequest(
            nodeID: "codesign", prompt: prompt,
            hints: ["complexity": .string("high"), "response_mime_type": .string("application/json"), "temperature": .number(0.2)])
        request.turns = [.user(prompt)]
        var problems: [String] = []
        var used: String?
        for round in 1...(maxRepairs + 1) {
            let answer = try await model.generate(request)
            used = answer.model
            let draft = Data(Self.stripFences(answer.text).utf8)
            do {
                let definition = try WorkflowDefinition.decode(draft)
                try executor.check(definition)
                return Outcome(workflow: draft, rounds: round, problems: [], model: used)
            } catch let e as AnalemmaError {
                problems = [e.message]
            }
            request.turns.append(.model(answer.content ?? GeminiWire.Request.userTurn(answer.text)))
            request.turns.append(
                .user("That workflow is invalid: \(problems.joined(separator: "; ")). Return the corrected complete JSON document only."))
            request.hints["model"] = .string(answer.model)
            request.continuing = true
        }
        return Outcome(workflow: nil, rounds: maxRepairs + 1, problems: problems, model: used)
    }

    /// Text inside a ```json fence, if the model added one.
    static func stripFences(_ text: String) -> String {
        guard let open = text.firstRange(of: "```") else { return text }
        let afterOpen = text[open.upperBound...]
        let body = afterOpen.drop { $0 != "\n" }
        guard let close = body.firstRange(of: "```") else { return String(body) }
        return String(body[..<close.lowerBound])
    }

    /// The format, as the model needs it.
    static func instructions(_ executor: NodeExecutor) -> String {
        let kinds = executor.kinds.all.map { "\($0.name.debugDescription) (\($0.guide))" }.joined(separator: ", ")
        return """
            You design workflows for Analemma. Answer with one JSON document only:
            {"workflow_id": "kebab-case-id", "entry": "<first node id>", "outputs": ["<fields returned at the end>"],
             "nodes": [{"id", "type", "reads": [fields], "writes": [fields], "config": {…}, "skill"?, "timeout_seconds"?}],
             "edges": [{"from", "to", "when"?: {"field", "equals"} , "max_traversals"?}]}
            Node types: \(kinds). Every node must be reachable from the entry; every cycle needs
            "max_traversals" on one of its edges; templates may only use fields the node reads.
            Skills: \(executor.skills.names.joined(separator: ", ")). template: config.template; json_transform: config.value with
            "$.field.path" references; json_extract: config.from, config.path.
            Never write these kernel fields: \(StateBag.protectedFields.sorted().joined(separator: ", ")).
            """
    }
}
