#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// `initialize` of an execution that continues another (continue-as-new, ``Cursor/Chain``): the state machine's
/// `ContinueAsNew` state starts it with `{"continue": {"execution_id", "owner_id", "manifest_id", "version"}}`.
extension SegmentRunnerService {
    struct Continuation: Decodable {
        var execution_id: String
        var owner_id: String
        var manifest_id: String
        var version: Int
    }

    /// Forks the previous execution's head into this one. Refused (`ForgedPointer`, nothing written) unless the named
    /// head is the previous execution's current one, of the named owner, and hands over to this very execution.
    func continueChain(executionID: String, from raw: Data) async throws -> KernelPayload {
        guard let from = try? JSONDecoder().decode(Continuation.self, from: raw) else {
            throw AnalemmaError(.invalidEvent, "execution input: \"continue\" must be {execution_id, owner_id, manifest_id, version}")
        }
        try StatePointer.checkOwner(from.owner_id)
        let refused = AnalemmaError(
            .forgedPointer, "initialize: execution \(executionID.debugDescription) does not continue \(from.execution_id.prefix(200))")
        let head = try await checkpoints.manifests.head(executionID: executionID)
        if let id = head.manifestID, let manifest = try await manifest(executionID, id) {  // a retry after the fork
            guard manifest.ownerID == from.owner_id else { throw refused }
            let identity = KernelPayload(
                executionID: executionID, ownerID: from.owner_id, traceID: manifest.traceID ?? "", manifestID: id, version: head.version,
                cursor: try await storedCursor(manifest))
            let replay = try await payload(at: manifest, head: head, identity: identity)
            guard replay.cursor.chain?.previous == from.execution_id else { throw refused }
            return replay
        }
        let previousHead = try await checkpoints.manifests.head(executionID: from.execution_id)
        guard previousHead.manifestID == from.manifest_id, previousHead.version == from.version,
            let previous = try await manifest(from.execution_id, from.manifest_id), previous.ownerID == from.owner_id,
            var cursor = try await storedCursor(previous).continued(as: executionID, from: from.execution_id)
        else { throw refused }
        let used = ledger.take(for: executionID)  // the chain's usage goes on with it, this invocation's added
        cursor.usage = (cursor.usage ?? Usage()) + used
        let fork: Manifest
        do {
            fork = try await checkpoints.fork(
                delta: ["cursor": try CanonicalJSON.encode(cursor), "execution_id": try CanonicalJSON.encode(executionID)],
                previous: previous, into: executionID, segmentIndex: cursor.step)
        } catch {
            ledger.giveBack(used, for: executionID)
            throw error
        }
        manifests.insert(executionID + "#" + fork.manifestID, fork)
        let k = KernelPayload(
            executionID: executionID, ownerID: from.owner_id, traceID: fork.traceID ?? previous.traceID ?? "", manifestID: fork.manifestID,
            version: 1, cursor: cursor.inPayload)
        emit(
            .executionContinued, k,
            ["previous": from.execution_id, "index": String(cursor.chain?.index ?? 0), "step": String(cursor.step)])
        return k
    }
}
