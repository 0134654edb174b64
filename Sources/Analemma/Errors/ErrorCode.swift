/// The stable error codes Analemma reports as Lambda `errorType`: the one list Step Functions Retry/Catch match on.
///
/// A code never changes once shipped; ASL files under `StateMachines/` may only name these or `States.*`
/// (enforced by `ErrorCodeTests`). Later issues add cases here, never elsewhere.
public enum ErrorCode: String, CaseIterable, Sendable, Codable {
    /// The handler threw an error that carries no code of its own.
    case unhandled = "Analemma.Unhandled"
    /// The invocation event could not be decoded into the handler's input type.
    case invalidEvent = "Analemma.InvalidEvent"
    /// The handler's output could not be encoded.
    case invalidResponse = "Analemma.InvalidResponse"
    /// The handler's response exceeded Lambda's 6 MB synchronous response limit.
    case responseTooLarge = "Analemma.ResponseTooLarge"
    /// Start-up failed: a required configuration value is missing or invalid.
    case invalidConfiguration = "Analemma.InvalidConfiguration"
    /// Start-up failed for another reason (reported to `/runtime/init/error`).
    case initFailed = "Analemma.InitFailed"
    /// User logic, a skill, a human response or a map child tried to set a kernel-protected field.
    case protectedField = "Analemma.ProtectedField"
    /// A state pointer outside the state bucket or the owner's prefix (never read).
    case forgedPointer = "Analemma.ForgedPointer"
    /// State content that is not what the kernel stores (invalid JSON, unknown field, corrupt block).
    case invalidState = "Analemma.InvalidState"
    /// A workflow definition that cannot run (each problem names its node).
    case invalidWorkflow = "Analemma.InvalidWorkflow"
    /// A dependency (S3, DynamoDB, SQS, a model endpoint) stayed throttled or unavailable through the client's own
    /// retries; the state machine retries the step (nothing was committed).
    case transient = "Analemma.Transient"
    /// A node's implementation (a skill or a model call) failed; the message names the node and the skill.
    case skillFailed = "Analemma.SkillFailed"
    /// Another writer moved the execution's head first (a duplicate or concurrent step); nothing was committed.
    case concurrentWrite = "Analemma.ConcurrentWrite"
    /// No outgoing edge of a node can be taken (no condition holds, or every matching edge used its max_traversals).
    case noRoute = "Analemma.NoRoute"
    /// A human (HITP) step was not answered within its node's timeout_seconds.
    case humanTimeout = "Analemma.HumanTimeout"
    /// A human (HITP) response was refused (not a JSON object, an undeclared or kernel-protected field).
    case invalidHumanResponse = "Analemma.InvalidHumanResponse"
    /// The model endpoint throttled (HTTP 429 / `RESOURCE_EXHAUSTED`) on every candidate model.
    case modelThrottled = "Analemma.ModelThrottled"
    /// The model endpoint failed (5xx, unreachable) on every candidate model.
    case modelUnavailable = "Analemma.ModelUnavailable"
    /// The model refused the prompt or the answer (a safety or policy block).
    case modelBlocked = "Analemma.ModelBlocked"
    /// The answer hit the output token limit before it finished (`MAX_TOKENS`).
    case modelTruncated = "Analemma.ModelTruncated"
    /// The model endpoint rejected the request (bad request, auth, unknown model) or answered nonsense.
    case modelError = "Analemma.ModelError"
    /// The model account cannot pay for the call (HTTP 402, billing disabled, prepaid credits depleted): no model of
    /// the account can serve it, so there is no failover and no retry.
    case modelBudgetExhausted = "Analemma.ModelBudgetExhausted"
    /// The prompt is longer than the context window of every model that may serve it (tried from the largest down).
    case modelContextTooLong = "Analemma.ModelContextTooLong"
    /// The model's answer does not conform to the node's `response_schema` (not JSON, or a value the schema refuses);
    /// the node's work failed, so it heals like any failed node.
    case modelNonConforming = "Analemma.ModelNonConforming"
    /// A map's batch job ended without answers (`FAILED`, `CANCELLED` or `EXPIRED` at the Batch API); its items
    /// stay stored, the execution ends.
    case modelBatchFailed = "Analemma.ModelBatchFailed"
    /// More of a map's chunks failed than its `tolerated_failure_percentage` allows (the inline counterpart of
    /// `States.ExceedToleratedFailureThreshold`).
    case toleranceExceeded = "Analemma.ToleranceExceeded"
    /// A map chunk run by a Distributed Map child had failed items (the message lists them); the Map counts the
    /// chunk as failed against its tolerance.
    case chunkFailed = "Analemma.ChunkFailed"
    /// A caller may not do this (a WebSocket client with a bad token, or subscribing to another owner's execution).
    case forbidden = "Analemma.Forbidden"
    /// The execution reached a limit of its budget (node runs, model tokens, wall time); final.
    case budgetExceeded = "Analemma.BudgetExceeded"
    /// An `llm` node's media part cannot be sent: not the declared MIME type, not an accepted one, too large, or
    /// too large for Vertex AI's inline-only input.
    case invalidMedia = "Analemma.InvalidMedia"

