#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// `json_transform`: builds `config.value` (any JSON) into a field. Inside it, a string `"$.field.path"` is replaced
/// by the value at that path of a declared read (absent: `null`), a string with `{{…}}` is rendered as a template,
/// and `"$$…"` is a literal starting with `$`. Extraction, reshaping and constants in one skill.
package struct JSONTransformSkill: Skill {
    package var configKeys: Set<String>? { ["value"] }
    package let name = "json_transform"
    package init() {}

    package func validate(node: WorkflowDefinition.Node) throws {
        guard let value = node.config?["value"] else {
            throw AnalemmaError(.invalidWorkflow, "node \(node.id.debugDescription): json_transform needs config.value")
        }
        try Self.check(value, node: node)
    }

    package func run(_ input: SkillInput) async throws -> [String: Data] {
        guard let value = input.config["value"] else { throw input.configError("json_transform needs config.value") }
        return [try input.target(): try Self.build(value, from: input.fields).jsonData()]
    }

    static func build(_ value: JSONValue, from fields: [String: Data]) throws -> JSONValue {
        switch value {
        case .string(let s) where s.hasPrefix("$$"): return .string(String(s.dropFirst()))
        case .string(let s) where s.hasPrefix("$."):
            let (field, path) = split(s.dropFirst(2))
            guard let raw = fields[field] else { return .null }
            return try JSONValue(json: raw).value(at: path) ?? .null
        case .string(let s) where s.contains("{{"): return .string(try Template(s).render(fields))
        case .array(let a): return .array(try a.map { try build($0, from: fields) })
        case .object(let o): return .object(try o.mapValues { try build($0, from: fields) })
        default: return value
        }
    }

    static func check(_ value: JSONValue, node: WorkflowDefinition.Node) throws {
        let reads = node.reads ?? []
        switch value {
        case .string(let s) where s.hasPrefix("$$"): return
        case .string(let s) where s.hasPrefix("$."):
            let (field, path) = split(s.dropFirst(2))
            _ = try JSONValue.steps(path)
            guard reads.contains(field) else {
                throw AnalemmaError(
                    .invalidWorkflow,
                    "node \(node.id.debugDescription): \(s.debugDescription) reads \(field.debugDescription), not in its reads")
            }
        case .string(let s) where s.contains("{{"): try Template.check(s, key: "value", node: node)
        case .array(let a): for v in a { try check(v, node: node) }
        case .object(let o): for v in o.values { try check(v, node: node) }
        default: return
        }
    }

    static func split(_ reference: Substring) -> (field: String, path: String) {
        let end = reference.firstIndex { $0 == "." || $0 == "[" } ?? reference.endIndex
        return (String(reference[..<end]), String(reference[end...]))
    }
}

/// `json_extract`: copies the value at `config.path` of field `config.from` into a field (absent: `config.default`,
/// else `null`). Shorthand for a `json_transform` with `"value": "$.from.path"`.
package struct JSONExtractSkill: Skill {
    package var configKeys: Set<String>? { ["from", "path", "default"] }
    package let name = "json_extract"
    package init() {}

    package func validate(node: WorkflowDefinition.Node) throws {
        guard case .string(let from)? = node.config?["from"], (node.reads ?? []).contains(from) else {
            throw AnalemmaError(
                .invalidWorkflow, "node \(node.id.debugDescription): json_extract needs config.from naming a field it reads")
        }
        if let path = node.config?["path"] {
            guard case .string(let p) = path else {
                throw AnalemmaError(.invalidWorkflow, "node \(node.id.debugDescription): json_extract config.path must be a string")
            }
            do { _ = try JSONValue.steps(p) } catch let e as AnalemmaError {
                throw AnalemmaError(.invalidWorkflow, "node \(node.id.debugDescription): \(e.message)")
            }
        }
    }

    package var tool: ToolDeclaration? {
        ToolDeclaration(
            name: name, description: "Reads a value from the workflow state: field `from`, then an optional path such as items[0].title.",
            parameters: .object([
                "type": .string("object"), "required": .array([.string("from")]),
                "properties": .object([
                    "from": .object(["type": .string("string"), "description": .string("a state field")]),
                    "path": .object(["type": .string("string"), "description": .string("a path inside it, e.g. a.b[0]")]),
                ]),
            ]))
    }

    package func run(_ input: SkillInput) async throws -> [String: Data] {
        let from = try input.string("from")
        let path = input.config["path"] == nil ? "" : try input.string("path")
        let found = try input.value(from)?.value(at: path)
        return [try input.target(): (found ?? input.config["default"] ?? .null).jsonData()]
    }
}
