#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// Reading the head, the cursor and the workflow; building payloads and cursors.
extension SegmentRunnerService {
    /// The committed head of `k`'s execution and its manifest, checked against `k`'s identity.
    func latest(_ k: KernelPayload) async throws -> (Manifest, ManifestStore.Head) {
        let head = try await checkpoints.manifests.head(executionID: k.executionID)
        guard let id = head.manifestID, let manifest = try await manifest(k.executionID, id) else {
            throw AnalemmaError(.invalidState, "execution \(k.executionID.debugDescription) has no committed state")
        }
        guard manifest.ownerID == k.ownerID else {
            throw AnalemmaError(
                .forgedPointer, "payload names owner \(k.ownerID.debugDescription), but the execution belongs to another owner")
        }
        return (manifest, head)
    }

    /// A committed manifest by id: from this container's cache (a manifest id is its content hash), else DynamoDB.
    func manifest(_ executionID: String, _ id: String) async throws -> Manifest? {
        if let hit = manifests[executionID + "#" + id] { return hit }
        let found = try await checkpoints.manifests.manifest(executionID: executionID, manifestID: id)
        if let found { manifests.insert(executionID + "#" + id, found) }
        return found
    }

    /// The head, when it is still where `k` left it. When it moved on from `k` by at most `steps` commits, each the
    /// parent of the next (this step already ran and committed them: a retry), the payload rebuilt from the head; any
    /// other move is a concurrent writer.
    func position(_ k: KernelPayload, within steps: Int = 1) async throws -> (
        manifest: Manifest, head: ManifestStore.Head, replay: KernelPayload?
    ) {
        let (manifest, head) = try await latest(k)
        if head.manifestID == k.manifestID {
            guard head.version == k.version else {
                throw AnalemmaError(
                    .forgedPointer,
                    "payload names version \(k.version) of execution \(k.executionID.debugDescription); its state is at \(head.version)")
            }
            try await checkCursor(k, against: manifest)
            return (manifest, head, nil)
        }
        if head.version > k.version, head.version - k.version <= steps,
            let ancestor = try await ancestor(of: manifest, head.version - k.version),
            ancestor.manifestID == k.manifestID
        {
            // A retry of the step that committed the head: the payload must be the one the ancestor stored.
            try await checkCursor(k, against: ancestor)
            return (manifest, head, try await payload(at: manifest, head: head, identity: k))
        }
        throw AnalemmaError(
            .concurrentWrite,
            "execution \(k.executionID.debugDescription) moved from version \(k.version) to \(head.version) under this step")
    }

    /// The manifest `generations` parents back from `manifest` in its execution, if the chain reaches that far.
    func ancestor(of manifest: Manifest, _ generations: Int) async throws -> Manifest? {
        var current = manifest
        for _ in 0..<generations {
            guard let parent = current.parentManifestID, let found = try await self.manifest(manifest.executionID, parent) else {
                return nil
            }
            current = found
        }
        return current
    }

    /// A payload's cursor and trace id are what the head it names stored: a forged cursor (another workflow, a map that
    /// is not in flight, a finished run) is refused before anything is read or written on its word.
    func checkCursor(_ k: KernelPayload, against manifest: Manifest) async throws {
        let stored = try await payload(at: manifest, head: .init(manifestID: manifest.manifestID, version: k.version), identity: k)
        guard stored.cursor == k.cursor.inPayload, stored.traceID == k.traceID else {
            throw AnalemmaError(
                .forgedPointer,
                "payload's cursor or trace id for execution \(k.executionID.debugDescription) is not the one its state holds at \(k.manifestID.prefix(12))"
            )
        }
    }

    /// The whole cursor a committed manifest stores (the payload's is ``Cursor/inPayload``: commit from this one).
    func storedCursor(_ manifest: Manifest) async throws -> Cursor {
        try Self.decodeCursor(try await hydrator.hydrate(manifest, present: ["cursor"])["cursor"])
    }

    /// The payload for a committed manifest (its cursor and trace id read from state).
    /// A manifest id is its content hash, so what it stores is cached per container (seeded by ``commit``).
    func payload(at manifest: Manifest, head: ManifestStore.Head, identity k: KernelPayload) async throws -> KernelPayload {
        let key = manifest.executionID + "#" + manifest.manifestID
        let stored: (traceID: String, cursor: Cursor)
        if let hit = committedPayloads[key] {
            stored = (hit.traceID, hit.cursor)
        } else {
            let state = try await hydrator.hydrate(manifest, present: ["cursor", "trace_id"])
            stored = (state.string("trace_id") ?? k.traceID, try Self.decodeCursor(state["cursor"]))
            committedPayloads.insert(
                key,
                KernelPayload(
                    executionID: manifest.executionID, ownerID: manifest.ownerID, traceID: stored.traceID, manifestID: manifest.manifestID,
                    version: head.version, cursor: stored.cursor))
        }
        return KernelPayload(
            executionID: k.executionID, ownerID: k.ownerID, traceID: stored.traceID, manifestID: manifest.manifestID, version: head.version,
            cursor: stored.cursor)
    }

    package static func decodeCursor(_ raw: Data?) throws -> Cursor {
        guard let raw, let cursor = try? JSONDecoder().decode(Cursor.self, from: raw) else {
            throw AnalemmaError(.invalidState, "state has no readable cursor")
        }
        return cursor
    }

    /// The cursor that enters `node` (the first node of a segment), or `done` when `node` is nil.
    static func cursor(entering node: String?, plan: Plan, from cursor: Cursor) throws -> Cursor {
        var next = cursor
        next.hitp = nil
        guard let node else {
            next.status = .done
            next.segment = nil
            return next
        }
        guard let index = plan.segments.firstIndex(where: { $0.nodes.first == node }) else {
            throw AnalemmaError(.invalidState, "node \(node.debugDescription) does not start a segment")
        }
        next.segment = index
        let definition = try plan.node(node)
        if plan.place(node) == .human {
            next.status = .waitHuman
            next.hitp = Cursor.Human(node: node, timeoutSeconds: definition.timeoutSeconds ?? Plan.defaultHumanTimeout)
        } else {
            next.status = .continue
        }
        return next
    }
}
