/// `llm`: one model call, or a bounded tool-calling exchange (``NodeExecutor/converse(_:_:)``); a segment of its own.
package struct LLMNode: NodeKind {
    package let name = "llm"
    package let guide = "config.prompt with {{field}} placeholders of declared reads; one write receives the answer"
    package let place = NodePlace.own
    package let callsModel = true
    package var configKeys: Set<String>? {
        [
            "prompt", "into", "tools", "max_steps", "complexity", "model", "system", "max_output_tokens", "latency_budget_ms",
            "temperature", "top_p", "stop_sequences", "response_mime_type", "response_schema", "thinking_level", "thinking_budget",
            "context", "cache_ttl_seconds", "parts", "media_inline_max_bytes",
        ]
    }
    package var schema: JSONValue {
        guard case .object(var rule) = NodeKinds.configRule(configKeys, required: ["prompt"]) else { return .null }
        rule["required"] = .array([.string("config"), .string("writes")])
        return .object(rule)
    }

    package init() {}

    package func check(_ node: WorkflowDefinition.Node, executor: NodeExecutor) throws {
        try NodeExecutor.checkLLMNumbers(node)
        guard case .string(let prompt)? = node.config?["prompt"] else {
            throw AnalemmaError(.invalidWorkflow, "node \(node.id.debugDescription): llm node needs config.prompt (a string)")
        }
        try Template.check(prompt, key: "prompt", node: node)
        try Self.checkParts(node)
        if let context = node.config?["context"] {
            guard case .string(let text) = context else {
                throw AnalemmaError(.invalidWorkflow, "node \(node.id.debugDescription): config.context must be a string template")
            }
            try Template.check(text, key: "context", node: node)
        }
        func bad(_ why: String) -> AnalemmaError { AnalemmaError(.invalidWorkflow, "node \(node.id.debugDescription): config.\(why)") }
        if let schema = node.config?["response_schema"] {
            do { try ResponseSchema.check(schema) } catch let e as AnalemmaError { throw bad(e.message) }
            if let mime = node.config?["response_mime_type"], !ResponseSchema.mimeTypes.contains(mime) {
                throw bad("response_mime_type must be application/json or text/x.enum with a response_schema")
            }
        }
        if let level = node.config?["thinking_level"] {
            guard case .string(let name) = level, ModelHints.thinkingLevels.contains(name.uppercased()) else {
                throw bad("thinking_level must be one of \(ModelHints.thinkingLevels.sorted().joined(separator: ", ")) (any case)")
            }
        }
        _ = try SkillInput(nodeID: node.id, config: node.config ?? [:], fields: [:], writes: node.writes ?? []).target()
        _ = try executor.tools(of: node)
    }

    package func run(_ node: WorkflowDefinition.Node, _ input: SkillInput, executor: NodeExecutor) async throws -> NodeOutcome {
        try await executor.converse(node, input)
    }
}
