import Synchronization

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// The pointer-only message that announces a new log shard to the WebSocket notifier.
package struct EventNotification: Codable, Sendable, Equatable {
    package var owner_id: String
    package var execution_id: String
    package var trace_id: String
    /// `s3://<bucket>/owners/<owner>/executions/<key>/events/<name>.jsonl`
    package var shard: String
    package var count: Int
    /// The last event's type (`execution_finished` lets a viewer stop waiting without reading the shard).
    package var last_event: String

    package init(owner_id: String, execution_id: String, trace_id: String, shard: String, count: Int, last_event: String) {
        self.owner_id = owner_id
        self.execution_id = execution_id
        self.trace_id = trace_id
        self.shard = shard
        self.count = count
        self.last_event = last_event
    }
}

/// Where shard announcements go: one method.
package protocol EventPublisher: Sendable {
    func publish(_ notification: EventNotification) async throws
}

/// Announcements on an SQS FIFO queue, grouped by execution (so the notifier sees an execution's shards in order)
/// and deduplicated by shard (a retried invocation announces nothing twice).
package struct SQSEventPublisher: EventPublisher {
    package let sqs: SQS
    package let queueURL: String
    package init(sqs: SQS, queueURL: String) {
        self.sqs = sqs
        self.queueURL = queueURL
    }

    package func publish(_ n: EventNotification) async throws {
        let body = String(decoding: try CanonicalJSON.encode(n), as: UTF8.self)
        let fifo = queueURL.hasSuffix(".fifo")
        _ = try await sqs.send(
            queueURL: queueURL, body: body, groupID: fifo ? StatePointer.executionKey(n.execution_id) : nil,
            deduplicationID: fifo ? Digest.hex(Digest.sha256(Data(n.shard.utf8))) : nil)
    }
}

/// The glass-box event sink: every event is a log line at once; events of an owner's execution are also kept and,
/// when the invocation ends (``flush(requestID:)``), written as one S3 log shard per execution and announced.
///
/// Observability never fails a workflow step: a shard or announcement that cannot be written is a warning in the
/// log (the events are there too).
package final class EventRecorder: EventSink {
    package let log: LogEventSink
    package let eventLog: EventLog?
    package let publisher: (any EventPublisher)?
    /// Where the invocation's spans go when it ends (OTLP); nil: no tracing.
    package let exporter: (any SpanExporter)?
    /// Event types that stay in the log only: one per Distributed Map child (thousands per run), and refused
    /// steps (whose ids did not match stored state).
    private let pending = Mutex<[KernelEvent]>([])
    /// Every event of the invocation with an execution (map chunks included): its spans.
    private let traced = Mutex<[KernelEvent]>([])

    package init(log: LogEventSink, eventLog: EventLog?, publisher: (any EventPublisher)?, exporter: (any SpanExporter)? = nil) {
        self.log = log
        self.eventLog = eventLog
        self.publisher = publisher
        self.exporter = exporter
    }

    package func emit(_ event: KernelEvent) {
        log.emit(event)
        if exporter != nil, !event.executionID.isEmpty, event.kind != .refused { traced.withLock { $0.append(event) } }
        guard eventLog != nil, !event.ownerID.isEmpty, !event.executionID.isEmpty, !event.kind.logOnly else { return }
        pending.withLock { $0.append(event) }
    }

    package func flush(requestID: String) async {
        _ = await flushShards(requestID: requestID)
        await flushSpans()
    }

    /// Exports the invocation's spans; a collector that is down or refuses them is a warning, never a failed step.
    package func flushSpans() async {
        let events = traced.withLock { t in
            defer { t.removeAll() }
            return t
        }
        guard let exporter, !events.isEmpty else { return }
        let spans = SpanBuilder.spans(from: events)
        do { try await exporter.export(spans) } catch {
            log.logger.warn("spans not exported", ["spans": String(spans.count), "error": "\(error)"])
        }
    }

    /// Writes and announces what this invocation recorded; returns the shards written.
    package func flushShards(requestID: String) async -> [StatePointer] {
        let events = pending.withLock { p in
            defer { p.removeAll() }
            return p
        }
        guard let eventLog, !events.isEmpty else { return [] }
        var order: [String] = []
        var byExecution: [String: [KernelEvent]] = [:]
        for e in events {
            let key = e.ownerID + "\u{0}" + e.executionID
            if byExecution[key] == nil { order.append(key) }
            byExecution[key, default: []].append(e)
        }
        var written: [StatePointer] = []
        for key in order {
            let group = byExecution[key]!
            do {
                let pointer = try await eventLog.write(group, requestID: requestID)
                written.append(pointer)
                try await publisher?.publish(
                    EventNotification(
                        owner_id: group[0].ownerID, execution_id: group[0].executionID, trace_id: group[0].traceID,
                        shard: pointer.description, count: group.count, last_event: group[group.count - 1].type))
            } catch {
                log.logger.warn(
                    "event shard not written or announced",
                    ["execution_id": group[0].executionID, "events": String(group.count), "error": "\(error)"])
            }
        }
        return written
    }
}

extension EventRecorder {
    /// From the function environment: shards in `STATE_BUCKET` unless `EVENT_SHARDS=off`; announcements to
    /// `EVENTS_QUEUE_URL` when set (the WebSocket notifier's queue); spans to `OTEL_EXPORTER_OTLP_ENDPOINT` when set.
    package convenience init(environment: FunctionEnvironment, client: AWSClient, logger: Logger) throws {
        let s3 = try S3(client: client)
        let bucket = try environment.require("STATE_BUCKET", "the state bucket")
        let on = (environment["EVENT_SHARDS"] ?? "on").lowercased()
        guard ["on", "off"].contains(on) else {
            throw AnalemmaError(.invalidConfiguration, "environment variable EVENT_SHARDS=\(on.debugDescription) is not on or off")
        }
        var publisher: (any EventPublisher)?
        if let url = environment["EVENTS_QUEUE_URL"], !url.isEmpty {
            publisher = SQSEventPublisher(sqs: try SQS(client: client), queueURL: url)
        }
        self.init(
            log: LogEventSink(logger: logger), eventLog: on == "on" ? EventLog(s3: s3, bucket: bucket) : nil, publisher: publisher,
            exporter: try OTLPHTTPExporter(environment: environment, service: logger.service?.service ?? "analemma"))
    }
}
