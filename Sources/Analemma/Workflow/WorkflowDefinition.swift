#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// A workflow as users write it (JSON): nodes, edges, an entry. Schema and examples: Deploy/examples/workflows/.
public struct WorkflowDefinition: Codable, Sendable, Equatable {
    package var workflowID: String
    package var version: Int?
    package var entry: String
    package var nodes: [Node]
    package var edges: [Edge]
    /// The fields `finalize` returns as the execution's output (default: every field that is not kernel-owned).
    package var outputs: [String]?
    /// What one execution may spend (unset values: ``Budget/defaults``).
    package var budget: Budget?
    /// The input fields the workflow reads. Declared, every field a node or an edge reads must be written by a node
    /// or be one of these (a typo is a validation error, never an empty value), and the input must provide them.
    package var inputs: [String]?
    /// Fields that only grow (message lists, logs): each is a JSON array, and a checkpoint stores only the items
    /// it gained (``AppendLists``). A value that does not extend the stored list is stored whole (never lost).
    package var appendOnly: [String]?

    enum CodingKeys: String, CodingKey {
        case workflowID = "workflow_id"
        case appendOnly = "append_only"
        case version, entry, nodes, edges, outputs, budget, inputs
    }

    package init(workflowID: String, version: Int? = nil, entry: String, nodes: [Node], edges: [Edge], outputs: [String]? = nil) {
        self.workflowID = workflowID
        self.version = version
        self.entry = entry
        self.nodes = nodes
        self.edges = edges
        self.outputs = outputs
    }

    /// One step. `reads`/`writes` declare the state fields it touches (what makes surgical hydration possible).
    public struct Node: Codable, Sendable, Equatable {
        public var id: String
        /// `llm`, `skill`, `hitp`, `map` or `route` (a no-op whose outgoing edges branch on state).
        public var type: String
        public var reads: [String]?
        public var writes: [String]?
        /// For `skill` nodes: the registered skill name.
        public var skill: String?
        /// Node-specific settings (prompt, model hints, template, items field, …), kept as given.
        public var config: [String: JSONValue]?
        package var timeoutSeconds: Int?
        package var retry: Limits?
        package var heal: Limits?

        enum CodingKeys: String, CodingKey {
            case id, type, reads, writes, skill, config, retry, heal
            case timeoutSeconds = "timeout_seconds"
        }

        package init(
            id: String, type: String, reads: [String]? = nil, writes: [String]? = nil, skill: String? = nil,
            config: [String: JSONValue]? = nil,
            timeoutSeconds: Int? = nil, retry: Limits? = nil, heal: Limits? = nil
        ) {
            self.id = id
            self.type = type
            self.reads = reads
            self.writes = writes
            self.skill = skill
            self.config = config
            self.timeoutSeconds = timeoutSeconds
            self.retry = retry
            self.heal = heal
        }
    }

    package struct Limits: Codable, Sendable, Equatable {
        package var maxAttempts: Int
        enum CodingKeys: String, CodingKey { case maxAttempts = "max_attempts" }
        package init(maxAttempts: Int) { self.maxAttempts = maxAttempts }
    }

    /// A transition; with `when` it is taken only if the condition holds (first matching edge wins, an edge without
    /// `when` is the default). `max_traversals` bounds how often a run may take it (required on every cycle).
    package struct Edge: Codable, Sendable, Equatable {
        package var from: String
        package var to: String
        package var when: Condition?
        package var maxTraversals: Int?

        enum CodingKeys: String, CodingKey {
            case from, to, when
            case maxTraversals = "max_traversals"
        }

        package init(from: String, to: String, when: Condition? = nil, maxTraversals: Int? = nil) {
            self.from = from
            self.to = to
            self.when = when
            self.maxTraversals = maxTraversals
        }
    }

    /// `{"field": "approval", "equals": "yes"}` or `{"field": "score", "exists": true}`.
    package struct Condition: Codable, Sendable, Equatable {
        package var field: String
        package var equals: JSONValue?
        package var exists: Bool?

        package init(field: String, equals: JSONValue? = nil, exists: Bool? = nil) {
            self.field = field
            self.equals = equals
            self.exists = exists
        }
    }

    /// Decodes a definition; a malformed document is an `Analemma.InvalidWorkflow` error naming where.
    package static func decode(_ data: Data) throws -> WorkflowDefinition {
        guard data.count <= WorkflowLimits.maxDocumentBytes else {
            throw AnalemmaError(
                .invalidWorkflow, "the workflow document is \(data.count) bytes; the limit is \(WorkflowLimits.maxDocumentBytes)")
        }
        do {
            let definition = try JSONDecoder().decode(WorkflowDefinition.self, from: data)
            try checkKeys(try JSONValue(json: data))
            return definition
        } catch let e as AnalemmaError {
            throw AnalemmaError(.invalidWorkflow, e.message)
        } catch let DecodingError.keyNotFound(key, context) {
            throw AnalemmaError(.invalidWorkflow, "missing \(key.stringValue.debugDescription) at \(path(context.codingPath))")
        } catch let DecodingError.typeMismatch(_, context) {
            throw AnalemmaError(.invalidWorkflow, "wrong type at \(path(context.codingPath)): \(context.debugDescription)")
        } catch let DecodingError.valueNotFound(_, context) {
            throw AnalemmaError(.invalidWorkflow, "null at \(path(context.codingPath))")
        } catch {
            throw AnalemmaError(.invalidWorkflow, "not a workflow document: \(error)")
        }
    }

    static let keys: [String: Set<String>] = [
        "": ["workflow_id", "version", "entry", "nodes", "edges", "outputs", "description", "budget", "inputs"],
        "budget": ["node_runs", "model_tokens", "wall_seconds"],
        "node": ["id", "type", "reads", "writes", "skill", "config", "timeout_seconds", "retry", "heal", "description"],
        "edge": ["from", "to", "when", "max_traversals"],
        "when": ["field", "equals", "exists"],
        "limits": ["max_attempts"],
    ]

    /// Unknown keys are errors (a typo such as `"edgs"` must not silently drop a part of the graph).
    static func checkKeys(_ document: JSONValue) throws {
        func check(_ value: JSONValue?, _ kind: String, _ at: String) throws {
            guard case .object(let o)? = value else { return }
            let known = keys[kind]!
            if let unknown = o.keys.sorted().first(where: { !known.contains($0) }) {
                throw AnalemmaError(
                    .invalidWorkflow,
                    "unknown key \(unknown.debugDescription) at \(at.isEmpty ? "the top level" : at) (known: \(known.sorted().joined(separator: ", ")))"
                )
            }
        }
        try check(document, "", "")
        try check(try document.value(at: "budget"), "budget", ".budget")
        if case .array(let nodes)? = try document.value(at: "nodes") {
            for (i, node) in nodes.enumerated() {
                try check(node, "node", ".nodes[\(i)]")
                try check(try node.value(at: "retry"), "limits", ".nodes[\(i)].retry")
                try check(try node.value(at: "heal"), "limits", ".nodes[\(i)].heal")
            }
        }
        if case .array(let edges)? = try document.value(at: "edges") {
            for (i, edge) in edges.enumerated() {
                try check(edge, "edge", ".edges[\(i)]")
                try check(try edge.value(at: "when"), "when", ".edges[\(i)].when")
            }
        }
    }

    static func path(_ keys: [any CodingKey]) -> String {
        keys.isEmpty ? "the top level" : keys.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
    }
}
