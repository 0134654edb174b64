#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// Where a run is: kept in state (the kernel field `cursor`) so the payload can always be rebuilt from the head
/// manifest alone (idempotent retries, inspection, forks).
public struct Cursor: Codable, Sendable, Equatable {
    /// What the state machine does next.
    public enum Status: String, Codable, Sendable {
        /// Run segment `segment`.
        case `continue`
        /// Ask a human (`hitp`), then resume.
        case waitHuman = "wait_human"
        /// Nothing left to run: finalize.
        case done
        /// Failed; `failure` in state says why.
        case failed
        /// Run the map `fanout` describes on a Distributed Map, then `map_done`.
        case fanOut = "fan_out"
        /// Start `chain.next`, which resumes this cursor, and end this execution (before its history limit).
        case continueAsNew = "continue_as_new"
    }

    /// A map handed to Step Functions: where its ItemReader input is and how to run it.
    public struct FanOut: Codable, Sendable, Equatable {
        public var node: String
        public var bucket: String
        /// Key of the ItemReader input (`items.json`).
        public var key: String
        /// S3 prefix (key) of the chunks and their result files.
        public var prefix: String
        public var items: Int
        public var chunks: Int
        public var chunkSize: Int
        public var maxConcurrency: Int
        public var toleratedFailurePercentage: Double
        /// The Map's `ToleratedFailureCountPath`: the node's count, or the number of chunks when it sets none.
        public var toleratedFailureCount: Int?
        public var step: Int

        enum CodingKeys: String, CodingKey {
            case node, bucket, key, prefix, items, chunks, step
            case chunkSize = "chunk_size"
            case maxConcurrency = "max_concurrency"
            case toleratedFailurePercentage = "tolerated_failure_percentage"
            case toleratedFailureCount = "tolerated_failure_count"
        }
    }

    /// A human step being waited on.
    public struct Human: Codable, Sendable, Equatable {
        public var node: String
        public var timeoutSeconds: Int
        /// Answers refused so far at this node (the human is asked again, up to ``maxAnswers`` answers).
        public var refusals: Int?
        /// Why the last answer was refused (shown with the question when it is asked again; cut to 500 characters).
        public var refusal: String?
        /// Answers a human gets at one question before the step fails.
        public static let maxAnswers = 3
        enum CodingKeys: String, CodingKey {
            case node, refusals, refusal
            case timeoutSeconds = "timeout_seconds"
        }
    }

    public var status: Status
    public var workflowID: String
    /// Pointer to the stored (content-addressed) workflow definition.
    public var workflow: String
    /// Checkpoints so far (the manifest's segment index).
    public var step: Int
    /// The segment to run when `status` is `continue`.
    public var segment: Int?
    public var hitp: Human?
    /// Edge traversals so far (`"from->to"` → count), for `max_traversals`.
    public var traversals: [String: Int]
    /// Self-healing rounds so far, by node.
    public var heals: [String: Int]?
    /// Map nodes that completed with failures within their tolerance (the run then ends `COMPLETED_WITH_RISK`).
    public var risks: [String]?
    /// The map running on a Distributed Map (status `fan_out`).
    public var fanout: FanOut?
    /// Nodes run so far (the budget's `node_runs`).
    public var runs: Int?
    /// When `initialize` ran (the budget's `wall_seconds`).
    public var startedAtMillis: Int64?
    /// This execution's place in a chain of executions continuing one another; nil for one that continues none.
    public var chain: Chain?

    enum CodingKeys: String, CodingKey {
        case status, workflow, step, segment, hitp, traversals, heals, risks, fanout, runs, chain
        case workflowID = "workflow_id"
        case startedAtMillis = "started_ms"
    }

    public init(
        status: Status, workflowID: String, workflow: String, step: Int, segment: Int? = nil, hitp: Human? = nil,
        traversals: [String: Int], heals: [String: Int]? = nil, risks: [String]? = nil, fanout: FanOut? = nil
    ) {
        self.status = status
        self.workflowID = workflowID
        self.workflow = workflow
        self.step = step
        self.segment = segment
        self.hitp = hitp
        self.traversals = traversals
        self.heals = heals
        self.risks = risks
        self.fanout = fanout
    }

