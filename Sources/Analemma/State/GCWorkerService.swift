#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// The `gc-worker` Tiny Handler: an SQS-triggered batch of GC candidates (`{"owner_id", "block", "reason"}` bodies)
/// through ``GarbageCollector``. Deferred blocks are queued again with the remaining delay; messages that fail are
/// reported in `batchItemFailures` (the rest of the batch is deleted), so SQS redelivers only those and moves them
/// to the DLQ after the queue's `maxReceiveCount`.
/// https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-errorhandling.html
public struct GCWorkerService: LambdaHandler {
    package let collector: GarbageCollector
    package let queue: any GCQueue
    package let events: any EventSink
    /// Runs on `{"action": "sweep"}` (the schedule's event).
    package let sweeper: Sweeper?
    /// Runs on `{"action": "retain"}` (the schedule's event).
    package let retention: Retention?

    package init(
        collector: GarbageCollector, queue: any GCQueue, events: any EventSink, sweeper: Sweeper? = nil, retention: Retention? = nil
    ) {
        self.collector = collector
        self.queue = queue
        self.events = events
        self.sweeper = sweeper
        self.retention = retention
    }

    /// Builds the function on the system's sockets (HTTP, TLS); the settings are those of the next initialiser.
    public init(environment: FunctionEnvironment, logger: Logger) throws {
        try self.init(environment: environment, logger: logger, transport: SocketTransport())
    }

    /// Reads `STATE_BUCKET`, `MANIFEST_TABLE`, `BLOCK_REFERENCES_TABLE`, `GC_QUEUE_URL`, `GC_GRACE_SECONDS` (default 1200),
    /// `RETENTION_KEEP_LAST` and `RETENTION_MAX_AGE_DAYS` (unset: histories are kept), `RETENTION_MIN_AGE_SECONDS`
    /// (default one day: an execution that ended more recently is never expired), `WORKFLOW_STATE_MACHINE_ARN` (whose
    /// executions retention may describe: `AccessDenied` on one of them stops the pass).
    package init(environment: FunctionEnvironment, logger: Logger, transport: any HTTPTransport) throws {
        let client = try AWSClient(environment: environment, transport: transport)
        let bucket = try environment.require("STATE_BUCKET", "the state bucket")
        let grace = try environment.integer("GC_GRACE_SECONDS", default: 1200)
        guard grace >= 0 else { throw AnalemmaError(.invalidConfiguration, "GC_GRACE_SECONDS must not be negative") }
        let db = try DynamoDB(client: client)
        let s3 = try S3(client: client)
        let references = BlockReferences(db: db, table: try environment.require("BLOCK_REFERENCES_TABLE", "the block reference table"))
        let blocks = S3BlockStore(s3: s3, bucket: bucket)
        let queue = SQSGCQueue(
            sqs: try SQS(client: client), queueURL: try environment.require("GC_QUEUE_URL", "the GC queue"), delaySeconds: grace)
        let checkpoints = CheckpointWriter(
            blocks: blocks, manifests: ManifestStore(db: db, table: try environment.require("MANIFEST_TABLE", "the manifest table")),
            references: references, gcQueue: queue, graceMillis: Int64(grace) * 1000)
        let keepLast = environment["RETENTION_KEEP_LAST"].flatMap { $0.isEmpty ? nil : $0 }
        let maxAge = environment["RETENTION_MAX_AGE_DAYS"].flatMap { $0.isEmpty ? nil : $0 }
        guard keepLast.map({ Int($0).map { $0 >= 1 } ?? false }) ?? true,
            maxAge.map({ Int($0).map { (1...36_500).contains($0) } ?? false }) ?? true
        else {
            throw AnalemmaError(
                .invalidConfiguration, "RETENTION_KEEP_LAST and RETENTION_MAX_AGE_DAYS (at most 36500) must be positive integers")
        }
        let minAge = try environment.integer("RETENTION_MIN_AGE_SECONDS", default: Int(Retention.defaultMinAgeMillis / 1000))
        guard (0...(10 * 366 * 86_400)).contains(minAge) else {
            throw AnalemmaError(.invalidConfiguration, "RETENTION_MIN_AGE_SECONDS must be between 0 and ten years")
        }
        let stepFunctions = try StepFunctions(
            client: client, stateMachineARN: environment["WORKFLOW_STATE_MACHINE_ARN"].flatMap { $0.isEmpty ? nil : $0 })
        self.init(
            collector: GarbageCollector(references: references, blocks: blocks, graceMillis: Int64(grace) * 1000), queue: queue,
            events: LogEventSink(logger: logger), sweeper: Sweeper(checkpoints: checkpoints, s3: s3, bucket: bucket),
            retention: Retention(
                checkpoints: checkpoints, executions: stepFunctions,
                artifacts: S3ExecutionArtifacts(s3: s3, bucket: bucket, stepFunctions: stepFunctions), keepLast: keepLast.flatMap(Int.init),
                maxAgeMillis: maxAge.flatMap(Int64.init).map { $0 * 86_400_000 }, minAgeMillis: Int64(minAge) * 1000))
    }

