#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// What starts a fork: `{"fork": {"execution_id", "owner_id", "at", "set", "from"}}` as the StartExecution input
/// (`analemma fork`). The new execution's first checkpoint is the named one's state, shared block for block, with
/// `set`'s fields changed; it runs on from that checkpoint's cursor, or from node `from`.
package struct ForkRequest: Sendable, Equatable {
    package var executionID: String
    package var ownerID: String
    /// The manifest id of the checkpoint to fork (one of the source's committed chain).
    package var at: String
    /// Fields to change, raw JSON (never a protected field).
    package var set: [String: Data]
    /// The node to run from; nil: where the checkpoint's cursor stands.
    package var from: String?

    /// Parses the `fork` member; every problem is `Analemma.InvalidEvent` naming it.
    package static func parse(_ raw: Data) throws -> ForkRequest {
        func invalid(_ why: String) -> AnalemmaError { AnalemmaError(.invalidEvent, "execution input: \"fork\" \(why)") }
        guard let o = JSONScanner.object(raw) else { throw invalid("must be {execution_id, owner_id, at, set, from}") }
        func string(_ name: String) throws -> String? {
            guard let v = o[name] else { return nil }
            guard let s = try? JSONDecoder().decode(String.self, from: v), !s.isEmpty, s.utf8.count <= 2048 else {
                throw invalid("member \(name) must be a non-empty string")
            }
            return s
        }
        guard let execution = try string("execution_id"), let owner = try string("owner_id"), let at = try string("at") else {
            throw invalid("needs execution_id, owner_id and at (a checkpoint's manifest id)")
        }
        if let unknown = o.keys.first(where: { !["execution_id", "owner_id", "at", "set", "from"].contains($0) }) {
            throw invalid("has no member \(unknown.debugDescription)")
        }
        var set: [String: Data] = [:]
        if let raw = o["set"] {
            guard let members = try? JSONScanner.members(of: raw) else { throw invalid("member set must be an object of fields") }
            for m in members {
                let value = raw.subdata(in: m.range)
                if let problem = UnicodeCheck.problem(in: Array(value)) { throw invalid("set.\(m.key) is not valid Unicode: \(problem)") }
                set[m.key] = value
            }
        }
        return ForkRequest(executionID: execution, ownerID: owner, at: at, set: set, from: try string("from"))
    }
}

extension SegmentRunnerService {
    /// Forks the source's checkpoint into this execution and records the lineage. Refused (`ForgedPointer`, nothing
    /// written) unless `at` is a committed checkpoint of the source execution of the same owner; a checkpoint whose
    /// map or hand-over is in flight, or that failed, is forked only with `from`.
    func forkRun(executionID: String, from raw: Data) async throws -> KernelPayload {
        let request = try ForkRequest.parse(raw)
        try StatePointer.checkOwner(request.ownerID)
        let refused = AnalemmaError(
            .forgedPointer,
            "initialize: \(request.at.prefix(64).debugDescription) is no checkpoint of execution "
                + "\(request.executionID.prefix(200).debugDescription) of owner \(request.ownerID.debugDescription)")
        let lineage = try CanonicalJSON.encode([
            "forked_from": request.executionID, "at": request.at, "from": request.from ?? "",
            "set": request.set.keys.sorted().joined(separator: ","),
        ])
        let head = try await checkpoints.manifests.head(executionID: executionID)
        if let id = head.manifestID, let manifest = try await manifest(executionID, id) {  // a retry after the fork
            let stored = try await hydrator.hydrate(manifest, present: ["lineage"])["lineage"]
            guard manifest.ownerID == request.ownerID, stored == lineage else { throw refused }
            let identity = KernelPayload(
                executionID: executionID, ownerID: request.ownerID, traceID: manifest.traceID ?? "", manifestID: id, version: head.version,
                cursor: try await storedCursor(manifest))
            return try await payload(at: manifest, head: head, identity: identity)
        }
        let chain = try await ExecutionHistory(manifests: checkpoints.manifests, hydrator: hydrator).chain(
            executionID: request.executionID
        ).records  // the manifest table only: no field tables
        guard let source = chain.first(where: { $0.manifest.manifestID == request.at })?.manifest, source.ownerID == request.ownerID
        else { throw refused }
        var cursor = try await storedCursor(source)
        let plan = try await self.plan(cursor, ownerID: request.ownerID)
        if let node = request.from {
            _ = try plan.node(node)
            cursor.hitp = nil
            cursor.fanout = nil
            cursor.batch = nil
            cursor = try Self.cursor(entering: node, plan: plan, from: cursor)
        } else if ![.continue, .waitHuman, .done].contains(cursor.status) {
            throw AnalemmaError(
                .invalidEvent,
                "execution input: the checkpoint's cursor is \(cursor.status.rawValue); fork it with \"from\" (the node to run from)")
        }
        var changes = StateBag()
        try changes.merge(request.set, from: .fork)  // never a protected field
        let fields = Set(try await hydrator.names(source)).union(request.set.keys).filter { !StateBag.isProtected($0) }.count
        guard fields <= WorkflowLimits.maxStateFields else {
            throw AnalemmaError(
                .invalidEvent, "execution input: the fork would hold \(fields) state fields; the limit is \(WorkflowLimits.maxStateFields)")
        }
        cursor.chain = nil
        cursor.runs = 0
        cursor.startedAtMillis = checkpoints.clock.nowMillis()
        let used = ledger.take(for: executionID)
        cursor.usage = used
        let delta = changes.fields.merging([
            "cursor": try CanonicalJSON.encode(cursor), "execution_id": try CanonicalJSON.encode(executionID), "lineage": lineage,
        ]) { $1 }
        let fork: Manifest
        do {
            fork = try await checkpoints.fork(delta: delta, previous: source, into: executionID, segmentIndex: cursor.step)
        } catch {
            ledger.giveBack(used, for: executionID)
            throw error
        }
        manifests.insert(executionID + "#" + fork.manifestID, fork)
        let k = KernelPayload(
            executionID: executionID, ownerID: request.ownerID, traceID: fork.traceID ?? source.traceID ?? "",
            manifestID: fork.manifestID, version: 1, cursor: cursor.inPayload)
        emit(
            .executionForked, k,
            [
                "forked_from": request.executionID, "at": request.at, "step": String(cursor.step), "from": request.from ?? "",
                "set": request.set.keys.sorted().joined(separator: ","),
            ])
        return k
    }
}
