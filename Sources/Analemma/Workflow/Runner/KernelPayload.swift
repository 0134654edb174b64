#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// Where a run is: kept in state (the kernel field `cursor`) so the payload can always be rebuilt from the head
/// manifest alone (idempotent retries, inspection, forks).
package struct Cursor: Codable, Sendable, Equatable {
    /// What the state machine does next.
    package enum Status: String, Codable, Sendable {
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
        /// Wait for the map's batch job (`batch`), polling it with `batch_poll`.
        case waitBatch = "wait_batch"
    }

    /// A map handed to Step Functions: where its ItemReader input is and how to run it.
    package struct FanOut: Codable, Sendable, Equatable {
        package var node: String
        package var bucket: String
        /// Key of the ItemReader input (`items.json`).
        package var key: String
        /// S3 prefix (key) of the chunks and their result files.
        package var prefix: String
        package var items: Int
        package var chunks: Int
        package var chunkSize: Int
        package var maxConcurrency: Int
        package var toleratedFailurePercentage: Double
        /// The Map's `ToleratedFailureCountPath`: the node's count, or the number of chunks when it sets none.
        package var toleratedFailureCount: Int?
        package var step: Int

        enum CodingKeys: String, CodingKey {
            case node, bucket, key, prefix, items, chunks, step
            case chunkSize = "chunk_size"
            case maxConcurrency = "max_concurrency"
            case toleratedFailurePercentage = "tolerated_failure_percentage"
            case toleratedFailureCount = "tolerated_failure_count"
        }
    }

    /// A human step being waited on.
    package struct Human: Codable, Sendable, Equatable {
        package var node: String
        package var timeoutSeconds: Int
        /// Answers refused so far at this node (the human is asked again, up to ``maxAnswers`` answers).
        package var refusals: Int?
        /// Why the last answer was refused (shown with the question when it is asked again; cut to 500 characters).
        package var refusal: String?
        /// Answers a human gets at one question before the step fails.
        package static let maxAnswers = 3
        enum CodingKeys: String, CodingKey {
            case node, refusals, refusal
            case timeoutSeconds = "timeout_seconds"
        }
    }

    package var status: Status
    package var workflowID: String
    /// Pointer to the stored (content-addressed) workflow definition.
    package var workflow: String
    /// Checkpoints so far (the manifest's segment index).
    package var step: Int
    /// The segment to run when `status` is `continue`.
    package var segment: Int?
    package var hitp: Human?
    /// Edge traversals so far (`"from->to"` → count), for `max_traversals`.
    package var traversals: [String: Int]
    /// Self-healing rounds so far, by node.
    package var heals: [String: Int]?
    /// Map nodes that completed with failures within their tolerance (the run then ends `COMPLETED_WITH_RISK`).
    package var risks: [String]?
    /// The map running on a Distributed Map (status `fan_out`).
    package var fanout: FanOut?
    /// The map whose items a batch job answers (status `wait_batch`).
    package var batch: Batch?
    /// Nodes run so far (the budget's `node_runs`).
    package var runs: Int?
    /// When `initialize` ran (the budget's `wall_seconds`).
    package var startedAtMillis: Int64?
    /// This execution's place in a chain of executions continuing one another; nil for one that continues none.
    package var chain: Chain?
    /// What the execution has used through this commit (``UsageLedger``); priced by `finalize`.
    package var usage: Usage?

    enum CodingKeys: String, CodingKey {
        case status, workflow, step, segment, hitp, traversals, heals, risks, fanout, batch, runs, chain, usage
        case workflowID = "workflow_id"
        case startedAtMillis = "started_ms"
    }

    package init(
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
    package init(from decoder: any Decoder) throws {
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
        batch = try c.decodeIfPresent(Batch.self, forKey: .batch)
        runs = try c.decodeIfPresent(Int.self, forKey: .runs)
        startedAtMillis = try c.decodeIfPresent(Int64.self, forKey: .startedAtMillis)
        chain = try c.decodeIfPresent(Chain.self, forKey: .chain)
        usage = try c.decodeIfPresent(Usage.self, forKey: .usage)
    }

    /// The cursor as the Step Functions payload carries it: what the state machine and the next step need (status,
    /// segment, human wait, fan-out, position), never what grows with steps, nodes or items (edge traversals, heal
    /// rounds, risky maps, run counters) — those stay in state, where every step reads its cursor from.
    package var inPayload: Cursor {
        var slim = self
        slim.traversals = [:]
        slim.heals = nil
        slim.risks = nil
        slim.runs = nil
        slim.startedAtMillis = nil
        slim.usage = nil
        return slim
    }
}

/// The Step Functions payload between kernel steps: identity, pointers and the cursor; never state values.
/// Always far under ``ZeroGravityPayload/limit`` (the `output` of `finalize` is offloaded to fit).
package struct KernelPayload: Codable, Sendable, Equatable {
    /// An error as the failure path reports it (message cut to 2 KB; the full text is in state).
    package struct ErrorSummary: Codable, Sendable, Equatable {
        package var code: String
        package var message: String
        package var node: String?
    }

    package var executionID: String
    package var ownerID: String
    package var traceID: String
    package var manifestID: String
    /// The head version this payload was produced at.
    package var version: Int
    package var cursor: Cursor
    /// Set by `fail`: what the Fail state reports.
    package var error: ErrorSummary?
    /// Set by `finalize`: the workflow's output fields (large ones as `{"$pointer": …}`).
    package var output: JSONValue?
    /// Set by `finalize`: `SUCCEEDED`, or `COMPLETED_WITH_RISK` when a map tolerated failures.
    package var outcome: String?
    /// Set by `finalize`: what the execution used and what that costs (``CostReport``).
    package var cost: CostReport?
    /// While a batch job runs: seconds the state machine waits before it polls again (`WaitBatch`'s `SecondsPath`).
    /// Only a pace, never trusted: `batch_poll` checks everything else against stored state.
    package var waitSeconds: Int?

    enum CodingKeys: String, CodingKey {
        case executionID = "execution_id"
        case ownerID = "owner_id"
        case traceID = "trace_id"
        case manifestID = "manifest_id"
        case version, cursor, error, output, outcome, cost
        case waitSeconds = "wait_seconds"
    }

    package init(executionID: String, ownerID: String, traceID: String, manifestID: String, version: Int, cursor: Cursor) {
        self.executionID = executionID
        self.ownerID = ownerID
        self.traceID = traceID
        self.manifestID = manifestID
        self.version = version
        self.cursor = cursor.inPayload
    }

    /// Compact JSON with sorted keys.
    package func encoded() throws -> Data { try CanonicalJSON.encode(self) }
}