    struct Event: Decodable {
        struct Record: Decodable {
            var messageId: String
            var body: String
        }
        var Records: [Record]
    }

    struct Candidate: Decodable {
        var owner_id: String
        var block: String
        var reason: String?
    }

    public func handle(_ event: Data, context: LambdaContext) async throws -> Data {
        if let members = JSONScanner.object(event), let action = members["action"] {
            let data: Data
            switch (action, sweeper, retention) {
            case (Data(#""sweep""#.utf8), let sweeper?, _): data = try JSONEncoder().encode(try await sweeper.sweep())
            case (Data(#""retain""#.utf8), _, let retention?): data = try JSONEncoder().encode(try await retention.apply())
            default: throw AnalemmaError(.invalidEvent, "gc-worker action must be \"sweep\" or \"retain\" (or an SQS event)")
            }
            events.emit(KernelEvent(.gcReport, executionID: "", traceID: "", ["report": String(decoding: data, as: UTF8.self)]))
            return data
        }
        let batch: Event
        do { batch = try JSONDecoder().decode(Event.self, from: event) } catch {
            throw AnalemmaError(.invalidEvent, "gc-worker expects an SQS event {\"Records\": [{\"messageId\", \"body\"}]}: \(error)")
        }
        var failures: [String] = []
        for record in batch.Records {
            do {
                let c = try Self.candidate(record.body)
                let (verdict, retry) = try await collector.collect(owner: c.owner_id, hash: c.block)
                if verdict == .deferred {
                    try await queue.enqueue(owner: c.owner_id, hash: c.block, reason: c.reason ?? "deferred by GC")
                }
                events.emit(
                    KernelEvent(
                        .gcBlock, executionID: "", traceID: "",
                        [
                            "owner_id": c.owner_id, "block": c.block, "verdict": verdict.rawValue,
                            "retry_after_s": retry.map(String.init) ?? "",
                        ]))
            } catch {
                failures.append(record.messageId)
                context.logger.error(
                    "GC message failed", ["messageId": record.messageId, "error": (error as? AnalemmaError)?.description ?? "\(error)"])
            }
        }
        let items = failures.map { JSONValue.object(["itemIdentifier": .string($0)]) }
        return JSONValue.object(["batchItemFailures": .array(items)]).jsonData()
    }

    /// A message body, checked: an owner id a pointer accepts and a 64-hex block hash.
    static func candidate(_ body: String) throws -> Candidate {
        guard let c = try? JSONDecoder().decode(Candidate.self, from: Data(body.utf8)) else {
            throw AnalemmaError(.invalidEvent, "GC message is not {\"owner_id\", \"block\"}: \(String(body.prefix(200)))")
        }
        try StatePointer.checkOwner(c.owner_id)
        guard c.block.utf8.count == 64, c.block.utf8.allSatisfy({ (48...57).contains($0) || (97...102).contains($0) }) else {
            throw AnalemmaError(.invalidEvent, "GC message names block \(c.block.prefix(80).debugDescription): not a SHA-256 hex digest")
        }
        return c
    }
}
