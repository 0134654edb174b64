#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// The viewer's checkpoint slider and "fork from here": an execution's checkpoints as one message, and a fork
/// started through StartExecution, for the connection owner's own executions (the routes check that; the segment
/// runner checks the fork's checkpoint and owner again when it starts).
package struct ViewerTimeTravel: Sendable {
    package let history: ExecutionHistory
    package let stepFunctions: StepFunctions
    /// The workflow state machine forks are started on (`WORKFLOW_STATE_MACHINE_ARN`).
    package let stateMachineARN: String
    /// The most checkpoints one message lists (the latest).
    package static let listed = 500

    package init(history: ExecutionHistory, stepFunctions: StepFunctions, stateMachineARN: String) {
        self.history = history
        self.stepFunctions = stepFunctions
        self.stateMachineARN = stateMachineARN
    }

    /// `{"type": "history", "execution_id", "checkpoints": [{version, manifest_id, step, time_ms, changed, removed}]}`.
    package func message(executionID: String) async throws -> Data {
        let chain = try await history.checkpoints(executionID: executionID).suffix(Self.listed)
        let list = chain.map { c in
            JSONValue.object([
                "version": .number(Double(c.version)), "manifest_id": .string(c.manifest.manifestID),
                "step": .number(Double(c.manifest.segmentIndex)), "time_ms": .number(Double(c.preparedAtMillis)),
                "changed": .array(c.changed.prefix(50).map { .string($0) }), "removed": .array(c.removed.prefix(50).map { .string($0) }),
            ])
        }
        return JSONValue.object(["type": .string("history"), "execution_id": .string(executionID), "checkpoints": .array(list)])
            .jsonData()
    }

    /// Starts a fork of `executionID` (the owner's) at checkpoint `at`; returns the new execution's ARN.
    package func fork(executionID: String, ownerID: String, at: String, set: JSONValue?, from: String?) async throws -> String {
        guard at.utf8.count == 64, at.utf8.allSatisfy({ (48...57).contains($0) || (97...102).contains($0) }) else {
            throw AnalemmaError(.invalidEvent, "fork: \"at\" must be a checkpoint's manifest id (64 hex digits)")
        }
        var fork: [String: JSONValue] = ["execution_id": .string(executionID), "owner_id": .string(ownerID), "at": .string(at)]
        if let set {
            guard case .object = set else { throw AnalemmaError(.invalidEvent, "fork: \"set\" must be an object of fields") }
            fork["set"] = set
        }
        if let from { fork["from"] = .string(from) }
        let input = String(decoding: JSONValue.object(["fork": .object(fork)]).jsonData(), as: UTF8.self)
        return try await stepFunctions.startExecution(stateMachineArn: stateMachineARN, input: input).executionArn
    }
}
