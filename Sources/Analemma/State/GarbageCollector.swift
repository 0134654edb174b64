#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// Decides and carries out the fate of one GC candidate block, re-verifying everything in DynamoDB first:
/// referenced again → kept; not yet condemned or condemned less than the grace period ago → comes back later;
/// condemned long enough and still unreferenced → claimed (from then on references fail), deleted from S3, marked
/// deleted. Every step is conditional and idempotent, so a replayed or duplicated message deletes nothing twice and
/// a crash between steps is finished by the next delivery.
package struct GarbageCollector: Sendable {
    package enum Verdict: String, Sendable, Equatable {
        /// Someone references the block (again): nothing to do.
        case kept
        /// Condemned now, or too recently: look again after `retryAfterSeconds`.
        case deferred
        /// Deleted now (or a crashed deletion finished).
        case deleted
        /// Already deleted by an earlier delivery.
        case alreadyDeleted = "already_deleted"
        /// Never referenced and not stored: nothing to collect, and nothing is written (a forged or stale candidate).
        case absent
    }

    package let references: BlockReferences
    package let blocks: S3BlockStore
    package let clock: any WallClock
    /// How long a block stays condemned before it may be deleted. Default 20 minutes: above the longest Lambda
    /// invocation (15 min) plus Step Functions' retries of a step that may still reference it.
    package let graceMillis: Int64

    package init(
        references: BlockReferences, blocks: S3BlockStore, clock: any WallClock = SystemWallClock(), graceMillis: Int64 = 1_200_000
    ) {
        self.references = references
        self.blocks = blocks
        self.clock = clock
        self.graceMillis = graceMillis
    }

    /// One candidate; `retryAfterSeconds` is set for `deferred`.
    package func collect(owner: String, hash: String) async throws -> (verdict: Verdict, retryAfterSeconds: Int?) {
        let now = clock.nowMillis()
        guard let marks = try await references.marks(owner: owner, hash: hash) else {
            // Never referenced: the upload of a crashed commit (condemn it, then wait out the grace period) — or a
            // candidate naming no stored block at all, which leaves no record behind.
            let key = try StatePointer(bucket: blocks.bucket, ownerID: owner, path: "blocks/\(hash)").key
            guard try await blocks.s3.headObject(bucket: blocks.bucket, key: key) != nil else { return (.absent, nil) }
            _ = try await references.condemn(owner: owner, hash: hash, now: now)
            return (.deferred, Int(graceMillis / 1000))
        }
        if marks.deletedAt != nil { return (.alreadyDeleted, nil) }
        if marks.claimedAt != nil {  // a previous delivery claimed it and crashed before finishing
            try await delete(owner: owner, hash: hash, now: now)
            return (.deleted, nil)
        }
        if marks.refs > 0 { return (.kept, nil) }
        guard let condemnedAt = marks.condemnedAt else {
            guard try await references.condemn(owner: owner, hash: hash, now: now) else { return (.kept, nil) }
            return (.deferred, Int(graceMillis / 1000))
        }
        let age = now - condemnedAt
        guard age >= graceMillis else { return (.deferred, Int((graceMillis - age + 999) / 1000)) }
        guard try await references.claim(owner: owner, hash: hash, condemnedAt: condemnedAt, now: now) else { return (.kept, nil) }
        try await delete(owner: owner, hash: hash, now: now)
        return (.deleted, nil)
    }

    func delete(owner: String, hash: String, now: Int64) async throws {
        let key = try StatePointer(bucket: blocks.bucket, ownerID: owner, path: "blocks/\(hash)").key
        try await blocks.s3.deleteObject(bucket: blocks.bucket, key: key)  // deleting a missing key succeeds
        try await references.markDeleted(owner: owner, hash: hash, now: now)
    }
}
