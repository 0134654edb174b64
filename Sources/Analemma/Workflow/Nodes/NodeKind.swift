#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// A node type (`"type"` in a workflow): how it is checked, where it runs and what it does. The validator, the
/// partitioner, the segment runner, the published JSON Schema and the co-designer's prompt all read it from
/// ``NodeKinds``, so a new node type is one conforming type and one line in ``NodeKinds/standard``
/// (walk-through: `docs/adding-a-node-type.md`).
package protocol NodeKind: Sendable {
    /// The `type` nodes use.
    var name: String { get }
    /// What the node does, for the co-designer's prompt (one sentence).
    var guide: String { get }
    /// Where it runs between checkpoints.
    var place: NodePlace { get }
    /// The `config` keys it accepts (any other is refused); nil: ``check(_:executor:)`` checks them itself.
    var configKeys: Set<String>? { get }
    /// The JSON Schema a node of this kind satisfies beyond the common node shape (the `then` of its `allOf` rule).
    var schema: JSONValue { get }
    /// Whether running it calls a model (its segment reads `llm_usage`; the token budget applies).
    var callsModel: Bool { get }
    /// Checks a node of this kind before any state is written; each problem names the node.
    func check(_ node: WorkflowDefinition.Node, executor: NodeExecutor) throws
    /// Runs a node once over its input (kinds placed ``NodePlace/chained`` or ``NodePlace/own``).
    func run(_ node: WorkflowDefinition.Node, _ input: SkillInput, executor: NodeExecutor) async throws -> NodeOutcome
}

/// Where a node runs between checkpoints.
package enum NodePlace: Sendable, Equatable {
    /// Inside a segment, chained with its neighbours while the graph is a straight line.
    case chained
    /// A segment of its own: a checkpoint before and after it (every model call is checkpointed).
    case own
    /// A human answers: the segment runner asks, the state machine waits for the task token.
    case human
    /// A map over items: inline in its segment or handed to a Distributed Map.
    case map

    /// Whether the node always ends its segment.
    package var isBoundary: Bool { self != .chained }
    /// Whether a map item's sub-workflow may use it (a map item cannot wait for a human or fan out again).
    package var runsInMapItem: Bool { self == .chained || self == .own }
}

extension NodeKind {
    package var configKeys: Set<String>? { [] }
    package var callsModel: Bool { false }
    package var schema: JSONValue { NodeKinds.configRule(configKeys) }
    package func check(_ node: WorkflowDefinition.Node, executor: NodeExecutor) throws {}
    package func run(_ node: WorkflowDefinition.Node, _ input: SkillInput, executor: NodeExecutor) async throws -> NodeOutcome {
        throw AnalemmaError(.invalidState, "node \(node.id.debugDescription): a \(name) node is not run by the node executor")
    }
}

/// The node types a segment runner knows, by name.
package struct NodeKinds: Sendable {
    /// The built-ins, in the order the schema and the co-designer list them.
    package static let standard = NodeKinds([SkillNode(), LLMNode(), HumanNode(), RouteNode(), MapNode()])

    package let all: [any NodeKind]
    private let byName: [String: any NodeKind]

    package init(_ kinds: [any NodeKind]) {
        all = kinds
        byName = Dictionary(kinds.map { ($0.name, $0) }) { _, later in later }
    }

    /// These kinds and `kind` (replacing one of the same name).
    package func adding(_ kind: any NodeKind) -> NodeKinds { NodeKinds(all.filter { $0.name != kind.name } + [kind]) }

    package var names: [String] { all.map(\.name) }

    /// The kind named `name`, if known.
    package subscript(_ name: String) -> (any NodeKind)? { byName[name] }

    /// The kind of `node`, or an `Analemma.InvalidWorkflow` naming the node and the known types.
    package func kind(of node: WorkflowDefinition.Node) throws -> any NodeKind {
        guard let kind = byName[node.type] else {
            throw AnalemmaError(.invalidWorkflow, "node \(node.id.debugDescription): \(unknown(node.type))")
        }
        return kind
    }

    /// Where `node` runs (``NodePlace/chained`` for an unknown type, which validation refuses first).
    package func place(of node: WorkflowDefinition.Node) -> NodePlace { byName[node.type]?.place ?? .chained }

    /// Why `type` is refused.
    func unknown(_ type: String) -> String {
        "unknown node type \(type.debugDescription) (one of \(names.sorted().joined(separator: ", ")))"
    }

    /// The schema rule for a config of exactly `keys` (nil: anything).
    package static func configRule(_ keys: Set<String>?, required: [String] = []) -> JSONValue {
        guard let keys else { return .object([:]) }
        var config: [String: JSONValue] =
            keys.isEmpty ? ["maxProperties": .number(0)] : ["propertyNames": .object(["enum": .array(keys.sorted().map(JSONValue.string))])]
        if !required.isEmpty { config["required"] = .array(required.map(JSONValue.string)) }
        return .object(["properties": .object(["config": .object(config)])])
    }
}
