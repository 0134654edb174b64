/// The published JSON Schema of workflow definitions (`Deploy/examples/workflows/workflow.schema.json`): its node
/// types and per-type rules are derived from ``NodeKinds``; the rest of the document is written by hand.
/// `make schema` regenerates the file; `WorkflowSchemaTests` fails while the committed file differs.
package enum WorkflowSchema {
    /// `document` with its node types (`$defs.node.properties.type.enum`) and per-type rules (`$defs.node.allOf`)
    /// replaced by those of `kinds`.
    package static func derive(_ document: JSONValue, kinds: NodeKinds = .standard) throws -> JSONValue {
        guard case .object(var root) = document, case .object(var defs)? = root["$defs"], case .object(var node)? = defs["node"],
            case .object(var properties)? = node["properties"], case .object(var type)? = properties["type"]
        else { throw AnalemmaError(.invalidWorkflow, "not a workflow schema (no $defs.node.properties.type)") }
        type["enum"] = .array(kinds.names.map(JSONValue.string))
        properties["type"] = .object(type)
        node["properties"] = .object(properties)
        node["allOf"] = .array(kinds.all.map(rule))
        defs["node"] = .object(node)
        root["$defs"] = .object(defs)
        return .object(root)
    }

    /// `{"if": {type is kind}, "then": kind.schema}`.
    static func rule(_ kind: any NodeKind) -> JSONValue {
        .object([
            "if": .object(["properties": .object(["type": .object(["const": .string(kind.name)])])]),
            "then": kind.schema,
        ])
    }
}
