/// `skill`: runs a registered ``Skill`` (`"skill": name`) over the node's reads.
package struct SkillNode: NodeKind {
    package let name = "skill"
    package let guide = #"set "skill" to one of the skills below"#
    package let place = NodePlace.chained
    /// A skill node's keys are its skill's (``Skill/configKeys``, plus `into`).
    package var configKeys: Set<String>? { nil }
    package var schema: JSONValue { .object(["required": .array([.string("skill")])]) }

    package init() {}

    package func check(_ node: WorkflowDefinition.Node, executor: NodeExecutor) throws {
        let skill = try executor.skills.skill(node.skill ?? "", node: node.id)
        try NodeExecutor.checkConfigKeys(node, known: skill.configKeys.map { $0.union(["into"]) })
        try skill.validate(node: node)
    }

    package func run(_ node: WorkflowDefinition.Node, _ input: SkillInput, executor: NodeExecutor) async throws -> NodeOutcome {
        NodeOutcome(updates: try await executor.skills.skill(node.skill ?? "", node: node.id).run(input), attempts: 1)
    }
}
