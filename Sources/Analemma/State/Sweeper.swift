#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// The periodic safety net (scheduled; `make sweep` locally): rolls back interrupted commits from their recovery
/// records, rebuilds reachability from every live manifest, and queues for GC each block object that no live
/// manifest reaches and that is older than the grace period. Queuing is always safe: the GC worker re-verifies
/// references before it deletes anything, so a block a writer is about to reuse survives.
package struct Sweeper: Sendable {
    package struct Report: Codable, Sendable, Equatable {
        package var abortedCommits = 0
        package var queuedFromRecovery = 0
        package var liveManifests = 0
        package var reachableBlocks = 0
        package var objectsScanned = 0
        package var orphansQueued = 0

        enum CodingKeys: String, CodingKey {
            case abortedCommits = "aborted_commits"
            case queuedFromRecovery = "queued_from_recovery"
            case liveManifests = "live_manifests"
            case reachableBlocks = "reachable_blocks"
            case objectsScanned = "objects_scanned"
            case orphansQueued = "orphans_queued"
        }
    }

    package let checkpoints: CheckpointWriter
    package let s3: S3
    package let bucket: String
    /// Sweep one owner only (its manifests and `owners/<owner>/blocks/`); nil sweeps everyone.
    package var owner: String?

    package init(checkpoints: CheckpointWriter, s3: S3, bucket: String, owner: String? = nil) {
        self.checkpoints = checkpoints
        self.s3 = s3
        self.bucket = bucket
        self.owner = owner
    }

    package func sweep() async throws -> Report {
        var report = Report()
        let now = checkpoints.clock.nowMillis()
        let grace = checkpoints.graceMillis
        var values: DynamoItem = [":m": .s("M#")]
        if let owner { values[":o"] = .s(owner) }
        let items = try await checkpoints.manifests.db.scan(
            table: checkpoints.manifests.table, filter: "begins_with(sk, :m)" + (owner == nil ? "" : " AND owner_id = :o"),
            .init(values: values))
        // 1. Interrupted commits: PREPARED records older than the grace period (and ABORTED ones recovery has not
        // finished with) are handed to recovery, which aborts them, releases their references and queues their blocks.
        var interrupted: [String: (owner: String, stale: Int)] = [:]
        for item in items {
            let state = item["state"]?.string.flatMap(ManifestState.init(rawValue:))
            let stale = state == .prepared && (item["prepared_at"]?.int).map({ Int64($0) <= now - grace }) ?? true
            guard stale || state == .aborted, let m = try ManifestStore.decode([item]).first else { continue }
            interrupted[m.executionID, default: (m.ownerID, 0)].stale += stale ? 1 : 0
        }
        for (execution, entry) in interrupted.sorted(by: { $0.key < $1.key }) {
            report.queuedFromRecovery += try await checkpoints.recover(executionID: execution, ownerID: entry.owner).count
            report.abortedCommits += entry.stale
        }
        // 2. Reachability from live manifests (committed, and commits still within their grace period).
        // A manifest reaches its overlay's blocks, its page tree and the tree's blocks; a subtree already walked
        // (shared with another manifest: same hash, same content) is not walked again.
        var reachedBy: [String: Set<String>] = [:]  // owner → block and page hashes
        for item in items {
            let state = item["state"]?.string.flatMap(ManifestState.init(rawValue:))
            guard state == .committed || state == .prepared, let m = try ManifestStore.decode([item]).first else { continue }
            report.liveManifests += 1
            let seen = reachedBy[m.ownerID] ?? []
            // A commit in flight may not have uploaded its pages yet: what they reach is older and reached otherwise.
            let reached = try await checkpoints.pages.reachable(m, skipping: seen, tolerant: state == .prepared)
            reachedBy[m.ownerID] = seen.union(reached)
            reachedBy[m.ownerID]?.formUnion(ManifestStore.TakenReferences(item).hashes)
        }
        let reachable = Set(reachedBy.flatMap { owner, hashes in hashes.map { "owners/\(owner)/blocks/\($0)" } })
        report.reachableBlocks = reachable.count
        // 3. Orphans: block objects no live manifest reaches, older than the grace period.
        let prefix = owner.map { "owners/\($0)/blocks/" } ?? "owners/"
        for object in try await s3.listObjects(bucket: bucket, prefix: prefix) {
            let parts = object.key.split(separator: "/", omittingEmptySubsequences: false)
            guard parts.count == 4, parts[2] == "blocks" else { continue }
            report.objectsScanned += 1
            guard !reachable.contains(object.key), let modified = object.lastModifiedMillis, modified <= now - grace else { continue }
            try await checkpoints.gcQueue.enqueue(
                owner: String(parts[1]), hash: String(parts[3]), reason: "sweep: no live manifest reaches it")
            report.orphansQueued += 1
        }
        return report
    }
}
