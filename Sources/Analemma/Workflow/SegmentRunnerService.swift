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
    public let workflows: WorkflowStore
    public let checkpoints: CheckpointWriter
    public let hydrator: StateHydrator
    public let payloads: ZeroGravityPayload
    public let executor: NodeExecutor
    public let events: any EventSink
    /// Map runs as Step Functions reports them (`map_done` trusts their counts and ownership, not its payload's).
    public let mapRuns: any MapRunSource
    /// The budget for `finalize`'s output inside the payload (the rest is kernel metadata).
    public var outputLimit = 24 * 1024
    /// Steps one execution takes before it continues as a new one (from `HISTORY_EVENT_LIMIT`, Step Functions' 25,000).
    public var stepsPerExecution = Cursor.stepsPerExecution(historyLimit: 25_000)
    /// Where map chunks and chunk results go (the state bucket).
    var chunkService: DistributedChunkService { DistributedChunkService(s3: payloads.s3, bucket: payloads.bucket) }
    /// Manifests this container committed or read, by execution and id (immutable: the id is the content hash).
    let manifests = ImmutableCache<Manifest>(capacity: 64)
    /// The cursor and trace id each committed manifest stores, by execution and manifest id (``payload(at:head:identity:)``).
    let committedPayloads = ImmutableCache<KernelPayload>(capacity: 64)

    public init(
        workflows: WorkflowStore, checkpoints: CheckpointWriter, payloads: ZeroGravityPayload, executor: NodeExecutor,
        events: any EventSink,
        mapRuns: any MapRunSource
    ) {
        self.mapRuns = mapRuns
        self.workflows = workflows
        self.checkpoints = checkpoints
        self.hydrator = StateHydrator(store: checkpoints.blocks)
        self.payloads = payloads
        self.executor = executor
        self.events = events
    }

    public func handle(_ event: Data, context: LambdaContext) async throws -> Data {
        let e = try SegmentEvent.parse(event)
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
                emit(
                    refused ? "refused" : "error", k,
                    [
                        "action": e.action.rawValue, "code": code?.rawValue ?? "\(type(of: classified))",
                        "message": String("\(classified)".prefix(1024)),
                    ])
            }
            await events.flush(requestID: context.requestID)
            let identity = e.kernel.map { ($0.traceID, $0.executionID, $0.ownerID) } ?? (nil, e.executionID, e.startOwner)
            throw ScopedError.wrap(classified, traceID: identity.0, executionID: identity.1, ownerID: identity.2)
        }
    }

    func step(_ e: SegmentEvent, context: LambdaContext) async throws -> Data {
        if e.action == .mapChunk { return try await mapChunk(e.item!) }
        let payload: KernelPayload
        switch e.action {
        case .mapChunk: throw AnalemmaError(.invalidEvent, "unreachable")
        case .mapDone: payload = try await mapDone(e.kernel!, stats: e.mapStats!)
        case .initialize: payload = try await initialize(e, context: context)
        case .run: payload = try await run(e.kernel!)
        case .ask: payload = try await ask(e.kernel!, token: e.taskToken!)
        case .resume: payload = try await resume(e.kernel!, response: e.humanResponse)
        case .finalize: payload = try await finalize(e.kernel!)
        case .fail: payload = try await fail(e.kernel!, errorType: e.errorType, cause: e.errorCause)
        case .heal: payload = try await heal(e.kernel!, errorType: e.errorType!, cause: e.errorCause)
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

    func emit(_ type: String, _ k: KernelPayload, _ fields: [String: String] = [:], bodies: [String: String] = [:]) {
        var event = KernelEvent(type, executionID: k.executionID, traceID: k.traceID, ownerID: k.ownerID, fields)
        event.bodies = bodies
        events.emit(event)
    }
}
