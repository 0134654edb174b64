#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// `initialize`: the execution's first checkpoint from the StartExecution input.
extension SegmentRunnerService {
    /// A StartExecution input, read and checked: the owner, the workflow (its bytes and definition, partitioned),
    /// the initial state. Nothing is written until all of it holds.
    struct Start {
        var ownerID: String
        var workflow: Data
        var plan: Plan
        var state: StateBag
    }

    /// Validates the workflow, stores it, creates the state (protected fields from the execution context) and
    /// commits the first checkpoint. An invalid workflow is rejected before anything is written.
    func initialize(executionID: String, start raw: Data, traceHeader: String?) async throws -> KernelPayload {
        if let from = JSONScanner.object(raw)?["continue"] { return try await continueChain(executionID: executionID, from: from) }
        if let fork = JSONScanner.object(raw)?["fork"] { return try await forkRun(executionID: executionID, from: fork) }
        let traceID = Self.traceID(traceHeader, executionID: executionID)
        var start = try await self.start(raw, executionID: executionID, traceID: traceID)
        let definition = start.plan.definition
        var identity = KernelPayload(
            executionID: executionID, ownerID: start.ownerID, traceID: traceID, manifestID: "",
            version: 0, cursor: Cursor(status: .continue, workflowID: definition.workflowID, workflow: "", step: 0, traversals: [:]))
        let head = try await checkpoints.manifests.head(executionID: executionID)
        if let id = head.manifestID, let manifest = try await checkpoints.manifests.manifest(executionID: executionID, manifestID: id) {
            // A retry after the first commit - of the same start only: a replay naming another owner learns nothing.
            let refused = AnalemmaError(
                .forgedPointer,
                "initialize: execution \(executionID.debugDescription) was started by another owner or with another workflow")
            guard manifest.ownerID == start.ownerID else { throw refused }
            let replay = try await payload(at: manifest, head: head, identity: identity)
            guard replay.cursor.workflow == (try workflows.pointer(start.workflow, ownerID: start.ownerID)).description else {
                throw refused
            }
            return replay
        }
        identity.cursor.workflow = try await workflows.put(start.workflow, ownerID: start.ownerID)
        var cursor = try Self.cursor(entering: definition.entry, plan: start.plan, from: identity.cursor)
        cursor.runs = 0
        cursor.startedAtMillis = checkpoints.clock.nowMillis()
        let used = ledger.take(for: executionID)
        cursor.usage = used
        try start.state.merge(
            ["workflow_id": CanonicalJSON.encode(definition.workflowID), "cursor": CanonicalJSON.encode(cursor)], from: .kernel)
        let manifest: Manifest
        do {
            manifest = try await checkpoints.commit(
                start.state, previous: nil, expected: .empty, executionID: executionID, ownerID: start.ownerID, segmentIndex: 0)
        } catch {
            ledger.giveBack(used, for: executionID)  // a retry's first commit records it
            throw error
        }
        var k = identity
        k.manifestID = manifest.manifestID
        k.version = 1
        k.cursor = cursor.inPayload
        emit(.executionStarted, k, ["workflow_id": definition.workflowID, "segments": String(start.plan.segments.count)])
        return k
    }

    /// Reads and checks a start `{"owner_id", "workflow", "input"}` (each member inline or by pointer); every problem
    /// is `Analemma.InvalidEvent` (or the workflow's `InvalidWorkflow`) naming it.
    func start(_ raw: Data, executionID: String, traceID: String) async throws -> Start {
        func invalid(_ why: String) -> AnalemmaError { AnalemmaError(.invalidEvent, "execution input: \(why)") }
        guard let start = JSONScanner.object(raw) else {
            throw invalid("must be a JSON object {\"owner_id\", \"workflow\", \"input\"}")
        }
        guard let rawOwner = start["owner_id"], let ownerID = try? JSONDecoder().decode(String.self, from: rawOwner) else {
            throw invalid("\"owner_id\" (a string) is required")
        }
        do { _ = try StatePointer(bucket: workflows.bucket, ownerID: ownerID, path: "x") } catch let error as AnalemmaError {
            throw invalid(error.message)
        }
        guard let given = start["workflow"] else { throw invalid("\"workflow\" (the definition object) is required") }
        let bytes = try await byPointer(given, "workflow", ownerID: ownerID, limit: WorkflowLimits.maxDocumentBytes)
        let definition = try WorkflowDefinition.decode(bytes)
        try executor.check(definition)
        let plan = Plan(
            definition: definition, segments: try SegmentPartitioner.partition(definition, kinds: executor.kinds), kinds: executor.kinds)
        let input = try await byPointer(start["input"] ?? Data("{}".utf8), "input", ownerID: ownerID, limit: Self.maxInputBytes)
        if let problem = UnicodeCheck.problem(in: Array(input)) {
            let field = (try? JSONScanner.members(of: input))?.first { UnicodeCheck.problem(in: Array(input[$0.range])) != nil }?.key
            throw invalid("\"input\"\(field.map { " field \($0.debugDescription)" } ?? "") is not valid Unicode: \(problem)")
        }
        let state = try StateBag(executionID: executionID, ownerID: ownerID, traceID: traceID, input: input)
        if let missing = definition.inputs?.filter({ state[$0] == nil }), !missing.isEmpty {
            throw invalid("\"input\" lacks the declared input field(s) \(missing.map(\.debugDescription).joined(separator: ", "))")
        }
        let fieldCount = Set(state.fields.keys).union(definition.nodes.flatMap { $0.writes ?? [] }).count
        guard fieldCount <= WorkflowLimits.maxStateFields + StateBag.protectedFields.count else {
            throw invalid("input and workflow together make \(fieldCount) state fields; the limit is \(WorkflowLimits.maxStateFields)")
        }
        return Start(ownerID: ownerID, workflow: bytes, plan: plan, state: state)
    }

    /// The largest execution input read by pointer (64 MB; inline inputs are bounded by StartExecution's 256 KB).
    static let maxInputBytes = 64 << 20

    /// A start member given inline, or by pointer - `{"$pointer": "s3://<state bucket>/owners/<owner>/…"}`, for a
    /// workflow or input larger than StartExecution's 262,144-byte input - read after checking it is the owner's.
    func byPointer(_ value: Data, _ name: String, ownerID: String, limit: Int) async throws -> Data {
        guard let members = JSONScanner.object(value), members.count == 1, let raw = members["$pointer"] else { return value }
        guard let text = try? JSONDecoder().decode(String.self, from: raw) else {
            throw AnalemmaError(.invalidEvent, "execution input: \"\(name)\".$pointer must be an s3:// pointer string")
        }
        let pointer = try StatePointer(parsing: text, stateBucket: workflows.bucket, ownerID: ownerID)
        let object: S3.Object
        do { object = try await payloads.s3.getObject(bucket: pointer.bucket, key: pointer.key) } catch let e as AWSError
            where e.status == 404
        {
            throw AnalemmaError(.invalidEvent, "execution input: \"\(name)\" points to \(text.debugDescription), which does not exist")
        }
        guard object.body.count <= limit else {
            throw AnalemmaError(
                .invalidEvent,
                "execution input: \"\(name)\" at \(text.debugDescription) is \(object.body.count) bytes; the limit is \(limit)")
        }
        return object.body
    }
}
