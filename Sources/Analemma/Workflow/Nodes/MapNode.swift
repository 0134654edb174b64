/// `map`: runs a sub-workflow over every item of a field (``MapSpec``), inline or on a Distributed Map.
public struct MapNode: NodeKind {
    public let name = "map"
    public let guide =
        "config.items names a read field holding a JSON array; config.workflow is the per-item sub-workflow; one write receives the statistics"
    public let place = NodePlace.map
    public var configKeys: Set<String>? {
        [
            "items", "item_field", "workflow", "chunk_size", "max_concurrency", "tolerated_failure_count", "tolerated_failure_percentage",
            "inline_max_chunks",
        ]
    }

    public init() {}

    public func check(_ node: WorkflowDefinition.Node, executor: NodeExecutor) throws { _ = try MapSpec(node: node, executor: executor) }
}
