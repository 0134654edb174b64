/// `hitp`: a human answers (`config.question`), setting only the node's writes; the segment runner asks and resumes.
public struct HumanNode: NodeKind {
    public let name = "hitp"
    public let guide = "a human answers; config.question; writes = the fields the human sets"
    public let place = NodePlace.human
    public var configKeys: Set<String>? { ["question"] }
    public var schema: JSONValue {
        guard case .object(var rule) = NodeKinds.configRule(configKeys), case .object(var properties)? = rule["properties"] else {
            return .null
        }
        properties["writes"] = .object(["minItems": .number(1)])
        rule["properties"] = .object(properties)
        rule["required"] = .array([.string("writes")])
        return .object(rule)
    }

    public init() {}

    public func check(_ node: WorkflowDefinition.Node, executor: NodeExecutor) throws {
        if case .string(let question)? = node.config?["question"] { try Template.check(question, key: "question", node: node) }
        if (node.writes ?? []).isEmpty {
            throw AnalemmaError(
                .invalidWorkflow, "node \(node.id.debugDescription): hitp node declares no writes (what may the human set?)")
        }
    }
}
