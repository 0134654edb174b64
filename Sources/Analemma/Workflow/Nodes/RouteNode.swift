/// `route`: does nothing; its outgoing edges branch (`when`).
public struct RouteNode: NodeKind {
    public let name = "route"
    public let guide = #"no-op; its outgoing edges branch with "when""#
    public let place = NodePlace.chained

    public init() {}

    public func run(_ node: WorkflowDefinition.Node, _ input: SkillInput, executor: NodeExecutor) async throws -> NodeOutcome {
        NodeOutcome(updates: [:], attempts: 1)
    }
}
