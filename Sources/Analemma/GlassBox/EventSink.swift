/// One structured kernel event (node start/finish, checkpoint, model call, HITP, error), always carrying the
/// execution and trace ids. The glass-box issue gives events their full model and transport.
public struct KernelEvent: Sendable, Equatable {
    public var type: String
    public var executionID: String
    public var traceID: String
    /// The owner the event belongs to (empty for events about no one owner's execution).
    public var ownerID: String
    public var fields: [String: String]

    public init(_ type: String, executionID: String, traceID: String, ownerID: String = "", _ fields: [String: String] = [:]) {
        self.type = type
        self.executionID = executionID
        self.traceID = traceID
        self.ownerID = ownerID
        self.fields = fields
    }
}

/// Where handlers send events: one method.
public protocol EventSink: Sendable {
    func emit(_ event: KernelEvent)
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
