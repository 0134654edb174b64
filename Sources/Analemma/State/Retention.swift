#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// Expires old executions' histories per owner. Only executions that have ended (``standing(_:kernel:lastActiveMillis:now:minAgeMillis:)``)
/// are candidates; a running one, one waiting for a human or with a map in flight is never touched and does not count;
/// one that ended less than `minAgeMillis` ago counts but is never expired. Of the ended ones it keeps the
/// `keepLast` most recent and every one active within `maxAgeMillis`, plus any
/// execution a kept (or live) one was forked from; it expires the rest: first everything the execution alone owns in
/// S3 (``ExecutionArtifacts``: event shards, map chunks and results, payload offloads, ResultWriter files), then its
/// manifests and head through ``CheckpointWriter/deleteHistory(executionID:ownerID:)``, which releases its block
/// references and queues the blocks nothing else holds for GC. A pass that stops half-way is finished by the next.
///
/// Threat model: whoever may call StartExecution can act as any owner (DESIGN §2) and so can start executions
/// that push an owner's older *ended* histories past `keepLast` — no more; liveness is read from Step Functions by
/// the execution's own ARN (the manifest table's key), never from anything an execution wrote.
package struct Retention: Sendable {
    package struct Report: Codable, Sendable, Equatable {
        package var owners = 0
        package var executionsKept = 0
        package var executionsLive = 0
        package var executionsExpired = 0
        package var blocksQueued = 0
        package var objectsDeleted = 0
        package var expired: [String] = []

        enum CodingKeys: String, CodingKey {
            case owners, expired
            case executionsKept = "executions_kept"
            case executionsLive = "executions_live"
            case executionsExpired = "executions_expired"
            case blocksQueued = "blocks_queued"
            case objectsDeleted = "objects_deleted"
        }
    }

    /// An execution ended this recently is never expired: one day (`RETENTION_MIN_AGE_SECONDS`).
    package static let defaultMinAgeMillis: Int64 = 86_400_000

    package let checkpoints: CheckpointWriter
    package let executions: any ExecutionStatusSource
    package let artifacts: any ExecutionArtifacts
    /// Most recent ended executions kept per owner (nil: no count limit).
    package let keepLast: Int?
    /// Executions active more recently than this are kept (nil: no age limit).
    package let maxAgeMillis: Int64?
    package let minAgeMillis: Int64

    package init(
        checkpoints: CheckpointWriter, executions: any ExecutionStatusSource, artifacts: any ExecutionArtifacts, keepLast: Int?,
        maxAgeMillis: Int64?, minAgeMillis: Int64 = Self.defaultMinAgeMillis
    ) {
        self.checkpoints = checkpoints
        self.executions = executions
        self.artifacts = artifacts
        self.keepLast = keepLast
        self.maxAgeMillis = maxAgeMillis
        self.minAgeMillis = minAgeMillis
    }

    struct Execution {
        var id: String
        var owner: String
        var lastActive: Int64
        var parents: Set<String>  // executions this one was forked from
    }

    package func apply() async throws -> Report {
        var report = Report()
        guard keepLast != nil || maxAgeMillis != nil else { return report }  // no policy: keep everything
        let now = checkpoints.clock.nowMillis()
        let executions = try await scan()
        for (owner, list) in Dictionary(grouping: executions.values, by: \.owner).sorted(by: { $0.key < $1.key }) {
            report.owners += 1
            let ordered = list.sorted { ($0.lastActive, $0.id) > ($1.lastActive, $1.id) }
            var keep = Set<String>()
            var ended: [Execution] = []
            for e in ordered {
                switch try await standing(e, now: now) {
                case .live: keep.insert(e.id)
                case .ended(let expirable):
                    if !expirable { keep.insert(e.id) }
                    ended.append(e)
                }
            }
            report.executionsLive += ordered.count - ended.count
            for (rank, e) in ended.enumerated() {
                let recent = maxAgeMillis.map { now - e.lastActive < $0 } ?? false
                let withinCount = keepLast.map { rank < $0 } ?? false
                if recent || withinCount { keep.insert(e.id) }
            }
            var frontier = Array(keep)  // forks (live or kept) keep their ancestors
            while let id = frontier.popLast() {
                for parent in executions[id]?.parents ?? [] where keep.insert(parent).inserted { frontier.append(parent) }
            }
            for e in ended where !keep.contains(e.id) {
                report.objectsDeleted += try await artifacts.purge(executionID: e.id, ownerID: owner)
                report.blocksQueued += try await checkpoints.deleteHistory(executionID: e.id, ownerID: owner).count
                report.executionsExpired += 1
                report.expired.append(e.id)
            }
            report.executionsKept += keep.count
        }
        return report
    }

    /// Every execution with state, its owner, last activity and fork parents (one manifest-table scan).
    func scan() async throws -> [String: Execution] {
        let items = try await checkpoints.manifests.db.scan(
            table: checkpoints.manifests.table, filter: "begins_with(sk, :m)", .init(values: [":m": .s("M#")]))
        var owning: [String: String] = [:]  // manifest id → execution
        var executions: [String: Execution] = [:]
        var manifests: [(String, Manifest)] = []
        for item in items {
            guard let m = try ManifestStore.decode([item]).first else { continue }
            owning[m.manifestID] = m.executionID
            manifests.append((m.executionID, m))
            let at = Int64(item["prepared_at"]?.int ?? 0)
            var e = executions[m.executionID] ?? Execution(id: m.executionID, owner: m.ownerID, lastActive: 0, parents: [])
            e.lastActive = max(e.lastActive, at)
            executions[m.executionID] = e
        }
        for (execution, m) in manifests {
            if let parent = m.parentManifestID, let from = owning[parent], from != execution { executions[execution]?.parents.insert(from) }
        }
        return executions
    }

    /// Step Functions' word on the execution; the kernel's own cursor only when Step Functions has forgotten it.
    func standing(_ e: Execution, now: Int64) async throws -> Standing {
        let lifecycle = try await executions.lifecycle(of: e.id)
        var kernel: Cursor.Status?
        if lifecycle == .unknown { kernel = try await kernelStatus(e.id) }
        return Self.standing(lifecycle, kernel: kernel, lastActiveMillis: e.lastActive, now: now, minAgeMillis: minAgeMillis)
    }

    /// The cursor status at the execution's committed head (nil: none readable).
    func kernelStatus(_ executionID: String) async throws -> Cursor.Status? {
        let head = try await checkpoints.manifests.head(executionID: executionID)
        guard let id = head.manifestID, let manifest = try await checkpoints.manifests.manifest(executionID: executionID, manifestID: id)
        else { return nil }
        let state = try await StateHydrator(store: checkpoints.blocks, pages: checkpoints.pages).hydrate(manifest, present: ["cursor"])
        return state["cursor"].flatMap { try? JSONDecoder().decode(Cursor.self, from: $0) }?.status
    }
}
