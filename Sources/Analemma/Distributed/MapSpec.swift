#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// A `map` node's configuration: which field holds the items, the sub-workflow each item runs through, how items
/// are cut into chunks and how many failed chunks are tolerated.
package struct MapSpec: Sendable {
    /// The state field holding the JSON array of items (one of the node's reads).
    package var items: String
    /// The field name each item gets inside the sub-workflow (default `item`).
    package var itemField: String
    /// The per-item sub-workflow (`skill`, `llm`, `route` nodes; no `hitp`, no nested `map`).
    package var workflow: WorkflowDefinition
    /// Items per chunk; nil: the chunking rule (``DistributedChunkService/chunkSize(items:maxConcurrency:)``).
    package var chunkSize: Int?
    package var maxConcurrency: Int
    /// Percentage of chunks that may fail before the map fails (0–100).
    package var toleratedFailurePercentage: Double
    /// How many chunks may fail before the map fails; nil: no count limit. With both, exceeding either fails the map
    /// (as Step Functions does).
    package var toleratedFailureCount: Int?
    /// The node's single write: where the map's statistics and result pointers go.
    package var target: String
    /// Up to this many chunks the map runs inline in its segment; above, on a Step Functions Distributed Map
    /// (default 300, the seed's switch-over point).
    package var inlineMaxChunks: Int
    /// Items go to the model as one Batch API job (half price, answered within hours) instead of one call each; the
    /// state machine polls it every `batch_poll_seconds` at first, less often as it runs (``MapBatch``).
    package var batch: Bool
    package var batchPollSeconds: Int

    /// Parses and checks a map node's config; every problem names the node.
    package init(node: WorkflowDefinition.Node, executor: NodeExecutor) throws {
        func bad(_ why: String) -> AnalemmaError { AnalemmaError(.invalidWorkflow, "node \(node.id.debugDescription): \(why)") }
        let config = node.config ?? [:]
        guard case .string(let items)? = config["items"], (node.reads ?? []).contains(items) else {
            throw bad("map needs config.items naming a field it reads (a JSON array)")
        }
        guard let writes = node.writes, writes.count == 1 else { throw bad("map declares exactly one write (its results)") }
        self.items = items
        self.target = writes[0]
        if case .string(let f)? = config["item_field"] { itemField = f } else { itemField = "item" }
        guard case .object(var sub)? = config["workflow"] else { throw bad("map needs config.workflow (the per-item sub-workflow)") }
        if sub["workflow_id"] == nil { sub["workflow_id"] = .string("\(node.id).item") }
        do { workflow = try WorkflowDefinition.decode(JSONValue.object(sub).jsonData()) } catch let e as AnalemmaError {
            throw bad("config.workflow: \(e.message)")
        }
        if let inner = workflow.nodes.first(where: { !executor.kinds.place(of: $0).runsInMapItem }) {
            throw bad(
                "config.workflow node \(inner.id.debugDescription) is a \(inner.type): a map item cannot wait for a human or fan out again")
        }
        do { try executor.check(workflow) } catch let e as AnalemmaError { throw bad("config.workflow: \(e.message)") }
        if let n = try Bounded.integer(config, "chunk_size", in: 1...DistributedChunkService.maxItemsPerChunk, node: node.id) {
            chunkSize = n
        }
        maxConcurrency = try Bounded.integer(config, "max_concurrency", in: 1...10_000, node: node.id) ?? 40
        toleratedFailureCount = try Bounded.integer(config, "tolerated_failure_count", in: 0...1_000_000_000, node: node.id)
        // Neither threshold set: no failure tolerated. Only a count set: the percentage does not constrain.
        toleratedFailurePercentage =
            try Bounded.number(config, "tolerated_failure_percentage", in: 0...100, node: node.id)
            ?? (toleratedFailureCount == nil ? 0 : 100)
        inlineMaxChunks = try Bounded.integer(config, "inline_max_chunks", in: 0...1_000_000, node: node.id) ?? 300
        switch config["batch"] {
        case nil, .bool(false)?: batch = false
        case .bool(true)?: batch = true
        default: throw bad("config.batch must be true or false")
        }
        batchPollSeconds = try Bounded.integer(config, "batch_poll_seconds", in: 1...3600, node: node.id) ?? 30
        if batch { try Self.checkBatchable(workflow, bad) }
    }

    /// A batch map's item is one `llm` call: one node, no tool-calling exchange (it needs answers between calls), no
    /// explicit cache (a batch is not a conversation).
    static func checkBatchable(_ workflow: WorkflowDefinition, _ bad: (String) -> AnalemmaError) throws {
        guard workflow.nodes.count == 1, let node = workflow.nodes.first, node.type == LLMNode().name else {
            throw bad("config.batch needs a sub-workflow of exactly one llm node (each item one model call)")
        }
        for key in ["tools", "cache_ttl_seconds"] where node.config?[key] != nil {
            throw bad("config.batch: the llm node cannot set \(key) (a batch request is one call, answered later)")
        }
    }
}
