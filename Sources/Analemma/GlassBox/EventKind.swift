/// Every kernel event type, with the attributes it carries: the one catalogue. The glass-box README's table is
/// generated from it (`make catalogue`; `GlassBoxTests` fails while it is stale) and the integration tests hold
/// every event the real functions write to it.
package enum EventKind: String, CaseIterable, Sendable {
    case executionStarted = "execution_started"
    case executionContinued = "execution_continued"
    case executionForked = "execution_forked"
    case segmentStarted = "segment_started"
    case segmentFinished = "segment_finished"
    case nodeStarted = "node_started"
    case nodeFinished = "node_finished"
    case llmCall = "llm_call"
    case toolCall = "tool_call"
    case checkpoint
    case continuedAsNew = "continued_as_new"
    case healAttempt = "heal_attempt"
    case healSucceeded = "heal_succeeded"
    case healExhausted = "heal_exhausted"
    case humanWaiting = "human_waiting"
    case humanAnswered = "human_answered"
    case humanRefused = "human_refused"
    case mapStarted = "map_started"
    case mapChunk = "map_chunk"
    case mapRead = "map_read"
    case mapBatch = "map_batch"
    case mapAggregated = "map_aggregated"
    case mapFinished = "map_finished"
    case executionFinished = "execution_finished"
    case executionFailed = "execution_failed"
    case error
    case refused
    case gcBlock = "gc_block"
    case gcReport = "gc_report"

    /// The attributes an event of this kind may carry.
    package var attributes: [String] {
        switch self {
        case .executionStarted: ["workflow_id", "segments"]
        case .executionContinued: ["previous", "index", "step"]
        case .executionForked: ["forked_from", "at", "step", "from", "set"]
        case .segmentStarted: ["segment", "nodes"]
        case .segmentFinished: ["segment", "status", "exit", "hydrated_bytes"]
        case .nodeStarted: ["node", "type", "healing"]
        case .nodeFinished: ["node", "type", "attempts", "writes", "model", "tokens_in", "tokens_out"]
        case .llmCall:
            [
                "node", "gen_ai.system", "gen_ai.operation.name", "gen_ai.request.model", "gen_ai.response.model",
                "gen_ai.usage.input_tokens", "gen_ai.usage.output_tokens", "gen_ai.response.finish_reasons", "tokens_thought", "route",
                "fallbacks", "latency_ms", "estimated_cost_usd", "tool_calls", "remapped_from", "waited_ms", "priced_on", "cache",
                "calls", "batch_job",
            ]
        case .toolCall: ["node", "tool", "args", "ok", "error"]
        case .checkpoint: ["manifest_id", "step", "changed", "status", "s3_puts", "bytes"]
        case .continuedAsNew: ["next_execution_id", "step"]
        case .healAttempt: ["node", "round", "of", "code", "model", "instruction"]
        case .healSucceeded: ["node", "round"]
        case .healExhausted: ["node", "rounds", "code"]
        case .humanWaiting: ["node", "question", "timeout_seconds", "token_sha256"]
        case .humanAnswered: ["node", "fields", "asked_ms"]
        case .humanRefused: ["node", "code", "reason", "attempt"]
        case .mapStarted: ["node", "items", "chunks", "mode"]
        case .mapChunk: ["node", "chunk", "items", "failed"]
        case .mapBatch: ["node", "job", "model", "requests", "state", "next_poll_seconds"]
        case .mapRead: ["map_run_arn", "succeeded", "failed", "pending", "running", "timed_out", "aborted", "total"]
        case .mapAggregated: ["map_run_arn", "succeeded", "failed", "timed_out", "aborted", "total"]
        case .mapFinished: ["node"] + MapStats.summaryKeys + MapStats.sampleKeys
        case .executionFinished: ["status", "risk_nodes", "output_bytes", "step", "cost_usd", "started_ms"]
        case .executionFailed: ["code", "message", "started_ms"]
        case .error, .refused: ["action", "code", "message"]
        case .gcBlock: ["owner_id", "block", "verdict", "retry_after_s"]
        case .gcReport: ["report"]
        }
    }

    /// What the event says, for the catalogue.
    package var meaning: String {
        switch self {
        case .executionStarted: "`initialize` committed the first checkpoint"
        case .executionContinued: "this execution continues `previous` (continue-as-new)"
        case .executionForked: "this execution is a fork of `forked_from` at checkpoint `at`, with `set`'s fields changed"
        case .segmentStarted: "a segment starts: its nodes"
        case .segmentFinished: "a segment ended: the cursor's next `status`, the node it `exit`ed by, the bytes of state it read"
        case .nodeStarted: "a node starts (`healing`: with a heal instruction)"
        case .nodeFinished: "a node ran: its attempts, the fields it wrote, the model it called"
        case .llmCall: "a model call: OpenTelemetry GenAI names, and the kernel's routing (bodies: `prompt`, `completion`)"
        case .toolCall: "a skill the model called as a tool"
        case .checkpoint: "a commit: fields changed, blocks uploaded (`s3_puts`) and their bytes"
        case .continuedAsNew: "the next execution of the chain was named"
        case .healAttempt: "self-healing asked the model for a fix; the segment runs again with it"
        case .healSucceeded: "the healed segment ran through"
        case .healExhausted: "the node's heal rounds are used up; the failure is final"
        case .humanWaiting: "a question and its task token (as a SHA-256 prefix) are recorded"
        case .humanAnswered: "an answer was merged"
        case .humanRefused: "an answer was refused and not merged; the question is asked again"
        case .mapStarted: "a map node cut its items (`mode`: inline, distributed or batch)"
        case .mapChunk: "a Distributed Map child ran its chunk"
        case .mapRead: "the light aggregator read a map run"
        case .mapBatch: "a batch map's job was submitted or polled (`state`: the Batch API's; `next_poll_seconds` while it runs)"
        case .mapAggregated: "`map_done` verified the map run: DescribeMapRun's item counts"
        case .mapFinished: "the map's statistics (`MapStats.summaryKeys`), inline and distributed alike"
        case .executionFinished: "`finalize`: `SUCCEEDED` or `COMPLETED_WITH_RISK`"
        case .executionFailed: "the failure recorded in state"
        case .error: "a step threw; the state machine retries it or records the failure"
        case .refused: "a step whose input did not match stored state (its ids are not trusted with an owner's log)"
        case .gcBlock: "the GC worker's verdict on one block"
        case .gcReport: "a sweep or retention pass"
        }
    }

    /// Written to the function's log only, never to an owner's event log.
    package var logOnly: Bool { [.mapChunk, .refused, .mapRead, .gcBlock, .gcReport].contains(self) }

    /// `document` with the catalogue between its `<!-- events:begin … -->` and `<!-- events:end -->` lines.
    package static func splice(into document: String) throws -> String {
        var lines = document.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard let begin = lines.firstIndex(where: { $0.hasPrefix("<!-- events:begin") }),
            let end = lines.firstIndex(where: { $0.hasPrefix("<!-- events:end") }), begin < end
        else { throw AnalemmaError(.invalidState, "no <!-- events:begin --> … <!-- events:end --> markers") }
        lines.replaceSubrange((begin + 1)..<end, with: [catalogue])
        return lines.joined(separator: "\n")
    }

    /// The catalogue as a Markdown table (the glass-box README's, between its `events` markers).
    package static var catalogue: String {
        var lines = ["| event | attributes | meaning |", "|---|---|---|"]
        for kind in allCases {
            let attributes = kind.attributes.map { "`\($0)`" }.joined(separator: ", ")
            lines.append("| `\(kind.rawValue)` | \(attributes) | \(kind.meaning)\(kind.logOnly ? " (log only)" : "") |")
        }
        return lines.joined(separator: "\n")
    }
}
