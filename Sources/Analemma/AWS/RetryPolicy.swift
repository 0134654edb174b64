/// When and how long to wait before retrying an AWS call: exponential backoff with full jitter, capped,
/// honouring `Retry-After`, never sleeping past the caller's deadline (the Lambda invocation's).
///
/// https://docs.aws.amazon.com/sdkref/latest/guide/feature-retry-behavior.html
package struct RetryPolicy: Sendable {
    package var maxAttempts: Int
    /// Attempts for a write conflict (DynamoDB `TransactionConflict`, S3 409): it applied nothing and clears as soon
    /// as the other writer finishes, so it gets more tries than throttling (up to about 26 s of jittered backoff in all).
    package var conflictAttempts: Int
    package var baseDelay: Duration
    package var maxDelay: Duration
    /// Time kept free before the deadline: no attempt starts later than `deadline - reserve`.
    package var reserve: Duration

    package init(
        maxAttempts: Int = 5, conflictAttempts: Int = 12, baseDelay: Duration = .milliseconds(50), maxDelay: Duration = .seconds(5),
        reserve: Duration = .milliseconds(500)
    ) {
        self.maxAttempts = maxAttempts
        self.conflictAttempts = conflictAttempts
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
        self.reserve = reserve
    }

    /// No retries at all.
    package static let none = RetryPolicy(maxAttempts: 1, conflictAttempts: 1)

    /// How many attempts a call that failed with `error` gets in all.
    package func attempts(after error: any Error) -> Int {
        (error as? AWSError)?.isConflict == true ? max(maxAttempts, conflictAttempts) : maxAttempts
    }

    /// The wait before attempt `attempt + 1` (attempt counts from 0): uniform in [0, min(max, base·2^attempt)],
    /// and at least `retryAfter` when the service asked for it. `unit` is a random number in [0, 1).
    package func delay(afterAttempt attempt: Int, retryAfter: Duration?, unit: Double) -> Duration {
        let cap = min(maxDelay, baseDelay * (1 << min(attempt, 20)))
        let jittered = cap * unit
        guard let retryAfter else { return jittered }
        return max(jittered, min(retryAfter, maxDelay))
    }
}

/// What a failed attempt means for the next one.
enum RetryDecision: Equatable {
    case retry
    case fail
    /// Retrying could apply a non-idempotent call twice.
    case ambiguous
}

extension RetryDecision {
    /// Throttling, write conflicts and connection failures before sending are always retried; 5xx and in-flight
    /// failures only when the call is idempotent; any other error is final.
    static func after(_ error: any Error, idempotent: Bool) -> RetryDecision {
        switch error {
        case let e as AWSError:
            if e.isThrottling || e.isConflict { return .retry }  // a conflict applied nothing: safe to send again
            if e.isServerError { return idempotent ? .retry : .ambiguous }
            return .fail
        case let e as TransportError:
            if !e.retryable { return .fail }
            if !e.sent { return .retry }
            return idempotent ? .retry : .ambiguous
        default:
            return .fail
        }
    }
}

/// Suspends for a duration (one method, so retry loops are testable without waiting).
package protocol Sleeper: Sendable {
    func sleep(for duration: Duration) async throws
}

/// `Task.sleep`.
package struct TaskSleeper: Sleeper {
    package init() {}
    package func sleep(for duration: Duration) async throws { try await Task.sleep(for: duration) }
}
