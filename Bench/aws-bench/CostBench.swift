import Analemma
import Foundation

/// The glass-box events one checkpoint of the workload records, written as the segment runner writes them: one log
/// shard per segment (S3) and its announcement (SQS FIFO), when a queue is given.
struct CheckpointEvents {
    let log: EventLog
    let publisher: SQSEventPublisher?

    func record(segment: Int, execution: String, manifestID: String, changed: [String]) async throws {
        let node = "segment-\(segment)"
        let kinds: [(EventKind, [String: String])] = [
            (.segmentStarted, ["segment": String(segment), "nodes": "1"]),
            (.nodeStarted, ["node": node, "type": "operator", "healing": "false"]),
            (.nodeFinished, ["node": node, "type": "operator", "attempts": "1", "writes": changed.joined(separator: ",")]),
            (
                .checkpoint,
                [
                    "manifest_id": manifestID, "step": String(segment), "changed": changed.joined(separator: ","), "status": "continue",
                    "s3_puts": "1", "bytes": "0",
                ]
            ),
            (.segmentFinished, ["segment": String(segment), "status": "continue", "exit": "next"]),
        ]
        let events = kinds.map {
            KernelEvent($0.0, executionID: execution, traceID: "Root=1-bench", ownerID: "owner-bench", $0.1)
        }
        let shard = try await log.write(events, requestID: "bench-\(segment)")
        try await publisher?.publish(
            EventNotification(
                owner_id: "owner-bench", execution_id: execution, trace_id: "Root=1-bench", shard: shard.description,
                count: events.count, last_event: EventKind.segmentFinished.rawValue))
    }
}

/// What the workload's checkpoints were billed (``MeteredTransport``'s counts × the default ``PriceTable``), as
/// dollars per million checkpoints by service, beside the whole-object baseline measured in the same run.
struct CheckpointBill {
    var delta = Usage()
    var wholeObject = Usage()
    var eventLog = Usage()
    var checkpoints = 0

    mutating func add(delta: Usage, wholeObject: Usage, eventLog: Usage) {
        self.delta = self.delta + delta
        self.wholeObject = self.wholeObject + wholeObject
        self.eventLog = self.eventLog + eventLog
        checkpoints += 1
    }

    /// Step Functions transitions per checkpoint of a linear execution of `segments` segments on
    /// `StateMachines/workflow.asl.json`: Initialize, each row of up to `row` segments in one RunSegment invocation,
    /// and Finalize, each a Task and the state after it (`SegmentEvent.transitions`).
    static func transitionsPerCheckpoint(segments: Int, row: Int) -> Double {
        let invocations = 1 + (segments + row - 1) / row + 1
        return Double(2 * invocations) / Double(segments)
    }

    func report(segments: Int) {
        guard checkpoints > 0 else { return }
        let prices = PriceTable()
        let perMillion = 1e6 / Double(checkpoints)
        let transitions = Self.transitionsPerCheckpoint(segments: segments, row: SegmentRow().limit)
        let single = Self.transitionsPerCheckpoint(segments: segments, row: 1)
        let stepFunctions = transitions * 1e6 * prices.transitionsPerThousand / 1e3
        func lines(_ bench: String, _ usage: Usage, stepFunctions: Double?) {
            let usd = CostReport(usage: usage, prices: prices).usd
            let s3 = usd.s3 * perMillion
            let dynamo = usd.dynamoDB * perMillion
            let sqs = usd.sqs * perMillion
            emit(bench, "usd_per_million_checkpoints.s3", s3, "USD")
            emit(bench, "usd_per_million_checkpoints.dynamodb", dynamo, "USD")
            if sqs > 0 { emit(bench, "usd_per_million_checkpoints.sqs", sqs, "USD") }
            if let stepFunctions { emit(bench, "usd_per_million_checkpoints.stepfunctions", stepFunctions, "USD") }
            emit(bench, "usd_per_million_checkpoints.total", s3 + dynamo + sqs + (stepFunctions ?? 0), "USD")
        }
        lines("state.cost.delta", delta, stepFunctions: stepFunctions)
        lines("state.cost.whole_object", wholeObject, stepFunctions: stepFunctions)
        lines("state.cost.event_log", eventLog, stepFunctions: nil)
        emit("state.cost.delta", "transitions_per_checkpoint", transitions, "count")
        emit(
            "state.cost.one_segment_per_invocation", "usd_per_million_checkpoints.stepfunctions",
            single * 1e6 * prices.transitionsPerThousand / 1e3, "USD")
    }
}
