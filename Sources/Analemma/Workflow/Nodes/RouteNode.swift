/// `route`: does nothing; its outgoing edges branch (`when`).
package struct RouteNode: NodeKind {
    package let name = "route"
    package let guide = #"no-op; its outgoing edges branch with "when""#
    package let place = NodePlace.chained

    package init() {}

    package func run(_ node: WorkflowDefinition.Node, _ input: SkillInput, executor: NodeExecutor) async throws -> NodeOutcome {
        NodeOutcome(updates: [:], attempts: 1)
    }
}
