extension ErrorCode {
    /// What happens to a step that ends with a code: the one decision the kernel and the state machines share
    /// (`ErrorCodeTests` holds `StateMachines/workflow.asl.json`'s Retry and Catch lists to it).
    package enum Disposition: String, Sendable, CaseIterable {
        /// Nothing was committed and a new attempt can succeed: the state machine retries the step (bounded).
        case retry
        /// The node's own work failed: the state machine hands the step to Heal (one repair attempt).
        case heal
        /// The step's input was refused before anything ran (forged, stale or invalid); nothing changed.
        case refuse
        /// The execution ends with this code (recorded by RecordFailure).
        case final
    }

    /// This code's disposition.
    package var disposition: Disposition {
        switch self {
        case .transient, .modelThrottled, .modelUnavailable: .retry
        case .skillFailed, .modelTruncated, .modelNonConforming: .heal
        case .invalidEvent, .forgedPointer, .protectedField, .invalidState, .concurrentWrite: .refuse
        case .unhandled, .invalidResponse, .responseTooLarge, .invalidConfiguration, .initFailed, .invalidWorkflow, .noRoute,
            .humanTimeout, .invalidHumanResponse, .modelBlocked, .modelError, .modelBudgetExhausted, .modelContextTooLong,
            .modelBatchFailed, .toleranceExceeded, .chunkFailed, .forbidden,
            .budgetExceeded, .invalidMedia:
            .final
        }
    }

    /// The codes of one disposition, as the ASL names them.
    package static func codes(_ disposition: Disposition) -> Set<String> {
        Set(allCases.filter { $0.disposition == disposition }.map(\.rawValue))
    }
}