    /// `traversals` may be absent: the payload's cursor leaves it out (see ``inPayload``).
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        status = try c.decode(Status.self, forKey: .status)
        workflowID = try c.decode(String.self, forKey: .workflowID)
        workflow = try c.decode(String.self, forKey: .workflow)
        step = try c.decode(Int.self, forKey: .step)
        segment = try c.decodeIfPresent(Int.self, forKey: .segment)
        hitp = try c.decodeIfPresent(Human.self, forKey: .hitp)
        traversals = try c.decodeIfPresent([String: Int].self, forKey: .traversals) ?? [:]
        heals = try c.decodeIfPresent([String: Int].self, forKey: .heals)
        risks = try c.decodeIfPresent([String].self, forKey: .risks)
        fanout = try c.decodeIfPresent(FanOut.self, forKey: .fanout)
        runs = try c.decodeIfPresent(Int.self, forKey: .runs)
        startedAtMillis = try c.decodeIfPresent(Int64.self, forKey: .startedAtMillis)
        chain = try c.decodeIfPresent(Chain.self, forKey: .chain)
    }

    /// The cursor as the Step Functions payload carries it: what the state machine and the next step need (status,
    /// segment, human wait, fan-out, position), never what grows with steps, nodes or items (edge traversals, heal
    /// rounds, risky maps, run counters) — those stay in state, where every step reads its cursor from.
    public var inPayload: Cursor {
        var slim = self
        slim.traversals = [:]
        slim.heals = nil
        slim.risks = nil
        slim.runs = nil
        slim.startedAtMillis = nil
        return slim
    }
}

/// The Step Functions payload between kernel steps: identity, pointers and the cursor; never state values.
/// Always far under ``ZeroGravityPayload/limit`` (the `output` of `finalize` is offloaded to fit).
public struct KernelPayload: Codable, Sendable, Equatable {
    /// An error as the failure path reports it (message cut to 2 KB; the full text is in state).
    public struct ErrorSummary: Codable, Sendable, Equatable {
        public var code: String
        public var message: String
        public var node: String?
    }

    public var executionID: String
    public var ownerID: String
    public var traceID: String
    public var manifestID: String
    /// The head version this payload was produced at.
    public var version: Int
    public var cursor: Cursor
    /// Set by `fail`: what the Fail state reports.
    public var error: ErrorSummary?
    /// Set by `finalize`: the workflow's output fields (large ones as `{"$pointer": …}`).
    public var output: JSONValue?
    /// Set by `finalize`: `SUCCEEDED`, or `COMPLETED_WITH_RISK` when a map tolerated failures.
    public var outcome: String?

    enum CodingKeys: String, CodingKey {
        case executionID = "execution_id"
        case ownerID = "owner_id"
        case traceID = "trace_id"
        case manifestID = "manifest_id"
        case version, cursor, error, output, outcome
    }

    public init(executionID: String, ownerID: String, traceID: String, manifestID: String, version: Int, cursor: Cursor) {
        self.executionID = executionID
        self.ownerID = ownerID
        self.traceID = traceID
        self.manifestID = manifestID
        self.version = version
        self.cursor = cursor.inPayload
    }

    /// Compact JSON with sorted keys.
    public func encoded() throws -> Data { try CanonicalJSON.encode(self) }
}

/// What the state machine sends the segment runner: `{"action": …, …}`. Values that enter from outside (the start
/// input, a human response, a Catch's `Cause`) are read as raw bytes and dehydrated by this step.
public struct SegmentEvent: Sendable {
    public enum Action: String, Sendable, CaseIterable {
        case initialize, run, ask, resume, finalize, fail, heal
        /// A Distributed Map child: one chunk (`item`: `{"chunk", "map", "identity", "workflow"}`).
        case mapChunk = "map_chunk"
        /// After the Distributed Map and the light aggregator: statistics into state, route on.
        case mapDone = "map_done"
    }

