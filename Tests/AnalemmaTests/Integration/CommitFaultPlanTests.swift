import Analemma
import Foundation
import Testing

/// Lets the first `failAt - 1` requests through, then "crashes": request `failAt` fails (after reaching the
/// service when `ambiguous`: the write succeeded but the call timed out) and so does every later one.
final class FaultPlanTransport: HTTPTransport, @unchecked Sendable {
    let inner: any HTTPTransport
    let failAt: Int
    let ambiguous: Bool
    private let lock = NSLock()
    private var sent = 0

    init(inner: any HTTPTransport, failAt: Int, ambiguous: Bool) {
        self.inner = inner
        self.failAt = failAt
        self.ambiguous = ambiguous
    }

    var requests: Int { lock.withLock { sent } }

    func send(_ request: HTTPRequest, timeout: Duration) async throws -> HTTPResponse {
        let n = lock.withLock {
            sent += 1
            return sent
        }
        if n < failAt { return try await inner.send(request, timeout: timeout) }
        if n == failAt && ambiguous {
            _ = try await inner.send(request, timeout: timeout)
            throw TransportError("response lost after the request was applied (injected)", sent: true, retryable: false)
        }
        throw TransportError("process crashed before request \(n) (injected)", sent: false, retryable: false)
    }
}

@Suite("Commit protocol under a fault plan (local stack)", .enabled(if: LocalAWS.enabled), .serialized)
struct CommitFaultPlanTests {
    struct World {
        let aws: LocalAWS
        let owner: String
        let execution: String
        let queue = InMemoryGCQueue()

        func writer(
            transport: any HTTPTransport, retry: RetryPolicy = RetryPolicy(), clock: any WallClock = SystemWallClock(),
            graceMillis: Int64 = 0
        ) throws -> CheckpointWriter {
            let env = aws.env
            let client = AWSClient(
                credentials: AWSCredentials(accessKeyID: env["ANALEMMA_IT_KEY"]!, secretAccessKey: env["ANALEMMA_IT_SECRET"]!),
                region: "us-east-1",
                environment: FunctionEnvironment(["AWS_ENDPOINT_URL": env["ANALEMMA_IT_ENDPOINT"]!]), transport: transport, retry: retry)
            let db = try DynamoDB(client: client)
            return CheckpointWriter(
                blocks: S3BlockStore(s3: try S3(client: client), bucket: aws.bucket),
                manifests: ManifestStore(db: db, table: env["ANALEMMA_IT_MANIFEST_TABLE"]!),
                references: BlockReferences(db: db, table: env["ANALEMMA_IT_REFS_TABLE"]!), gcQueue: queue, clock: clock,
                graceMillis: graceMillis)
        }
    }

