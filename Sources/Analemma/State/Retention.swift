#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// Expires old executions' histories per owner: keeps the `keepLast` most recent executions and every execution
/// active within `maxAgeMillis`, plus any execution a kept one was forked from (its ancestors stay readable);
/// deletes the rest through ``CheckpointWriter/deleteHistory(executionID:ownerID:)``, which releases their block
/// references and queues the blocks nothing else holds for the same GC path.
public struct Retention: Sendable {
    public struct Report: Codable, Sendable, Equatable {
        public var owners = 0
        public var executionsKept = 0
        public var executionsExpired = 0
        public var blocksQueued = 0
        public var expired: [String] = []

        enum CodingKeys: String, CodingKey {
            case owners, expired
            case executionsKept = "executions_kept"
            case executionsExpired = "executions_expired"
            case blocksQueued = "blocks_queued"
        }
    }

    public let checkpoints: CheckpointWriter
    /// Most recent executions kept per owner (nil: no count limit).
    public let keepLast: Int?
    /// Executions active more recently than this are kept (nil: no age limit).
    public let maxAgeMillis: Int64?

    public init(checkpoints: CheckpointWriter, keepLast: Int?, maxAgeMillis: Int64?) {
        self.checkpoints = checkpoints
        self.keepLast = keepLast
        self.maxAgeMillis = maxAgeMillis
    }

    public func apply() async throws -> Report {
        var report = Report()
        guard keepLast != nil || maxAgeMillis != nil else { return report }  // no policy: keep everything
        let now = checkpoints.clock.nowMillis()
        let items = try await checkpoints.manifests.db.scan(
            table: checkpoints.manifests.table, filter: "begins_with(sk, :m)", .init(values: [":m": .s("M#")]))
        struct Execution {
            var id: String
            var owner: String
            var lastActive: Int64
            var parents: Set<String>  // executions this one was forked from
        }
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
        for (owner, list) in Dictionary(grouping: executions.values, by: \.owner).sorted(by: { $0.key < $1.key }) {
            report.owners += 1
            let ordered = list.sorted { ($0.lastActive, $0.id) > ($1.lastActive, $1.id) }
            var keep = Set<String>()
            for (rank, e) in ordered.enumerated() {
                let recent = maxAgeMillis.map { now - e.lastActive < $0 } ?? false
                let withinCount = keepLast.map { rank < $0 } ?? false
                if recent || withinCount { keep.insert(e.id) }
            }
            var frontier = Array(keep)  // forks keep their ancestors
            while let id = frontier.popLast() {
                for parent in executions[id]?.parents ?? [] where keep.insert(parent).inserted { frontier.append(parent) }
            }
            for e in ordered where !keep.contains(e.id) {
                report.blocksQueued += try await checkpoints.deleteHistory(executionID: e.id, ownerID: owner).count
                report.executionsExpired += 1
                report.expired.append(e.id)
            }
            report.executionsKept += keep.count
        }
        return report
    }
}
