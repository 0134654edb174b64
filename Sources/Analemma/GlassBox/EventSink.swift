#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// One structured kernel event (segment and node start/finish, checkpoint, model call, HITP, map progress, error),
/// always carrying the execution, trace and owner ids and the time it happened. Its kind names its attributes
/// (``EventKind``, the catalogue).
package struct KernelEvent: Sendable, Equatable {
    package var kind: EventKind
    /// The event's name on the wire (`"event"`).
    package var type: String { kind.rawValue }
    package var executionID: String
    package var traceID: String
    /// The owner the event belongs to (empty for events about no one owner's execution).
    package var ownerID: String
    /// Small descriptors only (ids, counts, names, pointers); bodies live in S3 and are pointed to.
    package var fields: [String: String]
    /// Milliseconds since the Unix epoch.
    package var timeMillis: Int64
    /// Large bodies (an LLM call's prompt and completion): written to the log shard only, never to log lines,
    /// each cut at ``bodyLimit`` (the whole value is in the execution's state).
    package var bodies: [String: String] = [:]
    /// The execution whose span is the trace's root: a continue-as-new chain's first execution (nil: this one).
    package var traceRoot: String?
    package static let bodyLimit = 32 * 1024

    package init(
        _ kind: EventKind, executionID: String, traceID: String, ownerID: String = "", _ fields: [String: String] = [:],
        timeMillis: Int64 = SystemWallClock().nowMillis()
    ) {
        self.kind = kind
        self.executionID = executionID
        self.traceID = traceID
        self.ownerID = ownerID
        self.fields = fields
        self.timeMillis = timeMillis
    }

    /// The event as one log-shard record: `{"event", "time_ms", "seq", "execution_id", "trace_id", "owner_id", "attributes"}`.
    package func record(seq: Int) -> JSONValue {
        var record: [String: JSONValue] = [
            "event": .string(type), "time_ms": .number(Double(timeMillis)), "seq": .number(Double(seq)),
            "execution_id": .string(executionID), "trace_id": .string(traceID), "owner_id": .string(ownerID),
            "attributes": .object(fields.mapValues { .string($0) }),
        ]
        if !bodies.isEmpty {
            record["bodies"] = .object(
                bodies.mapValues {
                    $0.utf8.count <= Self.bodyLimit ? .string($0) : .string(String($0.prefix(Self.bodyLimit / 4)) + MessagePruner.marker)
                })
        }
        return .object(record)
    }
}

/// Where handlers send events; a handler calls ``flush(requestID:)`` once when its invocation ends.
package protocol EventSink: Sendable {
    func emit(_ event: KernelEvent)
    func flush(requestID: String) async
}

extension EventSink {
    /// Nothing buffered by default.
    package func flush(requestID: String) async {}
}

/// Events as structured log lines (`"event": …` plus the ids), the transport every handler has from day one.
package struct LogEventSink: EventSink {
    package let logger: Logger
    package init(logger: Logger) { self.logger = logger }

    package func emit(_ event: KernelEvent) {
        var pairs: [(String, String)] = [("event", event.type), ("execution_id", event.executionID), ("trace_id", event.traceID)]
        if !event.ownerID.isEmpty { pairs.append(("owner_id", event.ownerID)) }
        pairs += event.fields.sorted { $0.key < $1.key }
        logger.log(.info, event.type, pairs: pairs)
        if logger.format == .json, let service = logger.service, let metrics = MetricLine.line(for: event, service: service.service) {
            logger.raw(metrics)
        }
    }
}