    /// Lambda service errors Step Functions reports for a Task whose invocation itself failed (not our code):
    /// transient, and retried by the state machines next to ``transient``.
    /// https://docs.aws.amazon.com/step-functions/latest/dg/bp-lambda-serviceexception.html
    package static let lambdaServiceErrors = [
        "Lambda.ServiceException", "Lambda.AWSLambdaException", "Lambda.SdkClientException", "Lambda.TooManyRequestsException",
    ]

    /// The instance serving the invocation died (crash or kill: `Runtime.ExitError`; deadline: `Sandbox.Timedout`;
    /// the service lost it: `Lambda.Unknown`). Every kernel step replays safely from stored state, so the state
    /// machines retry these a bounded number of times (their own Retry entry) before the Catch.
    /// https://docs.aws.amazon.com/lambda/latest/dg/troubleshooting-invocation.html
    package static let instanceDeathErrors = ["Runtime.ExitError", "Sandbox.Timedout", "Lambda.Unknown"]

    /// Errors of the `ContinueAsNew` state's StartExecution (Step Functions' own integration, `StepFunctions.<code>`):
    /// throttling and client errors are retried; `ExecutionAlreadyExists` means a retry already started the next
    /// execution (its name is deterministic), so the chain carries on.
    /// https://docs.aws.amazon.com/step-functions/latest/dg/connect-stepfunctions.html
    package static let startExecutionErrors = [
        "StepFunctions.ThrottlingException", "StepFunctions.SdkClientException", "StepFunctions.ExecutionAlreadyExistsException",
    ]
}

/// An error with a stable code and a human-readable message, reported to Lambda as `errorType` / `errorMessage`.
public protocol CodedError: Error {
    /// The stable `errorType` (usually an ``ErrorCode`` raw value).
    var errorType: String { get }
    /// What went wrong, naming the offending input.
    var errorMessage: String { get }
}

/// The kernel's own coded error: an ``ErrorCode`` plus a message.
public struct AnalemmaError: CodedError, Equatable, CustomStringConvertible {
    public let code: ErrorCode
    public let message: String

    public init(_ code: ErrorCode, _ message: String) {
        self.code = code
        self.message = message
    }

    public var errorType: String { code.rawValue }
    public var errorMessage: String { message }
    public var description: String { "\(code.rawValue): \(message)" }
}

/// An error that knows which execution it concerns: the runtime loop's `invocation failed` line carries these ids
/// (`trace_id`, `execution_id`, `owner_id`), while the error reported to Lambda stays the wrapped one's.
package struct ScopedError: CodedError, CustomStringConvertible {
    package let error: any Error
    package let scope: [(String, String)]

    /// Wraps `error` with the ids that are known (empty ones are left out); an already scoped error keeps its scope.
    package static func wrap(_ error: any Error, traceID: String?, executionID: String?, ownerID: String?) -> any Error {
        if error is ScopedError { return error }
        let scope = [("trace_id", traceID), ("execution_id", executionID), ("owner_id", ownerID)].compactMap { key, value in
            value.flatMap { $0.isEmpty ? nil : (key, $0) }
        }
        return scope.isEmpty ? error : ScopedError(error: error, scope: scope)
    }

    package var errorType: String { RuntimeErrorPayload(error).errorType }
    package var errorMessage: String { RuntimeErrorPayload(error).errorMessage }
    package var description: String { "\(error)" }
}
