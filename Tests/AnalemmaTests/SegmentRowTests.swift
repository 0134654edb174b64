import Analemma
import Testing

@Suite("Segments in a row: one invocation runs the next segment only when no state-machine step is needed and time allows")
struct SegmentRowTests {
    static let row = SegmentRow(limit: 4, reserveMillis: 10_000)

    @Test(
        "only a continue cursor runs on: a human wait, a fan-out, a hand-over, done or failed go back to the state machine",
        arguments: [Cursor.Status.waitHuman, .fanOut, .continueAsNew, .done, .failed])
    func stopsAtAStateMachineStep(status: Cursor.Status) {
        #expect(!Self.row.mayRunAnother(after: status, ran: 1, longestMillis: 10, remainingMillis: 300_000))
        #expect(Self.row.mayRunAnother(after: .continue, ran: 1, longestMillis: 10, remainingMillis: 300_000))
    }

    @Test("the limit bounds a row (and so how far back a retry may find its head)")
    func limit() {
        #expect(Self.row.mayRunAnother(after: .continue, ran: 3, longestMillis: 0, remainingMillis: 300_000))
        #expect(!Self.row.mayRunAnother(after: .continue, ran: 4, longestMillis: 0, remainingMillis: 300_000))
        #expect(!SegmentRow.single.mayRunAnother(after: .continue, ran: 1, longestMillis: 0, remainingMillis: 300_000))
    }

    @Test(
        "another segment starts only with twice the longest so far plus the reserve before the deadline",
        arguments: [
            (Int64(0), Int64(10_001), true), (0, 10_000, false), (5_000, 20_001, true), (5_000, 20_000, false), (1 << 62, 1 << 32, false),
        ])
    func deadline(longest: Int64, remaining: Int64, runs: Bool) {
        #expect(Self.row.mayRunAnother(after: .continue, ran: 1, longestMillis: longest, remainingMillis: remaining) == runs)
    }
}
