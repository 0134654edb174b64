#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// One structured kernel event (segment and node start/finish, checkpoint, model call, HITP, map progress, error),
/// always carrying the execution, trace and owner ids and the time it happened. Its kind names its attributes
/// (``EventKind``, the catalogue).
public struct KernelEvent: Sendable, Equatable {
    public var kind: EventKind
    /// The event's name on the wire (`"event"`).
    public var type: String { kind.rawValue }
    public var executionID: String
    public var traceID: String
    /// The owner the event belongs to (empty for events about no one owner's execution).
    public var ownerID: String
    /// Small descriptors only (ids, counts, names, pointers); bodies live in S3 and are pointed to.
    public var fields: [String: String]
    /// Milliseconds since the Unix epoch.
    public var timeMillis: Int64
    /// Large bodies (an LLM call's prompt and completion): written to the log shard only, never to log lines,
    /// each cut at ``bodyLimit`` (the whole value is in the execution's state).
    public var bodies: [String: String] = [:]
    public static let bodyLimit = 32 * 1024

    public init(
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
    public func record(seq: Int) -> JSONValue {
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
public protocol EventSink: Sendable {
    func emit(_ event: KernelEvent)
    func flush(requestID: String) async
}

extension EventSink {
    /// Nothing buffered by default.
    public func flush(requestID: String) async {}
}

/// Events as structured log lines (`"event": …` plus the ids), the transport every handler has from day one.
public struct LogEventSink: EventSink {
    public let logger: Logger
    public init(logger: Logger) { self.logger = logger }

    public func emit(_ event: KernelEvent) {
        var pairs: [(String, String)] = [("event", event.type), ("execution_id", event.executionID), ("trace_id", event.traceID)]
        if !event.ownerID.isEmpty { pairs.append(("owner_id", event.ownerID)) }
        pairs += event.fields.sorted { $0.key < $1.key }
        logger.log(.info, event.type, pairs: pairs)
    }
}
