/// `hitp`: a human answers (`config.question`), setting only the node's writes; the segment runner asks and resumes.
package struct HumanNode: NodeKind {
    package let name = "hitp"
    package let guide = "a human answers; config.question; writes = the fields the human sets"
    package let place = NodePlace.human
    package var configKeys: Set<String>? { ["question"] }
    package var schema: JSONValue {
        guard case .object(var rule) = NodeKinds.configRule(configKeys), case .object(var properties)? = rule["properties"] else {
            return .null
        }
        properties["writes"] = .object(["minItems": .number(1)])
        rule["properties"] = .object(properties)
        rule["required"] = .array([.string("writes")])
        return .object(rule)
    }

    package init() {}

    package func check(_ node: WorkflowDefinition.Node, executor: NodeExecutor) throws {
        if case .string(let question)? = node.config?["question"] { try Template.check(question, key: "question", node: node) }
        if (node.writes ?? []).isEmpty {
            throw AnalemmaError(
                .invalidWorkflow, "node \(node.id.debugDescription): hitp node declares no writes (what may the human set?)")
        }
    }
}
