#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// Where an execution is in its life, as Step Functions reports it.
package enum ExecutionLifecycle: Sendable, Equatable {
    /// `RUNNING` (or `PENDING_REDRIVE`): its state is in use.
    case running
    /// Closed with `status` at `stoppedAtMillis`; `redrivable` unless Step Functions says it is not.
    case closed(status: String, stoppedAtMillis: Int64, redrivable: Bool)
    /// Step Functions does not know it (history older than its retention, or an id no execution had).
    case unknown
}

/// Reads an execution's lifecycle (one method, so the retention rule is testable without the network).
package protocol ExecutionStatusSource: Sendable {
    func lifecycle(of executionArn: String) async throws -> ExecutionLifecycle
}

extension StepFunctions: ExecutionStatusSource {
    /// Answers that mean "no execution of ours has this id": it does not exist, is malformed, or lies outside the
    /// state machine this role may describe (an id forged through a direct Invoke).
    static let unknownExecutionCodes: Set<String> = ["ExecutionDoesNotExist", "InvalidArn", "AccessDeniedException"]

    /// Whether an error answered for `executionArn` means "not an execution of ours" (``unknownExecutionCodes``).
    /// `AccessDenied` for an execution of ``stateMachineARN`` is not: the role lacks a permission it needs, and
    /// retention must stop rather than judge the execution by its kernel record alone.
    package func isForeign(_ error: AWSError, executionArn: String) -> Bool {
        guard Self.unknownExecutionCodes.contains(error.code) else { return false }
        guard error.code == "AccessDeniedException", let machine = stateMachineARN else { return true }
        var parts = machine.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 7, parts[5] == "stateMachine" else { return true }
        parts[5] = "execution"
        let executions = parts.joined(separator: ":")
        return !(executionArn.hasPrefix(executions + ":") || executionArn.hasPrefix(executions + "/"))
    }

    /// DescribeExecution; an id of no execution of ours (``isForeign(_:executionArn:)``) is `.unknown`.
    /// https://docs.aws.amazon.com/step-functions/latest/apireference/API_DescribeExecution.html
    package func lifecycle(of executionArn: String) async throws -> ExecutionLifecycle {
        let e: Execution
        do { e = try await describeExecution(executionArn) } catch let error as AWSError
            where isForeign(error, executionArn: executionArn)
        {
            return .unknown
        }
        switch e.status {
        case "RUNNING", "PENDING_REDRIVE": return .running
        default:
            // stopDate is epoch seconds (a JSON number); a closed execution without one is treated as closed now.
            let stopped = e.stopDate.flatMap { $0.isFinite ? Int64(exactly: ($0 * 1000).rounded()) : nil }
            return .closed(
                status: e.status, stoppedAtMillis: stopped ?? SystemWallClock().nowMillis(),
                redrivable: e.redriveStatus.map { $0 != "NOT_REDRIVABLE" } ?? true)
        }
    }
}

extension Retention {
    /// Step Functions lets a FAILED, TIMED_OUT or ABORTED execution be redriven for 14 days after it closed; a redrive
    /// resumes from the kernel's stored state, so that state is kept as long.
    /// https://docs.aws.amazon.com/step-functions/latest/dg/redrive-executions.html
    package static let redriveWindowMillis: Int64 = 14 * 86_400_000
    /// A Standard execution runs at most one year: an execution Step Functions has forgotten, last active longer ago
    /// than that, has ended whatever its kernel record says.
    package static let maxExecutionMillis: Int64 = 366 * 86_400_000
    static let redrivableStatuses: Set<String> = ["FAILED", "TIMED_OUT", "ABORTED"]

    /// Where an execution stands for retention.
    package enum Standing: Sendable, Equatable {
        /// Running, waiting for a human or with a map in flight: never touched, never counted.
        case live
        /// Ended; `expirable` once it ended at least the minimum age ago (and, if it could still be redriven,
        /// past the redrive window). Every ended execution counts towards `keepLast`.
        case ended(expirable: Bool)
    }

    /// Step Functions' word decides: closed is ended, expirable `minAge` after it closed (and past the redrive
    /// window while it could be redriven). Forgotten by Step Functions, the kernel's own record decides: done or
    /// failed is ended, expirable `minAge` after its last activity; anything else is live until it has been idle
    /// for a year (a Standard execution's longest life) and `minAge`.
    package static func standing(
        _ lifecycle: ExecutionLifecycle, kernel: Cursor.Status?, lastActiveMillis: Int64, now: Int64, minAgeMillis: Int64
    ) -> Standing {
        switch lifecycle {
        case .running: return .live
        case .closed(let status, let stopped, let redrivable):
            let age = now - stopped
            let redrivableStill = redrivable && redrivableStatuses.contains(status) && age < redriveWindowMillis
            return .ended(expirable: !redrivableStill && age >= minAgeMillis)
        case .unknown:
            let idle = now - lastActiveMillis
            if kernel == .done || kernel == .failed { return .ended(expirable: idle >= minAgeMillis) }
            return idle >= maxExecutionMillis + minAgeMillis ? .ended(expirable: true) : .live
        }
    }
}