    public var action: Action
    /// The previous step's payload (every action but `initialize`).
    public var kernel: KernelPayload?
    /// `initialize`: the execution ARN (`$$.Execution.Id`).
    public var executionID: String?
    /// `initialize`: the StartExecution input `{"owner_id", "workflow", "input"}`, raw.
    public var start: Data?
    /// `ask`: the task token of the `.waitForTaskToken` state.
    public var taskToken: String?
    /// `resume`: the human's answer (`--task-output`), raw.
    public var humanResponse: Data?
    /// `fail`: the Catch result (`Error`, `Cause`).
    public var errorType: String?
    public var errorCause: String?
    /// `map_chunk`: the Distributed Map item (raw).
    public var item: Data?
    /// `map_done`: the light aggregator's statistics (raw, `kernel.map_stats`).
    public var mapStats: Data?

    /// Parses an invocation event; anything malformed is `Analemma.InvalidEvent` naming what.
    public static func parse(_ event: Data) throws -> SegmentEvent {
        func invalid(_ why: String) -> AnalemmaError { AnalemmaError(.invalidEvent, "segment runner event: \(why)") }
        guard let top = JSONScanner.object(event) else { throw invalid("not a JSON object") }
        guard let a = top["action"], let name = try? JSONDecoder().decode(String.self, from: a), let action = Action(rawValue: name)
        else {
            throw invalid("\"action\" must be one of \(Action.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        var e = SegmentEvent(action: action)
        func string(_ data: Data?, _ name: String) throws -> String? {
            guard let data, data != Data("null".utf8) else { return nil }
            guard let s = try? JSONDecoder().decode(String.self, from: data) else { throw invalid("\(name) must be a string") }
            return s
        }
        e.executionID = try string(top["execution_id"], "execution_id")
        e.start = top["start"]
        e.taskToken = try string(top["task_token"], "task_token")
        e.item = top["item"]
        if let k = top["kernel"] {
            do { e.kernel = try JSONDecoder().decode(KernelPayload.self, from: k) } catch {
                throw invalid("\"kernel\" is not a kernel payload: \(error)")
            }
            let inner = JSONScanner.object(k) ?? [:]
            e.humanResponse = inner["human_response"]
            if let agg = inner["map_agg"], let members = JSONScanner.object(agg) { e.mapStats = members["stats"] }
            if let caught = inner["error_info"], let info = JSONScanner.object(caught) {
                e.errorType = try string(info["Error"], "error_info.Error")
                e.errorCause = try string(info["Cause"], "error_info.Cause")
            }
            // Heal's own invocation failed (its Catch writes heal_error): report that failure, the original beside it.
            if action == .fail, let caught = inner["heal_error"], let info = JSONScanner.object(caught),
                let type = try string(info["Error"], "heal_error.Error")
            {
                let cause = try string(info["Cause"], "heal_error.Cause")
                let detail = SegmentRunnerService.message(fromCause: cause) ?? type
                let original = e.errorType.map { " (healing \($0): \(SegmentRunnerService.message(fromCause: e.errorCause) ?? $0))" } ?? ""
                e.errorType = type
                e.errorCause = "the heal step failed: \(detail)\(original)"
            }
        }
        if action == .initialize && (e.executionID == nil || e.start == nil) { throw invalid("initialize needs execution_id and start") }
        if action == .mapChunk {
            guard e.item != nil else { throw invalid("map_chunk needs item (the Distributed Map item)") }
            return e
        }
        if action == .mapDone && e.mapStats == nil { throw invalid("map_done needs kernel.map_agg.stats (the light aggregator's result)") }
        if action != .initialize && e.kernel == nil { throw invalid("\(action.rawValue) needs \"kernel\" (the previous step's payload)") }
        if action == .heal && e.errorType == nil { throw invalid("heal needs kernel.error_info (the caught error)") }
        if action == .ask && e.taskToken == nil { throw invalid("ask needs task_token") }
        return e
    }

    init(action: Action) { self.action = action }

    /// The owner an `initialize` start names, if it is a plain string (for log lines only; never trusted).
    var startOwner: String? {
        guard let start, let raw = JSONScanner.object(start)?["owner_id"] else { return nil }
        return try? JSONDecoder().decode(String.self, from: raw)
    }
}
