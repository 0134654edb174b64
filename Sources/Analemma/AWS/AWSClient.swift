#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// The one signed-request pipeline every service client uses: endpoint → sign → send → decode errors → retry.
public struct AWSClient: Sendable {
    public let credentials: AWSCredentials
    public let region: String
    public let environment: FunctionEnvironment
    public let transport: any HTTPTransport
    public let retry: RetryPolicy
    public let clock: any WallClock
    public let sleeper: any Sleeper
    /// Per-attempt timeout.
    public let timeout: Duration

    public init(
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
    public init(environment: FunctionEnvironment, transport: any HTTPTransport = SocketTransport()) throws {
        self.init(
            credentials: try AWSCredentials(environment: environment),
            region: environment["AWS_REGION"] ?? environment["AWS_DEFAULT_REGION"] ?? "us-east-1", environment: environment,
            transport: transport)
    }

    /// The endpoint for a service (`serviceID` as in `AWS_ENDPOINT_URL_<SERVICE>`).
    public func endpoint(serviceID: String, prefix: String) throws -> AWSEndpoint {
        try AWSEndpoint.resolve(serviceID: serviceID, prefix: prefix, region: region, environment: environment)
    }

    /// Signs and sends `request`, retrying per the policy. Non-2xx answers become ``AWSError``; an ambiguous
    /// failure of a non-idempotent call becomes ``AmbiguousFailure`` instead of a blind retry.
    /// - Parameters:
    ///   - deadlineMillis: no attempt starts after this (epoch ms), e.g. `LambdaContext.deadlineMillis`.
    public func send(
        _ request: AWSRequest, signingName: String, operation: String, idempotent: Bool, payload: SigV4.Payload = .signed,
        deadlineMillis: Int64? = nil
    ) async throws -> HTTPResponse {
        var attempt = 0
        while true {
            let error: any Error
            do {
                let signed = SigV4.sign(
                    request, credentials: credentials, region: region, service: signingName, unixTime: clock.nowMillis() / 1000,
                    payload: payload)
                let response = try await transport.send(signed, timeout: timeout)
                if (200..<300).contains(response.status) { return response }
                let decoded = AWSError.decode(service: signingName, response: response)
                error = decoded
                if RetryDecision.after(decoded, idempotent: idempotent) == .retry,
                    let after = response.header("Retry-After").flatMap(Int.init)
                {
                    try await wait(attempt: attempt, retryAfter: .seconds(after), deadlineMillis: deadlineMillis, lastError: decoded)
                    attempt += 1
                    continue
                }
            } catch let e as AWSError {
                throw e
            } catch let e as AmbiguousFailure {
                throw e
            } catch {
                let wrapped = error as? TransportError ?? TransportError("\(error)", sent: true)
                if RetryDecision.after(wrapped, idempotent: idempotent) == .ambiguous {
                    throw AmbiguousFailure(operation: operation, underlying: wrapped.message)
                }
                try await retryOrThrow(
                    wrapped, attempt: attempt, idempotent: idempotent, operation: operation, deadlineMillis: deadlineMillis)
                attempt += 1
                continue
            }
            try await retryOrThrow(error, attempt: attempt, idempotent: idempotent, operation: operation, deadlineMillis: deadlineMillis)
            attempt += 1
        }
    }

    private func retryOrThrow(_ error: any Error, attempt: Int, idempotent: Bool, operation: String, deadlineMillis: Int64?) async throws {
        switch RetryDecision.after(error, idempotent: idempotent) {
        case .fail: throw error
        case .ambiguous: throw AmbiguousFailure(operation: operation, underlying: "\(error)")
        case .retry: try await wait(attempt: attempt, retryAfter: nil, deadlineMillis: deadlineMillis, lastError: error)
        }
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