    /// Two states with more fields than a record's overlay holds: the first commit writes a page tree, the second
    /// changes enough of it to fold its overlay into new pages (so every kind of request is in the fault plan).
    static func states(_ execution: String, _ owner: String) throws -> (StateBag, StateBag) {
        var first = try StateBag(executionID: execution, ownerID: owner, traceID: "t")
        let many = Dictionary(uniqueKeysWithValues: (0..<40).map { ("f\($0)", Data("\($0)".utf8)) })
        try first.merge(
            many.merging(["a": Data("1".utf8), "doc": try JSONEncoder().encode(String(repeating: "orbit ", count: 20_000))]) { a, _ in a },
            from: .node("n"))
        var second = first
        let changed = Dictionary(uniqueKeysWithValues: (0..<35).map { ("f\($0)", Data("\($0 + 100)".utf8)) })
        try second.merge(
            changed.merging([
                "a": Data("2".utf8), "b": Data(#""new""#.utf8),
                "big": try JSONEncoder().encode(String(repeating: "analemma tide ", count: 9_000)),
            ]) { a, _ in a },
            from: .node("n"))
        return (first, second)
    }

    /// Commits segment 0 cleanly, then segment 1 through a transport that fails at request `failAt`, then recovers
    /// with a healthy writer and checks: no dangling pointer, every unreferenced block queued, exact reconstruction.
    func run(failAt: Int, ambiguous: Bool, transport: any HTTPTransport, invariants: Invariants = Invariants()) async throws -> Int {
        let aws = try LocalAWS.require()
        let world = World(aws: aws, owner: "fp-\(UUID().uuidString.prefix(8))", execution: "ex-\(UUID().uuidString.prefix(8))")
        let healthy = try world.writer(transport: transport)
        let (s0, s1) = try Self.states(world.execution, world.owner)
        let m0 = try await healthy.commit(
            s0, previous: nil, expected: .empty, executionID: world.execution, ownerID: world.owner,
            segmentIndex: 0)
        let head0 = try await healthy.manifests.head(executionID: world.execution)
        let faults = FaultPlanTransport(inner: transport, failAt: failAt, ambiguous: ambiguous)
        let faulty = try world.writer(transport: faults, retry: .none)
        do {
            _ = try await faulty.commit(
                s1, previous: m0, expected: head0, executionID: world.execution, ownerID: world.owner, segmentIndex: 1)
        } catch {}
        // Recovery: the next write (or the GC worker) finishes the job.
        try await healthy.recover(executionID: world.execution, ownerID: world.owner)
        let head = try await healthy.manifests.head(executionID: world.execution)
        if head.manifestID == m0.manifestID {
            _ = try await healthy.commit(
                s1, previous: m0, expected: head, executionID: world.execution, ownerID: world.owner, segmentIndex: 1)
        }
        let final = try await healthy.manifests.head(executionID: world.execution)
        let manifest = try #require(try await healthy.manifests.manifest(executionID: world.execution, manifestID: final.manifestID!))
        invariants.check(
            try await StateHydrator(store: healthy.blocks).hydrate(manifest) == s1,
            "failAt \(failAt) ambiguous \(ambiguous): reconstruction")
        let s3 = try S3(
            client: AWSClient(
                credentials: AWSCredentials(accessKeyID: aws.env["ANALEMMA_IT_KEY"]!, secretAccessKey: aws.env["ANALEMMA_IT_SECRET"]!),
                region: "us-east-1",
                environment: FunctionEnvironment(["AWS_ENDPOINT_URL": aws.env["ANALEMMA_IT_ENDPOINT"]!]), transport: transport))
        let stored = Set(
            try await s3.listObjects(bucket: aws.bucket, prefix: "owners/\(world.owner)/blocks/").map {
                String($0.key.split(separator: "/").last!)
            })
        invariants.check(m0.root != nil && manifest.root != nil && manifest.root != m0.root, "the states are paged")
        for m in [m0, manifest] {
            for hash in try await healthy.pages.reachable(m) {
                invariants.check(
                    stored.contains(hash), "failAt \(failAt) ambiguous \(ambiguous): committed manifest points at missing block")
                invariants.check(
                    try await healthy.references.holds(owner: world.owner, execution: world.execution, hash: hash),
                    "unreferenced live block")
            }
        }
        let queued = Set(await world.queue.queued.map(\.hash))
        for hash in stored where try await healthy.references.count(owner: world.owner, hash: hash) == 0 {
            invariants.check(
                queued.contains(hash),
                "failAt \(failAt) ambiguous \(ambiguous): orphan block \(hash.prefix(12)) neither referenced nor queued")
        }
        return faults.requests
    }

    @Test(
        "GC handshake: condemn only unreferenced blocks; a reference cancels a condemnation; a claimed block refuses references until revived"
    )
    func gcHandshake() async throws {
        let aws = try LocalAWS.require()
        let world = World(aws: aws, owner: "gc-\(UUID().uuidString.prefix(8))", execution: "ex-gc-\(UUID().uuidString.prefix(8))")
        let refs = try world.writer(transport: SocketTransport(caFile: aws.env["ANALEMMA_IT_CA"])).references
        let (o, h) = (world.owner, "blockhash")
        try await refs.take(owner: o, execution: "ex-1", hashes: [h])
        try await refs.take(owner: o, execution: "ex-1", hashes: [h])  // idempotent
        try await refs.take(owner: o, execution: "ex-2", hashes: [h])
        #expect(try await refs.count(owner: o, hash: h) == 2)
        #expect(try await refs.condemn(owner: o, hash: h, now: 1) == false, "a referenced block cannot be condemned")
        #expect(try await refs.release(owner: o, execution: "ex-1", hash: h, now: 2) == false)
        #expect(try await refs.release(owner: o, execution: "ex-1", hash: h, now: 3) == false, "releasing twice is a no-op")
        #expect(try await refs.release(owner: o, execution: "ex-2", hash: h, now: 4) == true, "the last release condemns")
        // A writer re-references the block before GC claims it: the condemnation is void.
        try await refs.take(owner: o, execution: "ex-3", hashes: [h])
        #expect(try await refs.claim(owner: o, hash: h, condemnedAt: 4, now: 5) == false)
        #expect(try await refs.release(owner: o, execution: "ex-3", hash: h, now: 6) == true)
        #expect(try await refs.claim(owner: o, hash: h, condemnedAt: 6, now: 7) == true)
        await #expect(throws: BlockReferences.BlockCollected(hash: h, deleted: false)) {
            try await refs.take(owner: o, execution: "ex-4", hashes: [h])
        }
        try await refs.markDeleted(owner: o, hash: h, now: 8)
        await #expect(throws: BlockReferences.BlockCollected(hash: h, deleted: true)) {
            try await refs.take(owner: o, execution: "ex-4", hashes: [h])
        }
        try await refs.revive(owner: o, hash: h)
        try await refs.take(owner: o, execution: "ex-4", hashes: [h])
        #expect(try await refs.count(owner: o, hash: h) == 1)
        // Never-referenced blocks (a crashed commit's uploads) can be condemned too; the queue is SQS with a delay.
        #expect(try await refs.condemn(owner: o, hash: "never-referenced", now: 9) == true)
        let sqs = try SQS(client: try aws.client())
        try await SQSGCQueue(sqs: sqs, queueURL: aws.env["ANALEMMA_IT_GC_QUEUE"]!, delaySeconds: 0).enqueue(
            owner: o, hash: "never-referenced", reason: "test")
        var bodies: [String] = []
        for _ in 0..<5 where !bodies.contains(where: { $0.contains("never-referenced") }) {
            for m in try await sqs.receive(queueURL: aws.env["ANALEMMA_IT_GC_QUEUE"]!, max: 10, waitSeconds: 1) {
                bodies.append(m.Body)
                try await sqs.delete(queueURL: aws.env["ANALEMMA_IT_GC_QUEUE"]!, receiptHandle: m.ReceiptHandle)
            }
        }
        #expect(bodies.contains(#"{"owner_id":"\#(o)","block":"never-referenced","reason":"test"}"#))
    }

    @Test("retention: deleting an execution's history releases its blocks; blocks a fork still uses stay alive")
    func retention() async throws {
        let aws = try LocalAWS.require()
        let world = World(aws: aws, owner: "ret-\(UUID().uuidString.prefix(8))", execution: "ex-parent-\(UUID().uuidString.prefix(8))")
        let forkID = "ex-fork-\(UUID().uuidString.prefix(8))"
        let writer = try world.writer(transport: SocketTransport(caFile: aws.env["ANALEMMA_IT_CA"]))
        let (s0, s1) = try Self.states(world.execution, world.owner)
        let m0 = try await writer.commit(
            s0, previous: nil, expected: .empty, executionID: world.execution, ownerID: world.owner, segmentIndex: 0)
        let m1 = try await writer.commit(
            s1, previous: m0, expected: try await writer.manifests.head(executionID: world.execution), executionID: world.execution,
            ownerID: world.owner,
            segmentIndex: 1)
        // A fork from the first checkpoint shares its blocks.
        var fork = try await StateHydrator(store: writer.blocks).hydrate(m0)
        try fork.merge(["execution_id": try JSONEncoder().encode(forkID)], from: .kernel)
        let f0 = try await writer.commit(
            fork, previous: m0, expected: .empty, executionID: forkID, ownerID: world.owner, segmentIndex: 1)
        let queued = Set(try await writer.deleteHistory(executionID: world.execution, ownerID: world.owner))
        let forkBlocks = try await writer.pages.reachable(f0)
        let parentOnly = try await writer.pages.reachable(m1).union(try await writer.pages.reachable(m0)).subtracting(forkBlocks)
        #expect(!parentOnly.isEmpty && queued == parentOnly)
        for hash in forkBlocks { #expect(try await writer.references.count(owner: world.owner, hash: hash) == 1) }
        #expect(try await writer.manifests.head(executionID: world.execution) == .empty)
        #expect(try await StateHydrator(store: writer.blocks).hydrate(f0) == fork, "the fork still reconstructs")
        #expect(try await writer.deleteHistory(executionID: world.execution, ownerID: world.owner).isEmpty, "running it again is a no-op")
    }

    @Test("references on more blocks than one transaction holds (100 actions) are split, each counted exactly once")
    func manyReferences() async throws {
        let aws = try LocalAWS.require()
        let world = World(aws: aws, owner: "many-\(UUID().uuidString.prefix(8))", execution: "ex-many")
        let refs = try world.writer(transport: SocketTransport(caFile: aws.env["ANALEMMA_IT_CA"])).references
        let hashes = (0..<120).map { "h\($0)" }
        try await refs.take(owner: world.owner, execution: "ex-a", hashes: Array(hashes.prefix(70)))  // some already held below
        try await refs.take(owner: world.owner, execution: "ex-a", hashes: hashes)
        try await refs.take(owner: world.owner, execution: "ex-a", hashes: hashes)
        for hash in ["h0", "h69", "h70", "h119"] { #expect(try await refs.count(owner: world.owner, hash: hash) == 1, "\(hash)") }
    }

    @Test("recovery leaves a commit in flight alone until the grace period has passed")
    func grace() async throws {
        let aws = try LocalAWS.require()
        let world = World(aws: aws, owner: "gr-\(UUID().uuidString.prefix(8))", execution: "ex-gr-\(UUID().uuidString.prefix(8))")
        let transport = SocketTransport(caFile: aws.env["ANALEMMA_IT_CA"])
        let t0: Int64 = 1_800_000_000_000
        let (s0, _) = try Self.states(world.execution, world.owner)
        // A writer that dies right after writing its PREPARED record (request 2 is its first block upload).
        let dying = try world.writer(
            transport: FaultPlanTransport(inner: transport, failAt: 2, ambiguous: false), retry: .none, clock: FixedClock(now: t0))
        await #expect(throws: (any Error).self) {
            _ = try await dying.commit(
                s0, previous: nil, expected: .empty, executionID: world.execution, ownerID: world.owner, segmentIndex: 0)
        }
        let early = try world.writer(transport: transport, clock: FixedClock(now: t0 + 59_000), graceMillis: 60_000)
        #expect(try await early.recover(executionID: world.execution, ownerID: world.owner).isEmpty, "still within the grace period")
        let late = try world.writer(transport: transport, clock: FixedClock(now: t0 + 61_000), graceMillis: 60_000)
        let queued = try await late.recover(executionID: world.execution, ownerID: world.owner)
        #expect(!queued.isEmpty, "past the grace period the dead commit is aborted and its blocks queued")
        #expect(try await late.recover(executionID: world.execution, ownerID: world.owner).isEmpty, "recovery is idempotent")
    }

    @Test("a 1 GB state checkpoints to the local stack and the Step Functions payload stays under 30 KB")
    func gigabyteState() async throws {
        let aws = try LocalAWS.require()
        let world = World(aws: aws, owner: "gb-\(UUID().uuidString.prefix(8))", execution: "ex-gb-\(UUID().uuidString.prefix(8))")
        let writer = try world.writer(transport: SocketTransport(caFile: aws.env["ANALEMMA_IT_CA"]))
        var state = try StateBag(executionID: world.execution, ownerID: world.owner, traceID: "Root=1-gb")
        var total = 0
        for i in 0..<16 {  // 16 × 64 MiB JSON strings
            var value = Data([UInt8(ascii: "\"")])
            value.append(Data(repeating: UInt8(ascii: "a") + UInt8(i % 26), count: 64 << 20))
            value.append(UInt8(ascii: "\""))
            total += value.count
            try state.merge(["corpus_\(i)": value], from: .node("load"))
        }
        #expect(total >= 1 << 30)
        let manifest = try await writer.commit(
            state, previous: nil, expected: .empty, executionID: world.execution, ownerID: world.owner, segmentIndex: 0)
        // What a segment hands back to Step Functions: kernel fields, the manifest pointer, a small result.
        let payload = try await ZeroGravityPayload(s3: try S3(client: try aws.client()), bucket: aws.bucket).encode(
            [
                "execution_id": state["execution_id"]!, "owner_id": state["owner_id"]!, "trace_id": state["trace_id"]!,
                "manifest_id": try JSONEncoder().encode(manifest.manifestID), "segment_index": Data("0".utf8),
                "summary": try JSONEncoder().encode("loaded \(total) bytes"),
            ], ownerID: world.owner, executionID: world.execution)
        #expect(payload.count <= ZeroGravityPayload.limit)
        let one = try await StateHydrator(store: writer.blocks).hydrate(manifest, fields: ["corpus_7"])
        #expect(one["corpus_7"] == state["corpus_7"])
    }

    @Test("a crash or a lost response at every request of a commit is recovered without loss")
    func everyPoint() async throws {
        let transport = SocketTransport(caFile: LocalAWS.current?.env["ANALEMMA_IT_CA"])
        let total = try await run(failAt: .max, ambiguous: false, transport: transport)
        #expect(total >= 5, "a commit makes at least prepare + blocks + references + commit requests")
        print("fault plan: \(total) requests per commit, \(2 * total) injected faults")
        let invariants = Invariants()
        for failAt in 1...total {
            for ambiguous in [false, true] {
                _ = try await run(failAt: failAt, ambiguous: ambiguous, transport: transport, invariants: invariants)
            }
        }
        ReliabilityReport.record("commit", scenarios: 2 * total, faultPoints: 2 * total, violations: invariants.violations)
    }
}
