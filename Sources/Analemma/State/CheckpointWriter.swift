#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// The commit protocol (EventualConsistencyGuard): manifest PREPARED (the recovery record) → blocks durable →
/// references taken → manifest COMMITTED with the head moved, in that order, each step idempotent so any retry
/// or replay is safe. Blocks are durable before the manifest becomes visible, and it before the head moves.
///
/// Invariants: a committed manifest's blocks exist and are referenced (no dangling pointer); a reader following
/// the head sees only committed manifests; concurrent writers to one execution cannot lose an update (the loser
/// gets ``ManifestStore/HeadConflict``); an interrupted commit is recovered by ``recover`` (the next write or the
/// GC worker), which aborts it and queues every block nothing references for GC.
package struct CheckpointWriter: Sendable {
    package let blocks: any BlockStore
    package let manifests: ManifestStore
    package let references: BlockReferences
    package let gcQueue: any GCQueue
    package let dehydrator: BatchedDehydrator
    /// Reads and writes manifests' page trees (in the block store).
    package let pages: ManifestPages
    package let clock: any WallClock
    /// How long a PREPARED manifest may be in flight before recovery treats its writer as dead.
    package let graceMillis: Int64

    package init(
        blocks: any BlockStore, manifests: ManifestStore, references: BlockReferences, gcQueue: any GCQueue,
        dehydrator: BatchedDehydrator = BatchedDehydrator(), clock: any WallClock = SystemWallClock(), graceMillis: Int64 = 60_000
    ) {
        self.blocks = blocks
        self.manifests = manifests
        self.references = references
        self.gcQueue = gcQueue
        self.dehydrator = dehydrator
        self.pages = ManifestPages(store: blocks)
        self.clock = clock
        self.graceMillis = graceMillis
    }

    /// Checkpoints `state` as the next manifest after `previous`, moving the head from `expected`: what changed
    /// against `previous` (read whole) and what it no longer has, as a delta.
    package func commit(
        _ state: StateBag, previous: Manifest?, expected: ManifestStore.Head, executionID: String, ownerID: String, segmentIndex: Int
    ) async throws -> Manifest {
        guard let previous else {
            let (draft, newBlocks) = try dehydrator.checkpoint(
                state, previous: nil, executionID: executionID, ownerID: ownerID, segmentIndex: segmentIndex)
            return try await commit(draft, blocks: newBlocks, previous: nil, expected: expected)
        }
        let known = try await pages.all(previous)
        let (draft, newBlocks) = try dehydrator.checkpoint(
            delta: state.fields, removed: Set(known.keys).subtracting(state.fields.keys), previous: previous, known: known,
            executionID: executionID, ownerID: ownerID, segmentIndex: segmentIndex)
        return try await commit(draft, blocks: newBlocks, previous: previous, expected: expected)
    }

    /// Checkpoints a delta over `previous` (see ``BatchedDehydrator/checkpoint(delta:removed:previous:known:executionID:ownerID:segmentIndex:)``):
    /// what a step that hydrated only some fields commits. Reads only the changed fields' pages.
    /// Fields in `appendOnly` store only the items they gained (``AppendLists``).
    package func commit(
        delta changes: [String: Data], removed: Set<String> = [], previous: Manifest, expected: ManifestStore.Head, segmentIndex: Int,
        appendOnly: Set<String> = []
    ) async throws -> Manifest {
        let known = try await pages.refs(previous, changes.keys)
        let (plain, lists, listBlocks) = try await appending(
            changes, appendOnly, known: known, owner: previous.ownerID, segmentIndex: segmentIndex)
        var (draft, newBlocks) = try dehydrator.checkpoint(
            delta: plain, removed: removed, previous: previous, known: known, executionID: previous.executionID, ownerID: previous.ownerID,
            segmentIndex: segmentIndex)
        if !lists.isEmpty {
            draft = Manifest(
                parentManifestID: draft.parentManifestID, executionID: draft.executionID, ownerID: draft.ownerID,
                segmentIndex: draft.segmentIndex, fields: draft.fields.merging(lists) { _, list in list }, traceID: draft.traceID,
                root: draft.root, removed: draft.removedNames)
            newBlocks += listBlocks
        }
        return try await commit(draft, blocks: newBlocks, previous: previous, expected: expected)
    }

    /// `changes` split into plain fields and the append-only lists' new references and chunks (an unchanged list is
    /// left where it is; a value that is not a non-empty array is a plain field).
    func appending(_ changes: [String: Data], _ appendOnly: Set<String>, known: [String: FieldRef], owner: String, segmentIndex: Int)
        async throws -> (plain: [String: Data], lists: [String: FieldRef], blocks: [Block])
    {
        var plain = changes
        var lists: [String: FieldRef] = [:]
        var blocks: [Block] = []
        for name in appendOnly.intersection(changes.keys).sorted() {
            guard let value = changes[name] else { continue }
            switch try await pages.lists.write(value, known: known[name], owner: owner) {
            case .plain: continue
            case .unchanged: plain[name] = nil
            case .appended(var ref, let block):
                ref.temperature = dehydrator.registry.classify(name, mutations: ref.mutations, checkpoints: segmentIndex + 1)
                lists[name] = ref
                blocks.append(block)
                plain[name] = nil
            }
        }
        return (plain, lists, blocks)
    }

    /// The first checkpoint of `executionID`, continuing another execution's `previous` (continue-as-new): its
    /// fields with `changes`, every block and page it reaches referenced anew by the new execution, `previous` as its parent.
    package func fork(delta changes: [String: Data], previous: Manifest, into executionID: String, segmentIndex: Int) async throws
        -> Manifest
    {
        let (draft, newBlocks) = try dehydrator.checkpoint(
            delta: changes, previous: previous, known: try await pages.refs(previous, changes.keys), executionID: executionID,
            ownerID: previous.ownerID, segmentIndex: segmentIndex)
        return try await commit(draft, blocks: newBlocks, previous: previous, expected: .empty)
    }

    private func commit(_ draft: Manifest, blocks fieldBlocks: [Block], previous: Manifest?, expected: ManifestStore.Head) async throws
        -> Manifest
    {
        let executionID = draft.executionID
        let ownerID = draft.ownerID
        var (manifest, pageBlocks) = try await pages.compact(draft)
        let newBlocks = fieldBlocks + pageBlocks
        // This execution already holds what its parent reached; a fork's first manifest references all it reaches.
        var needed = Set(draft.fields.values.map(\.block)).union(pageBlocks.map(\.hash))
        let inherits = previous?.executionID == executionID
        if inherits, let previous { needed.subtract(previous.fields.values.map(\.block)) }
        // The record lists what it takes while that stays small; past it (a large state's first tree) it lists the
        // field blocks and recovery walks the pages that exist (pages uploaded but never linked are the sweeper's).
        let fork = previous != nil && !inherits
        let took =
            needed.count <= ManifestStore.TakenReferences.listLimit
            ? ManifestStore.TakenReferences(needed, reachable: fork)
            : ManifestStore.TakenReferences(
                needed.subtracting(pageBlocks.map(\.hash)).count <= ManifestStore.TakenReferences.listLimit
                    ? needed.subtracting(pageBlocks.map(\.hash)) : [], reachable: true)
        // The PREPARED manifest is the recovery record: written first, so a crash at any later step leaves a trace
        // of every block it may have uploaded and every reference it may take. Readers never see it: they follow the head.
        try await manifests.prepare(manifest, took: took, now: clock.nowMillis())
        let store = blocks
        try await ConcurrentRequests.forEach(newBlocks) { block in try await store.put(owner: ownerID, hash: block.hash, bytes: block.bytes)
        }
        if took.reachable { needed.formUnion(try await pages.reachable(manifest)) }
        do {
            try await references.take(owner: ownerID, execution: executionID, hashes: Array(needed))
        } catch let collected as BlockReferences.BlockCollected {
            // GC deleted (or is deleting) an identical block: upload ours again once it is gone, then revive it.
            guard let block = newBlocks.first(where: { $0.hash == collected.hash }), collected.deleted else { throw collected }
            try await blocks.put(owner: ownerID, hash: block.hash, bytes: block.bytes)
            try await references.revive(owner: ownerID, hash: block.hash)
            try await references.take(owner: ownerID, execution: executionID, hashes: Array(needed))
        }
        try await manifests.commit(manifest, expected: expected)
        manifest.uploaded = Dictionary(newBlocks.map { ($0.hash, $0.bytes.count) }) { a, _ in a }
        return manifest
    }

    /// The references a record's commit took (a `reachable` one walks its manifest; pages a crashed commit never
    /// uploaded took nothing).
    func taken(_ record: ManifestStore.Record) async throws -> Set<String> {
        let listed = Set(record.took.hashes)
        return record.took.reachable ? listed.union(try await pages.reachable(record.manifest, tolerant: true)) : listed
    }

    /// Retention: deletes an execution's history. Every block any of its manifests used is released; blocks left
    /// with no reference are condemned and queued for GC (blocks shared with forks or other executions stay).
    /// Safe to run again after a crash. Returns the queued block hashes.
    @discardableResult
    package func deleteHistory(executionID: String, ownerID: String) async throws -> [String] {
        let records = try await manifests.records(executionID: executionID)
        var held = Set<String>()
        for record in records { held.formUnion(try await taken(record)) }
        var queued: [String] = []
        for hash in held.sorted() {
            _ = try await references.release(owner: ownerID, execution: executionID, hash: hash, now: clock.nowMillis())
            if try await references.count(owner: ownerID, hash: hash) == 0 {
                try await gcQueue.enqueue(owner: ownerID, hash: hash, reason: "history of \(executionID) deleted")
                queued.append(hash)
            }
        }
        try await manifests.deleteExecution(executionID, manifests: records.map(\.manifest))
        return queued
    }

    /// Recovers interrupted commits of an execution: aborts PREPARED manifests older than the grace period, releases
    /// the references they took (blocks its committed manifests use stay), forgets them, and queues for GC each of
    /// their blocks that nothing references any more. Idempotent: a crash at any point is finished by the next run
    /// (ABORTED records are processed again until forgotten). Returns the queued block hashes.
    @discardableResult
    package func recover(executionID: String, ownerID: String) async throws -> [String] {
        let now = clock.nowMillis()
        var records = try await manifests.records(executionID: executionID)
        var raced = false
        for i in records.indices where records[i].state == .prepared && records[i].preparedAt <= now - graceMillis {
            if try await manifests.abort(records[i].manifest) { records[i].state = .aborted } else { raced = true }
        }
        if raced { records = try await manifests.records(executionID: executionID) }  // committed meanwhile: reread
        let aborted = records.filter { $0.state == .aborted }
        guard !aborted.isEmpty else { return [] }
        // A commit still in flight (PREPARED within the grace period) may hold the same blocks: leave the aborted
        // records for a later pass rather than release a reference it relies on.
        if records.contains(where: { $0.state == .prepared && $0.preparedAt > now - graceMillis }) { return [] }
        var live = Set<String>()
        for record in records where record.state == .committed { live.formUnion(try await taken(record)) }
        var released: Set<String> = []
        for record in aborted {
            for hash in try await taken(record) where !live.contains(hash) {
                _ = try await references.release(owner: ownerID, execution: executionID, hash: hash, now: now)
                released.insert(hash)
            }
            try await manifests.forgetAborted(record.manifest)
        }
        // A commit that began while we released may have found its reference already held: take it again.
        let known = Set(records.map(\.manifest.manifestID))
        let since = try await manifests.records(executionID: executionID).filter { !known.contains($0.manifest.manifestID) }
        var heldSince = Set<String>()
        for record in since { heldSince.formUnion(try await taken(record)) }
        let retake = released.intersection(heldSince)
        if !retake.isEmpty { try await references.take(owner: ownerID, execution: executionID, hashes: retake.sorted()) }
        var queued: [String] = []
        for hash in released.subtracting(retake).sorted() where try await references.count(owner: ownerID, hash: hash) == 0 {
            try await gcQueue.enqueue(owner: ownerID, hash: hash, reason: "aborted commit of \(executionID)")
            queued.append(hash)
        }
        return queued
    }
}
