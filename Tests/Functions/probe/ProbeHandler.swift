import Analemma
import Glibc

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// Runtime conformance probe: each event names an action that exercises one Runtime API behaviour.
struct ProbeHandler: LambdaHandler {
    struct Event: Decodable {
        var action: String
        var errorType: String?
        var message: String?
        var seconds: Double?
        var bytes: Int?
        var exitCode: Int32?
    }

    struct ProbeFailure: CodedError {
        let errorType: String
        let errorMessage: String
    }

    let startedAt: Int64

    init(environment: FunctionEnvironment) throws {
        if let reason = environment["PROBE_FAIL_INIT"], !reason.isEmpty {
            throw AnalemmaError(.invalidConfiguration, "PROBE_FAIL_INIT is set: \(reason)")
        }
        startedAt = SystemWallClock().nowMillis()
    }

    func handle(_ data: Data, context: LambdaContext) async throws -> Data {
        let event = try JSONDecoder().decode(Event.self, from: data)
        switch event.action {
        case "echo":
            return data
        case "fail":
            throw ProbeFailure(errorType: event.errorType ?? "Probe.Failure", errorMessage: event.message ?? "probe asked to fail")
        case "crash":
            exit(event.exitCode ?? 3)
        case "sleep":
            try await Task.sleep(for: .milliseconds(Int((event.seconds ?? 1) * 1000)))
            return try describe(context)
        case "big":
            return Data(repeating: UInt8(ascii: "x"), count: event.bytes ?? LambdaLimits.maxResponseBytes + 1)
        case "context":
            return try describe(context)
        case "log":
            context.logger.info(event.message ?? "probe log line", ["probe": "yes"])
            return try describe(context)
        default:
            throw AnalemmaError(.invalidEvent, "unknown probe action \(event.action.debugDescription)")
        }
    }

    /// What the handler saw: the context, the per-invocation `_X_AMZN_TRACE_ID`, and which process served it.
    private func describe(_ context: LambdaContext) throws -> Data {
        let seen: [String: String?] = [
            "requestId": context.requestID,
            "deadlineMs": String(context.deadlineMillis),
            "remainingMs": String(context.remainingMillis),
            "functionArn": context.invokedFunctionARN,
            "traceId": context.traceID,
            "envTraceId": getenv("_X_AMZN_TRACE_ID").map { String(cString: $0) },
            "clientContext": context.clientContext,
            "cognitoIdentity": context.cognitoIdentity,
            "tenantId": context.tenantID,
            "pid": String(getpid()),
            "startedAt": String(startedAt),
        ]
        return try JSONEncoder().encode(seen.compactMapValues { $0 })
    }
}
