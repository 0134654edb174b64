/// `map`: runs a sub-workflow over every item of a field (``MapSpec``), inline or on a Distributed Map.
package struct MapNode: NodeKind {
    package let name = "map"
    package let guide =
        "config.items names a read field holding a JSON array; config.workflow is the per-item sub-workflow; one write receives the statistics"
    package let place = NodePlace.map
    package var configKeys: Set<String>? {
        [
            "items", "item_field", "workflow", "chunk_size", "max_concurrency", "tolerated_failure_count", "tolerated_failure_percentage",
            "inline_max_chunks", "batch", "batch_poll_seconds",
        ]
    }

    package init() {}

    package func check(_ node: WorkflowDefinition.Node, executor: NodeExecutor) throws { _ = try MapSpec(node: node, executor: executor) }
}
