import Analemma
import Foundation
import Testing

/// Runs `hook` once, right after request `after` went through (to interleave another writer).
final class HookTransport: HTTPTransport, @unchecked Sendable {
    let inner: any HTTPTransport
    let after: Int
    let hook: @Sendable () async throws -> Void
    private let lock = NSLock()
    private var sent = 0

    init(inner: any HTTPTransport, after: Int, hook: @escaping @Sendable () async throws -> Void) {
        self.inner = inner
        self.after = after
        self.hook = hook
    }

    func send(_ request: HTTPRequest, timeout: Duration) async throws -> HTTPResponse {
        let response = try await inner.send(request, timeout: timeout)
        let n = lock.withLock {
            sent += 1
            return sent
        }
        if n == after { try await hook() }
        return response
    }
}

@Suite("GC worker under a fault plan (local stack)", .enabled(if: LocalAWS.enabled), .serialized)
struct GCFaultPlanTests {
    struct World {
        let aws: LocalAWS
        let owner = "gcf-\(UUID().uuidString.prefix(8))"

        func collector(_ transport: any HTTPTransport) throws -> GarbageCollector {
            let client = AWSClient(
                credentials: AWSCredentials(accessKeyID: aws.env["ANALEMMA_IT_KEY"]!, secretAccessKey: aws.env["ANALEMMA_IT_SECRET"]!),
                region: "us-east-1", environment: FunctionEnvironment(["AWS_ENDPOINT_URL": aws.env["ANALEMMA_IT_ENDPOINT"]!]),
                transport: transport, retry: .none)
            return GarbageCollector(
                references: BlockReferences(db: try DynamoDB(client: client), table: aws.env["ANALEMMA_IT_REFS_TABLE"]!),
                blocks: S3BlockStore(s3: try S3(client: client), bucket: aws.bucket), graceMillis: 0)
        }

        /// A block stored and referenced by one execution, then released (condemned).
        func condemnedBlock(_ gc: GarbageCollector) async throws -> String {
            let bytes = Data("block of \(owner) \(UUID())".utf8)
            let hash = Digest.hex(Digest.sha256(bytes))
            try await gc.blocks.put(owner: owner, hash: hash, bytes: bytes)
            try await gc.references.take(owner: owner, execution: "ex-1", hashes: [hash])
            #expect(try await gc.references.release(owner: owner, execution: "ex-1", hash: hash, now: 1))
            return hash
        }

        func objectExists(_ gc: GarbageCollector, _ hash: String) async throws -> Bool {
            try await gc.blocks.s3.headObject(bucket: aws.bucket, key: "owners/\(owner)/blocks/\(hash)") != nil
        }
    }

    /// Crash (or apply-then-lose-the-answer) at every request of a collection, then let a redelivery finish:
    /// the block ends deleted exactly as marked, and a further replay changes nothing.
    @Test("every fault point of a collection is finished by the redelivery; replays are harmless", arguments: [false, true])
    func faultPoints(ambiguous: Bool) async throws {
        let aws = try LocalAWS.require()
        let transport = SocketTransport(caFile: aws.env["ANALEMMA_IT_CA"])
        var covered = 0
        let invariants = Invariants()
        for failAt in 1...5 {
            let world = World(aws: aws)
            let healthy = try world.collector(transport)
            let hash = try await world.condemnedBlock(healthy)
            let faults = FaultPlanTransport(inner: transport, failAt: failAt, ambiguous: ambiguous)
            let crashed = try? await world.collector(faults).collect(owner: world.owner, hash: hash)
            if crashed == nil { covered += 1 }
            var verdict = try await healthy.collect(owner: world.owner, hash: hash).verdict
            invariants.check([.deleted, .alreadyDeleted].contains(verdict), "failAt \(failAt) ambiguous \(ambiguous): \(verdict)")
            invariants.check(try await world.objectExists(healthy, hash) == false, "failAt \(failAt): object survived")
            let marks = try #require(try await healthy.references.marks(owner: world.owner, hash: hash))
            invariants.check(marks.claimedAt != nil && marks.deletedAt != nil && marks.refs == 0, "failAt \(failAt): \(marks)")
            verdict = try await healthy.collect(owner: world.owner, hash: hash).verdict
            invariants.check(verdict == .alreadyDeleted, "a replay after the deletion must do nothing")
        }
        #expect(covered == 4, "the collection of a condemned block makes 4 requests; each was a fault point")
        ReliabilityReport.record(
            "gc" + (ambiguous ? "/lost-answer" : "/crash"), scenarios: 5, faultPoints: covered, violations: invariants.violations)
    }

    @Test("a writer whose reference lands after GC looked wins: the claim fails and the block stays")
    func slowWriterRace() async throws {
        let aws = try LocalAWS.require()
        let world = World(aws: aws)
        let transport = SocketTransport(caFile: aws.env["ANALEMMA_IT_CA"])
        let healthy = try world.collector(transport)
        let hash = try await world.condemnedBlock(healthy)
        let racing = HookTransport(inner: transport, after: 1) {  // right after GC read the marks
            try await healthy.references.take(owner: world.owner, execution: "ex-late", hashes: [hash])
        }
        let verdict = try await world.collector(racing).collect(owner: world.owner, hash: hash).verdict
        #expect(verdict == .kept)
        #expect(try await world.objectExists(healthy, hash))
        #expect(try await healthy.references.count(owner: world.owner, hash: hash) == 1)
        #expect(try await healthy.references.marks(owner: world.owner, hash: hash)?.claimedAt == nil)
    }
}
