#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// One step's turn at its execution: the payload it came with and the committed head it stands on, checked
/// against each other. Every action reads through ``read(_:)`` and ends with ``commit(_:removing:cursor:)``.
struct Turn {
    /// Which head a step may stand on.
    enum Position {
        /// The head the payload names; when the head moved one step on from it (this step already committed: a
        /// Lambda retry), ``replay`` is the payload that first run returned.
        case named
        /// As `named`, and the head may have moved up to `steps` commits on (a retried `run` that ran segments in a
        /// row before it died).
        case namedWithin(steps: Int)
        /// Exactly the head the payload names (`finalize`).
        case exactly
        /// The execution's latest head, of the payload's owner (`resume`, `fail`: they check what they need).
        case latest
    }

    let service: SegmentRunnerService
    /// The payload the step came with.
    let k: KernelPayload
    let manifest: Manifest
    let head: ManifestStore.Head
    /// The payload this step's first run returned, when it already committed (position `named`); the turn then
    /// stands on the head that run committed.
    let replay: KernelPayload?

    /// The workflow the payload's cursor names, partitioned (cached by its content-addressed pointer).
    func plan() async throws -> Plan { try await service.plan(k.cursor, ownerID: k.ownerID) }

    /// The stored cursor (whole: the payload carries ``Cursor/inPayload``) and those of `names` that state holds.
    func read(_ names: [String]) async throws -> (cursor: Cursor, state: StateBag) {
        let state = try await service.hydrator.hydrate(manifest, present: Set(names + ["cursor"]).sorted())
        return (try SegmentRunnerService.decodeCursor(state["cursor"]), state)
    }

    /// Commits `changes` and `cursor` over the head and returns the next payload.
    func commit(_ changes: [String: Data], removing removed: Set<String> = [], cursor: Cursor, appendOnly: Set<String> = []) async throws
        -> KernelPayload
    {
        try await service.commit(changes, removing: removed, cursor: cursor, over: manifest, head: head, k, appendOnly: appendOnly)
    }

    /// The payload the head stands for (its cursor and trace id as stored).
    func current() async throws -> KernelPayload { try await service.payload(at: manifest, head: head, identity: k) }
}

extension SegmentRunnerService {
    /// Begins a step's turn: the head `k` may stand on at `position`, checked against `k` (owner, version, cursor).
    func turn(_ k: KernelPayload, _ position: Turn.Position) async throws -> Turn {
        switch position {
        case .named, .namedWithin:
            let steps = if case .namedWithin(let steps) = position { steps } else { 1 }
            let (manifest, head, replay) = try await self.position(k, within: steps)
            return Turn(service: self, k: k, manifest: manifest, head: head, replay: replay)
        case .exactly:
            let (manifest, head) = try await latest(k)
            guard head.manifestID == k.manifestID else {
                throw AnalemmaError(
                    .concurrentWrite, "execution \(k.executionID.debugDescription) moved past \(k.manifestID.prefix(12))")
            }
            try await checkCursor(k, against: manifest)
            return Turn(service: self, k: k, manifest: manifest, head: head, replay: nil)
        case .latest:
            let (manifest, head) = try await latest(k)
            return Turn(service: self, k: k, manifest: manifest, head: head, replay: nil)
        }
    }

    /// The stored workflow and its segments, partitioned once per container (the pointer is content-addressed).
    func plan(_ cursor: Cursor, ownerID: String) async throws -> Plan {
        let definition = try await workflows.get(cursor.workflow, ownerID: ownerID)
        return try await plans.value(ownerID + "#" + cursor.workflow) {
            Plan(
                definition: definition, segments: try SegmentPartitioner.partition(definition, kinds: executor.kinds), kinds: executor.kinds
            )
        }
    }
}

/// A workflow ready to run: its definition, its nodes by id and its segments.
struct Plan: Sendable {
    /// How long a human step waits when its node sets no `timeout_seconds`: 24 hours.
    static let defaultHumanTimeout = 86_400

    let definition: WorkflowDefinition
    let segments: [Segment]
    let nodes: [String: WorkflowDefinition.Node]
    let router: WorkflowRouter
    let kinds: NodeKinds

    init(definition: WorkflowDefinition, segments: [Segment], kinds: NodeKinds) {
        self.definition = definition
        self.segments = segments
        self.kinds = kinds
        router = WorkflowRouter(definition)
        nodes = Dictionary(definition.nodes.map { ($0.id, $0) }) { first, _ in first }
    }

    /// The node `id` (named by stored state or a payload: a missing one is a state that does not fit its workflow).
    func node(_ id: String) throws -> WorkflowDefinition.Node {
        guard let node = nodes[id] else { throw AnalemmaError(.invalidState, "the workflow has no node \(id.debugDescription)") }
        return node
    }

    /// Where node `id` runs.
    func place(_ id: String) -> NodePlace { nodes[id].map(kinds.place(of:)) ?? .chained }

    /// The segment at `index`, if the workflow has it.
    func segment(_ index: Int?) -> Segment? { index.flatMap { segments.indices.contains($0) ? segments[$0] : nil } }
}
