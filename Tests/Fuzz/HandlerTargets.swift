import Analemma
import Dispatch
import Foundation

/// Every function's whole handler, fed arbitrary events: built from a function environment as in Lambda, with a
/// transport that answers every AWS (and model) call in one of a few plausible ways instead of the network. A coded
/// error is the expected answer to garbage; a trap, crash or hang is a finding.
enum HandlerTargets {
    static let functions = ["segment-runner", "light-aggregator", "websocket-notifier", "gc-worker"]

    static let environment = FunctionEnvironment([
        "AWS_ACCESS_KEY_ID": "AKIAFUZZ", "AWS_SECRET_ACCESS_KEY": "fuzz-secret", "AWS_SESSION_TOKEN": "fuzz-session",
        "AWS_REGION": "us-east-1", "AWS_ENDPOINT_URL": "http://127.0.0.1:9", "STATE_BUCKET": "analemma-state",
        "MANIFEST_TABLE": "analemma-manifests", "BLOCK_REFERENCES_TABLE": "analemma-block-refs",
        "CONNECTIONS_TABLE": "analemma-connections", "GC_QUEUE_URL": "http://127.0.0.1:9/123456789012/analemma-gc",
        "EVENTS_QUEUE_URL": "http://127.0.0.1:9/123456789012/analemma-events.fifo", "WEBSOCKET_CALLBACK_URL": "http://127.0.0.1:9",
        "CONNECT_TOKEN_SECRET": "fuzz-connect-token-secret-0123456789", "GEMINI_ENDPOINT": "http://127.0.0.1:9",
        "GEMINI_API_KEY": "fuzz", "RETENTION_KEEP_LAST": "2", "RETENTION_MIN_AGE_SECONDS": "8", "LOG_LEVEL": "FATAL",
    ])

    /// One handler per (function, answer mode): built once, reused for every input.
    static let handlers: [[any LambdaHandler]] = CannedTransport.Mode.allCases.map { mode in
        let transport = CannedTransport(mode: mode)
        let logger = Logger(level: .fatal, sink: DiscardingSink())
        let built: [(any LambdaHandler)?] = [
            try? SegmentRunnerService(environment: environment, logger: logger, transport: transport),
            try? LightAggregatorService(environment: environment, logger: logger, transport: transport),
            try? WebSocketNotifierService(environment: environment, logger: logger, transport: transport),
            try? GCWorkerService(environment: environment, logger: logger, transport: transport),
        ]
        return built.map { handler in
            guard let handler else { preconditionFailure("a function failed to build from the fuzz environment") }
            return handler
        }
    }

    /// `[function, mode, event…]`.
    static func run(_ data: Data) {
        guard data.count >= 2 else { return }
        let function = Int(data[data.startIndex]) % functions.count
        let modes = CannedTransport.Mode.allCases
        let mode = Int(data[data.startIndex + 1]) % modes.count
        let handler = handlers[mode][function]
        let event = Data(data.dropFirst(2))
        let context = LambdaContext(
            invocation: Invocation(requestID: "fuzz", deadlineMillis: Int64.max / 2, payload: event),
            logger: Logger(level: .fatal, sink: DiscardingSink()))
        let done = DispatchSemaphore(value: 0)
        Task {
            _ = try? await handler.handle(event, context: context)
            done.signal()
        }
        done.wait()
    }
}

/// Drops log lines (the fuzzer's output stays readable).
struct DiscardingSink: LogSink {
    func write(_ line: String) {}
}

/// Answers every request without a network: an empty success, "not found", or a refusal — the three ways AWS
/// most often answers a forged or foreign identifier — and a short model answer for model calls.
struct CannedTransport: HTTPTransport {
    enum Mode: CaseIterable, Sendable { case empty, notFound, refused }
    let mode: Mode

    func send(_ request: HTTPRequest, timeout: Duration) async throws -> HTTPResponse {
        if request.path.contains(":generateContent") {
            return HTTPResponse(
                status: 200,
                body: Data(#"{"candidates":[{"content":{"parts":[{"text":"ok"}]},"finishReason":"STOP"}]}"#.utf8))
        }
        let json = request.headers.contains { $0.0.lowercased() == "x-amz-target" }
        switch (mode, json) {
        case (.empty, true): return HTTPResponse(status: 200, body: Data("{}".utf8))
        case (.empty, false): return HTTPResponse(status: 200, body: Data())
        case (.notFound, true):
            return HTTPResponse(status: 400, body: Data(#"{"__type":"ResourceNotFoundException","message":"fuzz"}"#.utf8))
        case (.notFound, false):
            return HTTPResponse(status: 404, body: Data("<Error><Code>NoSuchKey</Code><Message>fuzz</Message></Error>".utf8))
        case (.refused, true): return HTTPResponse(status: 400, body: Data(#"{"__type":"AccessDeniedException","message":"fuzz"}"#.utf8))
        case (.refused, false):
            return HTTPResponse(status: 403, body: Data("<Error><Code>AccessDenied</Code><Message>fuzz</Message></Error>".utf8))
        }
    }
}
