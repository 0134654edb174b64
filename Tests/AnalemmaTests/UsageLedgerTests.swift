import Analemma
import Foundation
import Testing

@Suite("Usage ledger: what an invocation counts goes to the execution it acts for, once")
struct UsageLedgerTests {
    static func put(_ meter: MeteredTransport) async throws {
        _ = try await meter.send(CostTests.signed("s3", "PUT"), timeout: .seconds(1))
    }

    static func meter(_ puts: Int) -> MeteredTransport {
        MeteredTransport(RecordingTransport(Array(repeating: .respond(200, ""), count: puts)))
    }

    @Test("a commit records what came before it; what came after it, and the invocation, go to the next commit")
    func remainder() async throws {
        let meter = Self.meter(5)
        let ledger = UsageLedger(meter: meter, memoryMegabytes: 1024)
        ledger.begin("e1", transitions: 2)
        try await Self.put(meter)
        try await Self.put(meter)
        let first = ledger.take(for: "e1")
        #expect(first.s3Writes == 2 && first.lambdaRequests == 1 && first.transitions == 2)
        try await Self.put(meter)  // the commit's own PUT
        ledger.end()
        ledger.begin("e1", transitions: 2)
        try await Self.put(meter)
        let second = ledger.take(for: "e1")
        // The commit's PUT and the first invocation's duration, then this one's PUT, request and transitions.
        #expect(second.s3Writes == 2 && second.lambdaRequests == 1 && second.transitions == 2)
        #expect(second.lambdaMegabyteMillis >= 1024 && second.lambdaMegabyteMillis % 1024 == 0)
        #expect(ledger.take(for: "e1").lambdaRequests == 0)  // a second commit in the same invocation
        ledger.end()
        ledger.begin("e1", transitions: 2)  // finalize: no commit
        let closing = ledger.closing(for: "e1")
        #expect(closing.lambdaRequests == 1 && closing.transitions == 2 && closing.s3Writes == 0 && closing.lambdaMegabyteMillis > 0)
        ledger.end()  // closing reported this invocation: nothing waits
        ledger.begin("e1", transitions: 0)
        let after = ledger.take(for: "e1")  // only the new invocation's request: nothing waited
        #expect(after.s3Writes == 0 && after.lambdaMegabyteMillis == 0 && after.lambdaRequests == 1)
    }

    @Test("another execution's invocation, a refused one and a map chunk's count nothing for the execution")
    func attribution() async throws {
        let meter = Self.meter(3)
        let ledger = UsageLedger(meter: meter, memoryMegabytes: 128)
        ledger.begin("e2", transitions: 2)
        try await Self.put(meter)
        ledger.end()
        ledger.begin("e1", transitions: 2)
        try await Self.put(meter)
        ledger.abandon()  // refused: not e1's to pay for
        ledger.end()
        ledger.begin(nil, transitions: 0)
        try await Self.put(meter)
        ledger.end()
        ledger.begin("e1", transitions: 2)
        let e1 = ledger.take(for: "e1")
        #expect(e1.s3Writes == 0 && e1.lambdaMegabyteMillis == 0)
        let e2 = ledger.take(for: "e2")
        #expect(e2.s3Writes == 1 && e2.lambdaRequests == 1 && e2.transitions == 2)
    }

    @Test("what a failed commit took is given back to the retry")
    func giveBack() async throws {
        let meter = Self.meter(1)
        let ledger = UsageLedger(meter: meter, memoryMegabytes: 128)
        ledger.begin("e1", transitions: 2)
        try await Self.put(meter)
        let taken = ledger.take(for: "e1")
        ledger.giveBack(taken, for: "e1")
        #expect(ledger.take(for: "e1") == taken)
    }

    @Test(
        "a Distributed Map's children count as DescribeMapRun reports them, bounded",
        arguments: [(0, 1, 0), (100, 101, 100), (Int.max, Usage.maxCount, Usage.maxCount), (-5, 1, 0)])
    func children(total: Int, requests: Int, transitions: Int) throws {
        let counts = try JSONDecoder().decode(
            StepFunctions.MapRun.Counts.self,
            from: Data(#"{"pending":0,"running":0,"succeeded":0,"failed":0,"timedOut":0,"aborted":0,"total":\#(total)}"#.utf8))
        let usage = SegmentRunnerService.childUsage(chunks: counts)
        #expect(usage.lambdaRequests == requests && usage.transitions == transitions)
        #expect((usage + usage).lambdaRequests <= Usage.maxCount)  // what a stored cursor can hold and read back
    }
}
