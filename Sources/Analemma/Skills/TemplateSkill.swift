#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// `template`: renders `config.template` (`{{field.path}}` placeholders over declared reads) into a string field
/// (`config.into`, default: the node's only write).
package struct TemplateSkill: Skill {
    package var configKeys: Set<String>? { ["template"] }
    package let name = "template"
    package init() {}

    package func validate(node: WorkflowDefinition.Node) throws {
        guard case .string(let source)? = node.config?["template"] else {
            throw AnalemmaError(.invalidWorkflow, "node \(node.id.debugDescription): template skill needs config.template (a string)")
        }
        try Template.check(source, key: "template", node: node)
    }

    package var tool: ToolDeclaration? {
        ToolDeclaration(
            name: name, description: "Renders a text template; {{field}} and {{field.path}} insert values of the workflow state.",
            parameters: .object([
                "type": .string("object"), "required": .array([.string("template")]),
                "properties": .object(["template": .object(["type": .string("string"), "description": .string("the template text")])]),
            ]))
    }

    package func run(_ input: SkillInput) async throws -> [String: Data] {
        let text = try Template(input.string("template")).render(input.fields)
        return [try input.target(): JSONValue.string(text).jsonData()]
    }
}

/// `fail`: a deterministic test skill. Fails with `config.message` when `config.when` holds (always without a
/// `when`) — unless `config.unless_healed` is true and self-healing handed it a fix instruction; otherwise writes
/// `config.value` (default `"ok"`) into its target, if it declares one.
package struct FailSkill: Skill {
    package var configKeys: Set<String>? { ["when", "unless_healed", "value", "message"] }
    package let name = "fail"
    package init() {}

    package func validate(node: WorkflowDefinition.Node) throws {
        if let when = node.config?["when"] {
            guard case .object(let o) = when, case .string(let field)? = o["field"], (node.reads ?? []).contains(field) else {
                throw AnalemmaError(
                    .invalidWorkflow, "node \(node.id.debugDescription): fail skill config.when must name a field the node reads")
            }
        }
    }

    package func run(_ input: SkillInput) async throws -> [String: Data] {
        var fails = true
        if case .object(let when)? = input.config["when"], case .string(let field)? = when["field"] {
            let condition = WorkflowDefinition.Condition(field: field, equals: when["equals"], exists: nil)
            fails = try condition.holds(in: input.fields)
        }
        if fails, input.config["unless_healed"] == .bool(true), input.healInstruction != nil { fails = false }
        if fails {
            let message = (try? input.string("message")) ?? "failed on demand"
            throw AnalemmaError(.skillFailed, "node \(input.nodeID.debugDescription) (skill fail): \(message)")
        }
        guard !input.writes.isEmpty else { return [:] }
        return [try input.target(): (input.config["value"] ?? .string("ok")).jsonData()]
    }
}
