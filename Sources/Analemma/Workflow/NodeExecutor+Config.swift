/// What each node type's `config` may hold: every key is known (a typo such as `temprature` is an error, never a
/// silently ignored setting) and every number is inside its documented bounds.
extension NodeExecutor {
    /// Bounds of an `llm` node's numeric settings (Gemini's documented ranges; the latency budget at most an hour).
    /// https://ai.google.dev/api/generate-content#generationconfig
    static let llmIntegers: [(String, ClosedRange<Int>)] = [
        ("max_output_tokens", 1...65_536), ("latency_budget_ms", 1...3_600_000), ("thinking_budget", -1...32_768),
        ("cache_ttl_seconds", 300...604_800), ("media_inline_max_bytes", 0...MediaPlacement.inlineMaxBytes),
    ]
    static let llmNumbers: [(String, ClosedRange<Double>)] = [("temperature", 0...2), ("top_p", 0...1)]

    /// Unknown config keys of `node` are an `InvalidWorkflow` naming the key and the known ones.
    static func checkConfigKeys(_ node: WorkflowDefinition.Node, known: Set<String>?) throws {
        guard let known, let config = node.config else { return }
        if let unknown = config.keys.sorted().first(where: { !known.contains($0) }) {
            let list = known.isEmpty ? "none" : known.sorted().joined(separator: ", ")
            throw AnalemmaError(
                .invalidWorkflow,
                "node \(node.id.debugDescription): unknown config key \(unknown.debugDescription) for a \(node.type) node (known: \(list))")
        }
    }

    /// An `llm` node's numbers: integers where the wire wants integers, each inside its bounds.
    static func checkLLMNumbers(_ node: WorkflowDefinition.Node) throws {
        for (key, range) in llmIntegers { _ = try Bounded.integer(node.config, key, in: range, node: node.id) }
        for (key, range) in llmNumbers { _ = try Bounded.number(node.config, key, in: range, node: node.id) }
    }
}
