#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// The segment runner (Tiny Handler `segment-runner`): the kernel step behind every Task of the workflow state
/// machine. Actions: `initialize`, `run`, `ask`, `resume`, `finalize`, `fail`, `heal` (see `StateMachines/README.md`).
///
/// Every action reads the execution's head, hydrates only the fields it needs, commits a delta checkpoint
/// (`CheckpointWriter`) and returns a pointer-only ``KernelPayload``. A step replayed after it committed (a
/// Lambda retry) returns the payload its first run produced instead of running twice.
public struct SegmentRunnerService: LambdaHandler {
    package let workflows: WorkflowStore
    package let checkpoints: CheckpointWriter
    package let hydrator: StateHydrator
    package let payloads: ZeroGravityPayload
    package let executor: NodeExecutor
    package let events: any EventSink
    /// Map runs as Step Functions reports them (`map_done` trusts their counts and ownership, not its payload's).
    package let mapRuns: any MapRunSource
    /// The budget for `finalize`'s output inside the payload (the rest is kernel metadata).
    package var outputLimit = 24 * 1024
    /// Steps one execution takes before it continues as a new one (from `HISTORY_EVENT_LIMIT`, Step Functions' 25,000).
    package var stepsPerExecution = Cursor.stepsPerExecution(historyLimit: 25_000)
    /// How many segments one `run` invocation may take in a row (``SegmentRow``).
    package var row = SegmentRow()
    /// What each execution uses, counted as the steps run (``UsageLedger``), and what it costs (``PriceTable``).
    package var ledger = UsageLedger(meter: nil, memoryMegabytes: 128)
    package var prices = PriceTable()
    /// Where map chunks and chunk results go (the state bucket).
    var chunkService: DistributedChunkService { DistributedChunkService(s3: payloads.s3, bucket: payloads.bucket) }
    /// Manifests this container committed or read, by execution and id (immutable: the id is the content hash).
    let manifests = ImmutableCache<Manifest>(capacity: 64)
    /// The cursor and trace id each committed manifest stores, by execution and manifest id (``payload(at:head:identity:)``).
    let committedPayloads = ImmutableCache<KernelPayload>(capacity: 64)
    /// Workflows partitioned into segments, by owner and content-addressed pointer.
    let plans = ImmutableCache<Plan>(capacity: 32)

    package init(
        workflows: WorkflowStore, checkpoints: CheckpointWriter, payloads: ZeroGravityPayload, executor: NodeExecutor,
        events: any EventSink,
        mapRuns: any MapRunSource
    ) {
        self.mapRuns = mapRuns
        self.workflows = workflows
        self.checkpoints = checkpoints
        self.hydrator = StateHydrator(store: checkpoints.blocks, pages: checkpoints.pages)
        self.payloads = payloads
        self.executor = executor
        self.events = events
    }

    public func handle(_ event: Data, context: LambdaContext) async throws -> Data {
        let e = try SegmentEvent.parse(event)
        ledger.begin(e.usageExecutionID, transitions: e.transitions)
        defer { ledger.end() }
        do {
            let out = try await step(e, context: context)
            await events.flush(requestID: context.requestID)
            return out
        } catch {
            let classified = Self.classify(error)
            if let k = e.kernel {
                let code = (classified as? AnalemmaError)?.code
                // A refused step (its payload does not match stored state) goes to the log only: its ids are not
                // trusted enough to write into that owner's event log.
                let refused = code.map(Self.refusals.contains) ?? false
                if refused { ledger.abandon() }  // a refused step is not the claimed execution's to pay for
                emit(
                    refused ? .refused : .error, k,
                    [
                        "action": e.action.rawValue, "code": code?.rawValue ?? "\(type(of: classified))",
                        "message": String("\(classified)".prefix(1024)),
                    ])
            }
            await events.flush(requestID: context.requestID)
            let claimed = e.claimedIdentity
            throw ScopedError.wrap(classified, traceID: claimed.traceID, executionID: claimed.executionID, ownerID: claimed.ownerID)
        }
    }

    func step(_ e: SegmentEvent, context: LambdaContext) async throws -> Data {
        let payload: KernelPayload
        switch e {
        case .mapChunk(let item): return try await mapChunk(item)
        case .initialize(let executionID, let start):
            payload = try await initialize(executionID: executionID, start: start, traceHeader: context.traceID)
        case .run(let k): payload = try await runInRow(k, context: context)
        case .ask(let k, let token): payload = try await ask(k, token: token)
        case .resume(let k, let response): payload = try await resume(k, response: response)
        case .finalize(let k): payload = try await finalize(k)
        case .fail(let k, let caught): payload = try await fail(k, caught: caught)
        case .heal(let k, let caught): payload = try await heal(k, caught: caught)
        case .mapDone(let k, let stats): payload = try await mapDone(k, stats: stats)
        case .batchPoll(let k): payload = try await batchPoll(k)
        }
        if payload.cursor.status == .waitBatch, payload.waitSeconds == nil {  // a replayed submission: the first wait
            var paced = payload
            paced.waitSeconds = payload.cursor.batch?.pollSeconds
            return try paced.encoded()
        }
        return try payload.encoded()
    }

    /// Errors that refuse the step's input rather than report a failure while running it (``ErrorCode/Disposition/refuse``).
    static let refusals: Set<ErrorCode> = Set(ErrorCode.allCases.filter { $0.disposition == .refuse })

    /// Maps infrastructure errors to the stable codes the state machine retries or reports.
    static func classify(_ error: any Error) -> any Error {
        switch error {
        case let e as AWSError where e.isThrottling || e.isServerError || e.isConflict: AnalemmaError(.transient, "\(e)")
        case is TransportError, is AmbiguousFailure: AnalemmaError(.transient, "\(error)")
        case let e as BlockReferences.BlockCollected: AnalemmaError(.transient, "\(e) (retry re-uploads it)")
        case let e as ManifestStore.HeadConflict: AnalemmaError(.concurrentWrite, "\(e)")
        default: error
        }
    }

    func emit(_ kind: EventKind, _ k: KernelPayload, _ fields: [String: String] = [:], bodies: [String: String] = [:]) {
        var event = KernelEvent(kind, executionID: k.executionID, traceID: k.traceID, ownerID: k.ownerID, fields)
        event.bodies = bodies
        event.traceRoot = k.cursor.chain?.root
        events.emit(event)
    }
}
