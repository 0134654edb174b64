/// What a handler knows about its invocation: ids, deadline, trace, and a request-scoped logger.
public struct LambdaContext: Sendable {
    public let requestID: String
    public let deadlineMillis: Int64
    public let invokedFunctionARN: String
    public let traceID: String?
    public let clientContext: String?
    public let cognitoIdentity: String?
    public let tenantID: String?
    public let logger: Logger
    let clock: any WallClock

    package init(invocation: Invocation, logger: Logger, clock: any WallClock = SystemWallClock()) {
        requestID = invocation.requestID
        deadlineMillis = invocation.deadlineMillis
        invokedFunctionARN = invocation.invokedFunctionARN
        traceID = invocation.traceID
        clientContext = invocation.clientContext
        cognitoIdentity = invocation.cognitoIdentity
        tenantID = invocation.tenantID
        self.logger = logger
        self.clock = clock
    }

    /// Milliseconds left before Lambda stops this invocation (negative once past the deadline).
    public var remainingMillis: Int64 { deadlineMillis - clock.nowMillis() }

    /// Time left before the deadline.
    public var remainingTime: Duration { .milliseconds(remainingMillis) }
}
