#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// Segments in a row: one `run` invocation runs the next segment too while no state-machine step is needed between
/// them (the cursor still says `continue`: no human, no Distributed Map, no hand-over, not done) and the Lambda
/// deadline leaves room, checkpointing each. Every segment in a row costs no Step Functions transition of its own (a
/// segment per invocation costs two: RunSegment and Route).
///
/// A segment of a row that fails fails the invocation as a lone segment would (nothing runs twice behind the
/// state machine's back), though the state machine still holds the payload the row began with: the steps that
/// follow find the head up to ``SegmentRow/limit`` commits on and stand on it (``Turn/Position/namedWithin(steps:)``):
/// a Retry replays to the row's last checkpoint and runs the failed segment from there, Heal heals the segment the
/// head's cursor names, RecordFailure records it (it always reads the latest head).
package struct SegmentRow: Sendable, Equatable {
    /// Segments one invocation may run in a row (`SEGMENTS_PER_INVOCATION`; 1: one per invocation, as before).
    package var limit: Int
    /// Time always left before the deadline when a segment starts, beyond twice the longest segment so far.
    package var reserveMillis: Int64

    package init(limit: Int = 64, reserveMillis: Int64 = 10_000) {
        self.limit = limit
        self.reserveMillis = reserveMillis
    }

    /// One segment per invocation.
    package static let single = SegmentRow(limit: 1)

    /// Whether another segment may start after `ran` segments, the last of which left `status`: only a `continue`
    /// cursor, under the limit, with twice the longest segment so far plus the reserve still before the deadline.
    package func mayRunAnother(after status: Cursor.Status, ran: Int, longestMillis: Int64, remainingMillis: Int64) -> Bool {
        guard status == .continue, ran < limit else { return false }
        let longest = min(max(longestMillis, 0), Int64(Int32.max))
        return remainingMillis > longest * 2 + reserveMillis
    }
}

extension SegmentRunnerService {
    /// `run` for as many segments in a row as ``row`` and the deadline allow; the payload after the last one. A retry
    /// that finds its row committed returns what the first run returned, and runs nothing.
    func runInRow(_ k: KernelPayload, context: LambdaContext) async throws -> KernelPayload {
        let clock = checkpoints.clock
        var started = clock.nowMillis()
        let first = try await run(k, within: row.limit)
        if first.replayed { return first.next }
        var payload = first.next
        var ran = 1
        var longest = clock.nowMillis() - started
        while row.mayRunAnother(after: payload.cursor.status, ran: ran, longestMillis: longest, remainingMillis: context.remainingMillis) {
            await events.flush(requestID: context.requestID)  // the viewer sees each segment as it ends
            started = clock.nowMillis()
            payload = try await run(payload).next
            ran += 1
            longest = max(longest, clock.nowMillis() - started)
        }
        return payload
    }
}
