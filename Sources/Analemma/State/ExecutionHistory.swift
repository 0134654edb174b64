#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// An execution's committed checkpoints and its state at each, read from the manifest table and the blocks alone:
/// time travel for users (`analemma history`, `state`, `diff`, and where `fork` starts from).
package struct ExecutionHistory: Sendable {
    package let manifests: ManifestStore
    package let hydrator: StateHydrator

    package init(manifests: ManifestStore, hydrator: StateHydrator) {
        self.manifests = manifests
        self.hydrator = hydrator
    }

    /// One committed checkpoint and what it changed.
    package struct Checkpoint: Sendable {
        package var manifest: Manifest
        /// Its place in the execution's chain, from 1 (the head's version for the last).
        package var version: Int
        package var preparedAtMillis: Int64
        /// Every field's reference at this checkpoint.
        package var fields: [String: FieldRef]
        /// Fields added or changed since the previous checkpoint (all of them at the first), sorted.
        package var changed: [String]
        package var removed: [String]
    }

    /// The committed chain's records, first checkpoint to head: the head and its parents (records of prepared or
    /// aborted commits are left out), with the head's version. Reads the manifest table only.
    package func chain(executionID: String) async throws -> (records: [ManifestStore.Record], headVersion: Int) {
        let head = try await manifests.head(executionID: executionID)
        guard var next = head.manifestID else { return ([], head.version) }
        var records = Dictionary(try await manifests.records(executionID: executionID).map { ($0.manifest.manifestID, $0) }) { a, _ in a }
        var chain: [ManifestStore.Record] = []
        while let record = records.removeValue(forKey: next) {  // each record once: a forged cycle ends the walk
            chain.append(record)
            guard let parent = record.manifest.parentManifestID else { break }
            next = parent
        }
        return (chain.reversed(), head.version)
    }

    /// The committed chain with every checkpoint's field table and what it changed. Empty for an execution without
    /// a checkpoint.
    package func checkpoints(executionID: String) async throws -> [Checkpoint] {
        let (chain, headVersion) = try await self.chain(executionID: executionID)
        var out: [Checkpoint] = []
        var previous: [String: FieldRef] = [:]
        for (i, record) in chain.enumerated() {
            let table = try await hydrator.pages.all(record.manifest)
            out.append(
                Checkpoint(
                    manifest: record.manifest, version: headVersion - chain.count + i + 1, preparedAtMillis: record.preparedAt,
                    fields: table, changed: table.filter { previous[$0.key].map(Self.sameContent($0.value)) != true }.keys.sorted(),
                    removed: previous.keys.filter { table[$0] == nil }.sorted()))
            previous = table
        }
        return out
    }

    /// Whether two references hold the same bytes (a field carried over may move to another group block).
    static func sameContent(_ a: FieldRef) -> (FieldRef) -> Bool { { b in a.sha256 == b.sha256 && a.size == b.size } }

    /// The checkpoint `at` names among `checkpoints`: a manifest id (or a prefix of one, at least 8 characters, that
    /// only one has), `v<version>`, or nil for the head. Anything else is `Analemma.InvalidState` naming what exists.
    package static func find(_ at: String?, in checkpoints: [Checkpoint]) throws -> Checkpoint {
        guard let last = checkpoints.last else { throw AnalemmaError(.invalidState, "the execution has no checkpoint") }
        guard let at else { return last }
        let hits: [Checkpoint]
        if at.hasPrefix("v"), let version = Int(at.dropFirst()) {
            hits = checkpoints.filter { $0.version == version }
        } else {
            hits = at.count >= 8 ? checkpoints.filter { $0.manifest.manifestID.hasPrefix(at) } : []
        }
        guard hits.count == 1, let hit = hits.first else {
            throw AnalemmaError(
                .invalidState,
                "\(at.prefix(80).debugDescription) names \(hits.isEmpty ? "no" : "more than one") checkpoint of the execution "
                    + "(v\(checkpoints[0].version)–v\(last.version), or a manifest id of at least 8 characters)")
        }
        return hit
    }

    /// How two checkpoints' states differ: each field added, removed or changed, with its sizes.
    package struct Change: Sendable, Equatable {
        package enum Kind: String, Sendable { case added, removed, changed }
        package var field: String
        package var kind: Kind
        package var before: Int?
        package var after: Int?
    }

    /// The fields that differ from `a` to `b` (by content: the same bytes in another block are the same).
    package static func diff(_ a: [String: FieldRef], _ b: [String: FieldRef]) -> [Change] {
        Set(a.keys).union(b.keys).sorted().compactMap { name in
            switch (a[name], b[name]) {
            case (nil, let new?): Change(field: name, kind: .added, before: nil, after: new.size)
            case (let old?, nil): Change(field: name, kind: .removed, before: old.size, after: nil)
            case (let old?, let new?) where !sameContent(old)(new):
                Change(field: name, kind: .changed, before: old.size, after: new.size)
            default: nil
            }
        }
    }
}
