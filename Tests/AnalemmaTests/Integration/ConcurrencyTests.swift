import Analemma
import Foundation
import Testing

@Suite("Concurrent writers (local stack)", .enabled(if: LocalAWS.enabled), .serialized)
struct ConcurrencyTests {
    typealias World = CommitFaultPlanTests.World

    /// A state whose `corpus` (a large field: a block of its own) is the same in every execution of the run.
    static func state(_ execution: String, _ owner: String, step: Int, shared: String) throws -> StateBag {
        var s = try StateBag(executionID: execution, ownerID: owner, traceID: "t")
        try s.merge(
            [
                "corpus": try JSONEncoder().encode(String(repeating: "\(shared) shared corpus ", count: 6_000)),
                "mine": try JSONEncoder().encode("\(execution) step \(step)"),
                "step": Data(String(step).utf8),
            ], from: .node("n"))
        return s
    }

    @Test(
        "N executions of one owner commit concurrently over shared blocks: refcounts exact, heads exact; history deletion releases exactly")
    func manyExecutions() async throws {
        let aws = try LocalAWS.require()
        let transport = SocketTransport(caFile: aws.env["ANALEMMA_IT_CA"])
        let owner = "cc-\(UUID().uuidString.prefix(8))"
        let world = World(aws: aws, owner: owner, execution: "unused")
        let writer = try world.writer(transport: transport)
        let executions = (0..<8).map { "ex-\($0)-\(UUID().uuidString.prefix(6))" }
        let invariants = Invariants()
        let finals = try await withThrowingTaskGroup(of: (String, [Manifest], StateBag).self) { group in
            for execution in executions {
                group.addTask {
                    var manifests: [Manifest] = []
                    var last: StateBag?
                    for step in 0..<3 {
                        let state = try Self.state(execution, owner, step: step, shared: step == 2 ? "second" : "first")
                        let head = try await writer.manifests.head(executionID: execution)
                        manifests.append(
                            try await writer.commit(
                                state, previous: manifests.last, expected: head, executionID: execution, ownerID: owner, segmentIndex: step)
                        )
                        last = state
                    }
                    return (execution, manifests, last!)
                }
            }
            var out: [(String, [Manifest], StateBag)] = []
            for try await r in group { out.append(r) }
            return out
        }
        func expectedCounts(_ runs: [(String, [Manifest], StateBag)]) -> [String: Int] {
            var counts: [String: Int] = [:]
            for (_, manifests, _) in runs {
                for hash in Set(manifests.flatMap { $0.fields.values.map(\.block) }) { counts[hash, default: 0] += 1 }
            }
            return counts
        }
        let expected = expectedCounts(finals)
        invariants.check(expected.values.contains(executions.count), "the corpus block is shared by every execution")
        for (hash, count) in expected {
            let actual = try await writer.references.count(owner: owner, hash: hash)
            invariants.check(actual == count, "block \(hash.prefix(12)): \(actual) references, expected \(count)")
        }
        for (execution, manifests, state) in finals {
            let head = try await writer.manifests.head(executionID: execution)
            invariants.check(head.manifestID == manifests.last?.manifestID && head.version == 3, "\(execution): head \(head)")
            invariants.check(try await StateHydrator(store: writer.blocks).hydrate(manifests.last!) == state, "\(execution): state")
        }
        // Half the executions' histories deleted concurrently: every count drops by exactly their share.
        let (gone, kept) = (Array(finals.prefix(4)), Array(finals.dropFirst(4)))
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (execution, _, _) in gone { group.addTask { try await writer.deleteHistory(executionID: execution, ownerID: owner) } }
            try await group.waitForAll()
        }
        let remaining = expectedCounts(kept)
        for hash in expected.keys {
            let actual = try await writer.references.count(owner: owner, hash: hash)
            invariants.check(actual == remaining[hash, default: 0], "after deletion, block \(hash.prefix(12)): \(actual)")
        }
        let queued = Set(await world.queue.queued.map(\.hash))
        invariants.check(
            queued == Set(expected.keys.filter { remaining[$0] == nil }), "exactly the blocks only deleted executions used are queued")
        ReliabilityReport.record("concurrency/executions", scenarios: executions.count, faultPoints: 0, violations: invariants.violations)
    }

    @Test("N writers racing on one execution's head: exactly one wins, no lost update, the losers' references are recovered")
    func oneExecution() async throws {
        let aws = try LocalAWS.require()
        let transport = SocketTransport(caFile: aws.env["ANALEMMA_IT_CA"])
        let world = World(aws: aws, owner: "race-\(UUID().uuidString.prefix(8))", execution: "ex-race-\(UUID().uuidString.prefix(6))")
        let writer = try world.writer(transport: transport)
        let invariants = Invariants()
        let base = try Self.state(world.execution, world.owner, step: 0, shared: "base")
        let m0 = try await writer.commit(
            base, previous: nil, expected: .empty, executionID: world.execution, ownerID: world.owner, segmentIndex: 0)
        let head0 = try await writer.manifests.head(executionID: world.execution)
        let outcomes = try await withThrowingTaskGroup(of: (Int, Manifest?).self) { group in
            for w in 0..<8 {
                group.addTask {
                    var s = base
                    try s.merge(["mine": try JSONEncoder().encode("writer \(w) \(UUID())")], from: .node("n"))
                    do {
                        return (
                            w, try await writer.commit(delta: ["mine": s.fields["mine"]!], previous: m0, expected: head0, segmentIndex: 1)
                        )
                    } catch is ManifestStore.HeadConflict {
                        return (w, nil)
                    }
                }
            }
            var out: [(Int, Manifest?)] = []
            for try await r in group { out.append(r) }
            return out
        }
        let winners = outcomes.compactMap(\.1)
        invariants.check(winners.count == 1, "\(winners.count) writers won the same head")
        let head = try await writer.manifests.head(executionID: world.execution)
        invariants.check(head.manifestID == winners.first?.manifestID && head.version == 2, "head is the winner's: \(head)")
        // The losers' uploads: recovery (past the grace period, here 0) releases what they took and queues them.
        try await writer.recover(executionID: world.execution, ownerID: world.owner)
        let live = Set((winners + [m0]).flatMap { $0.fields.values.map(\.block) })
        for hash in live {
            invariants.check(try await writer.references.count(owner: world.owner, hash: hash) == 1, "live \(hash.prefix(12))")
        }
        let queued = Set(await world.queue.queued.map(\.hash))
        invariants.check(
            queued.count == 7 && queued.isDisjoint(with: live), "the 7 losers' blocks are queued, no live block: \(queued.count)")
        for hash in queued {
            invariants.check(try await writer.references.count(owner: world.owner, hash: hash) == 0, "loser \(hash.prefix(12))")
        }
        ReliabilityReport.record("concurrency/one-head", scenarios: 8, faultPoints: 0, violations: invariants.violations)
    }
}
