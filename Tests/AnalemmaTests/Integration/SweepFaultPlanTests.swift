import Analemma
import Foundation
import Testing

@Suite("Sweeper under a fault plan (local stack)", .enabled(if: LocalAWS.enabled), .serialized)
struct SweepFaultPlanTests {
    typealias World = CommitFaultPlanTests.World

    /// A live execution (two checkpoints), an interrupted commit of another execution (PREPARED, blocks uploaded and
    /// referenced, head never moved) and an orphan block nothing references.
    struct Scene {
        let world: World
        let live: StateBag
        let liveManifests: [Manifest]
        let interrupted: String
        let orphan: String
    }

    static func scene(_ aws: LocalAWS, transport: any HTTPTransport) async throws -> Scene {
        let world = World(aws: aws, owner: "sw-\(UUID().uuidString.prefix(8))", execution: "ex-\(UUID().uuidString.prefix(8))")
        let healthy = try world.writer(transport: transport)
        let (s0, s1) = try CommitFaultPlanTests.states(world.execution, world.owner)
        let m0 = try await healthy.commit(
            s0, previous: nil, expected: .empty, executionID: world.execution, ownerID: world.owner, segmentIndex: 0)
        let m1 = try await healthy.commit(
            s1, previous: m0, expected: try await healthy.manifests.head(executionID: world.execution), executionID: world.execution,
            ownerID: world.owner, segmentIndex: 1)
        // The interrupted commit: everything but the head move (its last request) went through.
        let other = "ex-\(UUID().uuidString.prefix(8))"
        var state = try StateBag(executionID: other, ownerID: world.owner, traceID: "t")
        try state.merge(["x": try JSONEncoder().encode("interrupted \(UUID())")], from: .node("n"))
        let probe = FaultPlanTransport(inner: transport, failAt: Int.max, ambiguous: false)
        let dry = "ex-\(UUID().uuidString.prefix(8))"
        var dryState = try StateBag(executionID: dry, ownerID: world.owner, traceID: "t")
        try dryState.merge(["x": try JSONEncoder().encode("measure \(UUID())")], from: .node("n"))
        _ = try await world.writer(transport: probe, retry: .none).commit(
            dryState, previous: nil, expected: .empty, executionID: dry, ownerID: world.owner, segmentIndex: 0)
        try await healthy.deleteHistory(executionID: dry, ownerID: world.owner)  // only measured its request count
        let cut = FaultPlanTransport(inner: transport, failAt: probe.requests, ambiguous: false)
        _ = try? await world.writer(transport: cut, retry: .none).commit(
            state, previous: nil, expected: .empty, executionID: other, ownerID: world.owner, segmentIndex: 0)
        // The orphan.
        let bytes = Data("orphan \(UUID())".utf8)
        let orphan = Digest.hex(Digest.sha256(bytes))
        try await healthy.blocks.put(owner: world.owner, hash: orphan, bytes: bytes)
        return Scene(world: world, live: s1, liveManifests: [m0, m1], interrupted: other, orphan: orphan)
    }

    static func sweeper(_ world: World, _ transport: any HTTPTransport, retry: RetryPolicy = RetryPolicy()) throws -> Sweeper {
        let writer = try world.writer(transport: transport, retry: retry)
        let blocks = try #require(writer.blocks as? S3BlockStore)
        return Sweeper(checkpoints: writer, s3: blocks.s3, bucket: world.aws.bucket, owner: world.owner)
    }

    /// Sweep with a fault at request `failAt`, sweep again healthy, run the GC worker over what was queued; then
    /// check: 0 orphans, the live execution reconstructs byte-identically, nothing it uses is gone.
    static func run(failAt: Int, ambiguous: Bool, transport: any HTTPTransport, invariants: Invariants) async throws -> Bool {
        let aws = try LocalAWS.require()
        let scene = try await scene(aws, transport: transport)
        let world = scene.world
        let faults = FaultPlanTransport(inner: transport, failAt: failAt, ambiguous: ambiguous)
        let crashed = (try? await sweeper(world, faults, retry: .none).sweep()) == nil
        _ = try await sweeper(world, transport).sweep()
        let healthy = try world.writer(transport: transport)
        let gc = GarbageCollector(references: healthy.references, blocks: try #require(healthy.blocks as? S3BlockStore), graceMillis: 0)
        var pending = Set(await world.queue.queued.filter { $0.owner == world.owner }.map(\.hash))
        for _ in 0..<3 where !pending.isEmpty {  // never-referenced blocks are condemned first, deleted next time
            for hash in pending {
                let verdict = try await gc.collect(owner: world.owner, hash: hash).verdict
                if [.deleted, .alreadyDeleted, .kept].contains(verdict) { pending.remove(hash) }
            }
        }
        let label = "failAt \(failAt) ambiguous \(ambiguous)"
        invariants.check(pending.isEmpty, "\(label): GC left \(pending.count) candidates undecided")
        let stored = Set(
            try await gc.blocks.s3.listObjects(bucket: aws.bucket, prefix: "owners/\(world.owner)/blocks/").map {
                String($0.key.split(separator: "/").last!)
            })
        var live = Set<String>()  // blocks and pages
        for m in scene.liveManifests { live.formUnion(try await healthy.pages.reachable(m)) }
        invariants.check(stored == live, "\(label): stored blocks \(stored.count) ≠ live blocks \(live.count) (orphans or lost blocks)")
        invariants.check(!stored.contains(scene.orphan), "\(label): the orphan survived")
        invariants.check(
            try await healthy.manifests.prepared(executionID: scene.interrupted, olderThan: Int64.max).isEmpty,
            "\(label): the interrupted commit is still PREPARED")
        let head = try await healthy.manifests.head(executionID: world.execution)
        let manifest = try #require(try await healthy.manifests.manifest(executionID: world.execution, manifestID: head.manifestID!))
        invariants.check(try await StateHydrator(store: healthy.blocks).hydrate(manifest) == scene.live, "\(label): live state changed")
        return crashed
    }

    @Test("every fault point of a sweep, crash or lost answer, is finished by the next sweep", arguments: [false, true])
    func faultPoints(ambiguous: Bool) async throws {
        let aws = try LocalAWS.require()
        let transport = SocketTransport(caFile: aws.env["ANALEMMA_IT_CA"])
        let counting = FaultPlanTransport(inner: transport, failAt: Int.max, ambiguous: false)
        let measured = try await Self.scene(aws, transport: transport)
        _ = try await Self.sweeper(measured.world, counting, retry: .none).sweep()
        let requests = counting.requests
        #expect(requests >= 6, "a sweep of this scene scans, lists, aborts and queues: \(requests) requests")
        let invariants = Invariants()
        var covered = 0
        for failAt in 1...requests {
            if try await Self.run(failAt: failAt, ambiguous: ambiguous, transport: transport, invariants: invariants) { covered += 1 }
        }
        #expect(covered == requests, "every request of the sweep was a fault point")
        ReliabilityReport.record(
            "sweep" + (ambiguous ? "/lost-answer" : "/crash"), scenarios: requests, faultPoints: covered, violations: invariants.violations)
    }
}
