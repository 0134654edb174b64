#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// The one signed-request pipeline every service client uses: endpoint → sign → send → decode errors → retry.
package struct AWSClient: Sendable {
    package let credentials: AWSCredentials
    package let region: String
    package let environment: FunctionEnvironment
    package let transport: any HTTPTransport
    package let retry: RetryPolicy
    package let clock: any WallClock
    package let sleeper: any Sleeper
    /// Per-attempt timeout.
    package let timeout: Duration

    package init(
        credentials: AWSCredentials, region: String, environment: FunctionEnvironment = FunctionEnvironment([:]),
        transport: any HTTPTransport = SocketTransport(), retry: RetryPolicy = RetryPolicy(), clock: any WallClock = SystemWallClock(),
        sleeper: any Sleeper = TaskSleeper(), timeout: Duration = .seconds(30)
    ) {
        self.credentials = credentials
        self.region = region
        self.environment = environment
        self.transport = transport
        self.retry = retry
        self.clock = clock
        self.sleeper = sleeper
        self.timeout = timeout
    }

    /// A client from the Lambda environment: credentials, `AWS_REGION`, endpoint overrides.
    package init(environment: FunctionEnvironment, transport: any HTTPTransport = SocketTransport()) throws {
        self.init(
            credentials: try AWSCredentials(environment: environment),
            region: environment["AWS_REGION"] ?? environment["AWS_DEFAULT_REGION"] ?? "us-east-1", environment: environment,
            transport: transport)
    }

    /// The endpoint for a service (`serviceID` as in `AWS_ENDPOINT_URL_<SERVICE>`).
    package func endpoint(serviceID: String, prefix: String) throws -> AWSEndpoint {
        try AWSEndpoint.resolve(serviceID: serviceID, prefix: prefix, region: region, environment: environment)
    }

    /// Signs and sends `request`, retrying per the policy. Non-2xx answers become ``AWSError``; an ambiguous
    /// failure of a non-idempotent call becomes ``AmbiguousFailure`` instead of a blind retry.
    /// - Parameters:
    ///   - deadlineMillis: no attempt starts after this (epoch ms), e.g. `LambdaContext.deadlineMillis`.
    package func send(
        _ request: HTTPRequest, signingName: String, operation: String, idempotent: Bool, payload: SigV4.Payload = .signed,
        deadlineMillis: Int64? = nil
    ) async throws -> HTTPResponse {
        try await retrying(operation: operation, idempotent: idempotent, deadlineMillis: deadlineMillis) {
            let signed = SigV4.sign(
                request, credentials: credentials, region: region, service: signingName, unixTime: clock.nowMillis() / 1000,
                payload: payload)
            let response = try await transport.send(signed, timeout: timeout)
            guard (200..<300).contains(response.status) else { throw AWSError.decode(service: signingName, response: response) }
            return response
        }
    }

    /// Runs `attempt` until it returns or fails for good: every retry of the project's AWS calls goes through here.
    /// One catch, one decision (``RetryDecision``), the policy's backoff and attempt budget, never past the deadline.
    package func retrying<T>(
        operation: String, idempotent: Bool, deadlineMillis: Int64? = nil, _ attempt: () async throws -> T
    ) async throws -> T {
        var attempts = 0
        while true {
            let failure: any Error
            do { return try await attempt() } catch { failure = Self.failure(error) }
            switch RetryDecision.after(failure, idempotent: idempotent) {
            case .fail: throw failure
            case .ambiguous:
                throw AmbiguousFailure(operation: operation, underlying: (failure as? TransportError)?.message ?? "\(failure)")
            case .retry:
                try await wait(
                    attempt: attempts, retryAfter: (failure as? AWSError)?.retryAfter, deadlineMillis: deadlineMillis, lastError: failure)
            }
            attempts += 1
        }
    }

    /// What a failed attempt threw, as the retry decision sees it: anything not answered by the service (and not
    /// already judged ambiguous) is a transport failure that may have reached it.
    static func failure(_ error: any Error) -> any Error {
        if error is AWSError || error is AmbiguousFailure || error is TransportError { return error }
        return TransportError("\(error)", sent: true)
    }

    private func wait(attempt: Int, retryAfter: Duration?, deadlineMillis: Int64?, lastError: any Error) async throws {
        guard attempt + 1 < retry.attempts(after: lastError) else { throw lastError }
        let delay = retry.delay(afterAttempt: attempt, retryAfter: retryAfter, unit: Double.random(in: 0..<1))
        if let deadlineMillis {
            let startsAt =
                clock.nowMillis() + Int64(delay.components.seconds * 1000) + Int64(delay.components.attoseconds / 1_000_000_000_000_000)
            let reserveMillis = retry.reserve.components.seconds * 1000 + retry.reserve.components.attoseconds / 1_000_000_000_000_000
            if startsAt > deadlineMillis - reserveMillis { throw lastError }
        }
        try await sleeper.sleep(for: delay)
    }
}
