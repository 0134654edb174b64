import Glibc

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// Lambda's hard limits the runtime loop enforces before the service does.
public enum LambdaLimits {
    /// Synchronous invocation response payload: 6 MB.
    /// https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html
    public static let maxResponseBytes = 6 * 1024 * 1024
}

/// The runtime loop: next → handle → response or error, forever (or `limit` times, for tests).
package struct LambdaRuntime<Handler: LambdaHandler> {
    let api: any RuntimeAPI
    let handler: Handler
    let logger: Logger
    let clock: any WallClock
    let maxResponseBytes: Int
    private let trace = TraceEnvironment()

    package init(
        api: any RuntimeAPI, handler: Handler, logger: Logger = Logger(), clock: any WallClock = SystemWallClock(),
        maxResponseBytes: Int = LambdaLimits.maxResponseBytes
    ) {
        self.api = api
        self.handler = handler
        self.logger = logger
        self.clock = clock
        self.maxResponseBytes = maxResponseBytes
    }

    /// Serves invocations until the Runtime API fails (thrown) or `limit` invocations are done.
    package func run(limit: Int? = nil) async throws {
        var served = 0
        while limit.map({ served < $0 }) ?? true {
            guard case .invocation(let invocation) = try await api.send(.next) else {
                throw RuntimeAPIError("/invocation/next returned no invocation")
            }
            try await process(invocation, coldStart: served == 0)
            served += 1
        }
    }

    /// Runs the handler for one invocation and reports its outcome; handler failures never end the loop.
    func process(_ invocation: Invocation, coldStart: Bool = false) async throws {
        trace.set(invocation.traceID)
        var log = logger
        log.requestID = invocation.requestID
        let context = LambdaContext(invocation: invocation, logger: log, clock: clock)
        let scoped = LogContext(
            requestID: invocation.requestID, functionARN: invocation.invokedFunctionARN.isEmpty ? nil : invocation.invokedFunctionARN,
            traceID: LogContext.traceRoot(invocation.traceID), coldStart: coldStart)
        try await LogContext.$current.withValue(scoped) { try await serve(invocation, context: context, log: log) }
    }

    private func serve(_ invocation: Invocation, context: LambdaContext, log: Logger) async throws {
        var outcome: RuntimeRequest
        var scope: [(String, String)] = []
        do {
            let output = try await handler.handle(invocation.payload, context: context)
            outcome =
                output.count > maxResponseBytes
                ? .error(requestID: invocation.requestID, tooLarge(output.count)) : .response(requestID: invocation.requestID, body: output)
        } catch {
            outcome = .error(requestID: invocation.requestID, RuntimeErrorPayload(error))
            scope = (error as? ScopedError)?.scope ?? []
        }
        if case .error(_, let payload) = outcome {
            log.log(.error, "invocation failed", pairs: [("errorType", payload.errorType), ("errorMessage", payload.errorMessage)] + scope)
        }
        let reply = try await api.send(outcome)
        guard case .accepted(let status, let body) = reply, !(200..<300).contains(status) else { return }
        log.error("Runtime API rejected the outcome", ["status": String(status), "body": body])
        if status == 413, case .response(_, let output) = outcome {  // the service's limit is lower than ours
            _ = try await api.send(.error(requestID: invocation.requestID, tooLarge(output.count)))
        }
    }

    private func tooLarge(_ count: Int) -> RuntimeErrorPayload {
        RuntimeErrorPayload(
            AnalemmaError(
                .responseTooLarge,
                "response of \(count) bytes exceeds Lambda's \(maxResponseBytes)-byte limit; offload large values to S3 and return a pointer"
            ))
    }
}

/// The Tiny Handler entry point: read the environment, build the handler, run the loop in this process.
public enum Lambda {
    /// Builds the handler with `makeHandler` (start-up failures go to `/runtime/init/error`), then serves forever.
    public static func run<H: LambdaHandler>(
        _ makeHandler: @Sendable (FunctionEnvironment, Logger) async throws -> H
    ) async -> Never {
        let unpinned = NameService.pinBuiltInModules()  // before any lookup: see NameService
        let tuned = MemoryTuning.applyForLargeEvents()  // before the first event buffer
        let environment = FunctionEnvironment.current()
        let logger = Logger(environment: environment)
        if !unpinned.isEmpty { logger.log(.warn, "name service not pinned", ["databases": unpinned.joined(separator: ",")]) }
        if !tuned { logger.log(.warn, "malloc thresholds not set: large events are mapped afresh each invocation") }
        guard let endpoint = environment["AWS_LAMBDA_RUNTIME_API"] else {
            logger.log(.fatal, "AWS_LAMBDA_RUNTIME_API is not set: this binary runs inside Lambda or the local Lambda service")
            exit(1)
        }
        let api: RuntimeAPIClient
        do { api = try RuntimeAPIClient(endpoint: endpoint) } catch {
            logger.log(.fatal, "bad AWS_LAMBDA_RUNTIME_API: \(error)")
            exit(1)
        }
        let handler: H
        do { handler = try await makeHandler(environment, logger) } catch {
            let payload =
                error is any CodedError
                ? RuntimeErrorPayload(error) : RuntimeErrorPayload(errorType: ErrorCode.initFailed.rawValue, errorMessage: "\(error)")
            logger.log(.fatal, "initialisation failed", ["errorType": payload.errorType, "errorMessage": payload.errorMessage])
            _ = try? await api.send(.initError(payload))
            exit(1)
        }
        do { try await LambdaRuntime(api: api, handler: handler, logger: logger).run() } catch {
            logger.log(.fatal, "runtime loop stopped: \(error)")
        }
        exit(1)
    }
}
