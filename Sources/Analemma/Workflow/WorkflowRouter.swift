#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

extension WorkflowDefinition.Condition {
    /// Whether the condition holds over raw state fields: `equals` compares JSON values, `exists` presence
    /// (a field holding `null` does not exist).
    package func holds(in fields: [String: Data]) throws -> Bool {
        let value = try fields[field].map { try JSONValue(json: $0) }
        if let exists, exists != (value != nil && value != .null) { return false }
        if let equals, equals != (value ?? .null) { return false }
        return true
    }
}

/// Chooses the edge a run takes out of a node: the first edge whose `when` holds, else the first without `when`,
/// skipping edges that used up their `max_traversals`. Counts are kept per edge (`"from->to"`) in the cursor.
package struct WorkflowRouter: Sendable {
    let outgoing: [String: [WorkflowDefinition.Edge]]

    package init(_ workflow: WorkflowDefinition) {
        var outgoing: [String: [WorkflowDefinition.Edge]] = [:]
        for edge in workflow.edges { outgoing[edge.from, default: []].append(edge) }
        self.outgoing = outgoing
    }

    /// Fields the conditions on `node`'s outgoing edges read (hydrated with the segment).
    package func conditionFields(of node: String) -> [String] {
        var fields: [String] = []
        for edge in outgoing[node, default: []] {
            if let f = edge.when?.field, !fields.contains(f) { fields.append(f) }
        }
        return fields
    }

    /// The next node after `node`, or nil when it has no outgoing edge (the workflow ends there). Records the
    /// traversal in `traversals`. No takeable edge is `Analemma.NoRoute`, naming the node and why.
    package func next(after node: String, fields: [String: Data], traversals: inout [String: Int]) throws -> String? {
        let edges = outgoing[node, default: []]
        guard !edges.isEmpty else { return nil }
        var exhausted: [String] = []
        let conditional = edges.filter { $0.when != nil }
        let defaults = edges.filter { $0.when == nil }
        for edge in conditional + defaults {
            if let when = edge.when, try !when.holds(in: fields) { continue }
            let key = "\(edge.from)->\(edge.to)"
            if let max = edge.maxTraversals, traversals[key, default: 0] >= max {
                exhausted.append("\(key) (max_traversals \(max))")
                continue
            }
            traversals[key, default: 0] += 1
            return edge.to
        }
        let why =
            exhausted.isEmpty
            ? "no condition on its \(edges.count) outgoing edge(s) holds and none is a default"
            : "every matching edge is used up: \(exhausted.joined(separator: ", "))"
        throw AnalemmaError(.noRoute, "node \(node.debugDescription): \(why)")
    }
}
