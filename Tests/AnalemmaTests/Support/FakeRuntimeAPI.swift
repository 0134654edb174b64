import Analemma
import Foundation

/// A scripted Runtime API: hands out queued invocations and records everything the loop sends.
final class FakeRuntimeAPI: RuntimeAPI, @unchecked Sendable {
    private let lock = NSLock()
    private var pending: [Invocation]
    private(set) var sent: [RuntimeRequest] = []
    /// Status answered to each `.response` (e.g. 413 to simulate the service's own size limit).
    var responseStatus = 202

    init(_ invocations: [Invocation]) { pending = invocations }

    func send(_ request: RuntimeRequest) async throws -> RuntimeReply { try answer(request) }

    private func answer(_ request: RuntimeRequest) throws -> RuntimeReply {
        lock.lock()
        defer { lock.unlock() }
        sent.append(request)
        switch request {
        case .next:
            guard !pending.isEmpty else { throw RuntimeAPIError("no more scripted invocations") }
            return .invocation(pending.removeFirst())
        case .response: return .accepted(status: responseStatus, body: "")
        case .error, .initError: return .accepted(status: 202, body: "")
        }
    }

    /// The outcomes (everything but `.next`) in order.
    var outcomes: [RuntimeRequest] { lock.withLock { sent.filter { $0 != .next } } }
}

/// A clock that stands still at `now`.
struct FixedClock: WallClock {
    let now: Int64
    func nowMillis() -> Int64 { now }
}

/// Collects log lines in memory.
final class CapturingSink: LogSink, @unchecked Sendable {
    private let lock = NSLock()
    private var stored: [String] = []
    func write(_ line: String) {
        lock.lock()
        stored.append(line)
        lock.unlock()
    }
    var lines: [String] {
        lock.lock()
        defer { lock.unlock() }
        return stored
    }
}

func invocation(_ id: String, _ json: String, deadline: Int64 = 10_000, trace: String? = nil) -> Invocation {
    Invocation(
        requestID: id, deadlineMillis: deadline, invokedFunctionARN: "arn:aws:lambda:us-east-1:1:function:f", traceID: trace,
        payload: Data(json.utf8))
}
