#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// The workflow an execution runs, as a viewer draws it: sent once to a subscriber (`{"type": "workflow", "entry",
/// "nodes": [{id, type}], "edges": [{from, to, when, max_traversals}]}`) after `subscribed`. Read from the owner's
/// own stored workflow (the pointer in the execution's cursor), never from the client.
package struct WorkflowGraphs: Sendable {
    package let hydrator: StateHydrator
    package let workflows: WorkflowStore

    package init(hydrator: StateHydrator, workflows: WorkflowStore) {
        self.hydrator = hydrator
        self.workflows = workflows
    }

    /// The message for the execution at `manifest`.
    package func message(at manifest: Manifest) async throws -> Data {
        let cursor = try SegmentRunnerService.decodeCursor(try await hydrator.hydrate(manifest, present: ["cursor"])["cursor"])
        let definition = try await workflows.get(cursor.workflow, ownerID: manifest.ownerID)
        return Self.message(definition, executionID: manifest.executionID)
    }

    /// The graph of `definition` as the viewer's message.
    package static func message(_ definition: WorkflowDefinition, executionID: String) -> Data {
        let nodes = definition.nodes.map { JSONValue.object(["id": .string($0.id), "type": .string($0.type)]) }
        let edges = definition.edges.map { e -> JSONValue in
            var o: [String: JSONValue] = ["from": .string(e.from), "to": .string(e.to)]
            if let when = e.when, let condition = try? JSONValue(json: CanonicalJSON.encode(when)) { o["when"] = condition }
            if let n = e.maxTraversals { o["max_traversals"] = .number(Double(n)) }
            return .object(o)
        }
        return JSONValue.object([
            "type": .string("workflow"), "execution_id": .string(executionID), "workflow_id": .string(definition.workflowID),
            "entry": .string(definition.entry), "nodes": .array(nodes), "edges": .array(edges),
        ]).jsonData()
    }
}
