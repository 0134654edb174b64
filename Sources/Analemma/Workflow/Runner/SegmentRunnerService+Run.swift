#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// `run`: one segment, and the commit every step ends with.
extension SegmentRunnerService {
    /// Runs the cursor's segment: hydrates its declared reads, runs its nodes, routes, commits the delta. A retry may
    /// find the head up to `steps` commits on (``Turn/Position/namedWithin(steps:)``); `replayed` then, and the
    /// payload is the one the first run returned.
    func run(_ k: KernelPayload, within steps: Int = 1) async throws -> (next: KernelPayload, replayed: Bool) {
        guard k.cursor.status == .continue, let index = k.cursor.segment else {
            throw AnalemmaError(.invalidEvent, "run: the payload's cursor is \(k.cursor.status.rawValue), not continue")
        }
        let turn = try await turn(k, .namedWithin(steps: steps))
        if let replay = turn.replay { return (replay, true) }
        let plan = try await turn.plan()
        guard let segment = plan.segment(index) else {
            throw AnalemmaError(.invalidEvent, "run: segment \(index) does not exist (the workflow has \(plan.segments.count))")
        }
        emit(.segmentStarted, k, ["segment": String(index), "nodes": segment.nodes.joined(separator: ",")])
        let callsModel = segment.nodes.contains { plan.nodes[$0].flatMap { plan.kinds[$0.type] }?.callsModel ?? false }
        var (cursor, state) = try await turn.read(segment.reads + ["heal"] + (callsModel ? ["llm_usage"] : []))
        let hydrated = state.fields.values.reduce(0) { $0 + $1.count }
        var changes: [String: Data] = [:]
        let healing = try state["heal"].map { try JSONDecoder().decode(HealRecord.self, from: $0) }.flatMap {
            $0.active.map { segment.nodes.contains($0.node) } == true ? $0 : nil  // a round open for this segment
        }
        var exit: String?
        let budget = plan.definition.budget ?? Budget()
        let tokensSpent = try Self.tokensSpent(state["llm_usage"])
        for (i, id) in segment.nodes.enumerated() {
            let node = try plan.node(id)
            try budget.check(
                runs: cursor.runs ?? 0, tokens: plan.kinds[node.type]?.callsModel == true ? tokensSpent : 0,
                startedAtMillis: cursor.startedAtMillis,
                now: checkpoints.clock.nowMillis())
            cursor.runs = (cursor.runs ?? 0) + 1
            let fix = healing?.active?.node == id ? healing?.active?.instruction : nil
            emit(.nodeStarted, k, fix == nil ? ["node": id, "type": node.type] : ["node": id, "type": node.type, "healing": "true"])
            guard let outcome = try await runNode(node, plan: plan, fix: fix, state: state, cursor: &cursor, k) else {
                // to a Distributed Map or a batch job
                return (try await endSegment(turn, index, changes, cursor: cursor, exit: id, plan: plan, hydrated: hydrated), false)
            }
            try state.merge(outcome.updates, from: .node(id))
            changes.merge(outcome.updates) { _, new in new }
            if let usage = try record(outcome, of: node, usage: state["llm_usage"], k) {
                try state.merge(["llm_usage": usage], from: .kernel)
                changes["llm_usage"] = usage
            }
            exit = try plan.router.next(after: id, fields: state.fields, traversals: &cursor.traversals)
            if i + 1 < segment.nodes.count, exit == segment.nodes[i + 1] { continue }
            break
        }
        if var record = healing, let active = record.active, let last = record.attempts.indices.last {  // ran through: healed
            record.attempts[last].outcome = .healed
            record.active = nil
            changes["heal"] = try CanonicalJSON.encode(record)
            emit(.healSucceeded, k, ["node": active.node, "round": String(active.round)])
        }
        cursor = try Self.cursor(entering: exit, plan: plan, from: cursor)
        return (try await endSegment(turn, index, changes, cursor: cursor, exit: exit ?? "", plan: plan, hydrated: hydrated), false)
    }

    /// Runs one node of the segment through its kind. A map handed to a Distributed Map or a batch job returns nil,
    /// with the cursor set to fan out or to wait for the job.
    func runNode(
        _ node: WorkflowDefinition.Node, plan: Plan, fix: String?, state: StateBag, cursor: inout Cursor, _ k: KernelPayload
    ) async throws -> NodeOutcome? {
        guard plan.place(node.id) == .map else {
            let reads = Set(node.reads ?? [])
            return try await executor.run(
                node, fields: state.fields.filter { reads.contains($0.key) }, healInstruction: fix, owner: k.ownerID)
        }
        return try await runMap(node, fields: state.fields, cursor: &cursor, k: k)
    }

    /// Commits a segment's changes one step on and reports where it ended.
    func endSegment(
        _ turn: Turn, _ index: Int, _ changes: [String: Data], cursor: Cursor, exit: String, plan: Plan, hydrated: Int
    ) async throws -> KernelPayload {
        var cursor = cursor
        cursor.step += 1
        let out = try await turn.commit(changes, cursor: cursor, appendOnly: Set(plan.definition.appendOnly ?? []))
        emit(
            .segmentFinished, out,
            ["segment": String(index), "status": cursor.status.rawValue, "exit": exit, "hydrated_bytes": String(hydrated)])
        return out
    }

    /// Reports a node's run (`node_finished`, and for a model call `llm_call` and its `tool_call`s); returns
    /// `llm_usage` with the call added, when the node called a model.
    func record(_ outcome: NodeOutcome, of node: WorkflowDefinition.Node, usage: Data?, _ k: KernelPayload) throws -> Data? {
        var detail = [
            "node": node.id, "type": node.type, "attempts": String(outcome.attempts),
            "writes": outcome.updates.keys.sorted().joined(separator: ","),
        ]
        defer { emit(.nodeFinished, k, detail) }
        guard let m = outcome.model else { return nil }
        detail["model"] = m.model
        detail["tokens_in"] = String(m.inputTokens)
        detail["tokens_out"] = String(m.outputTokens)
        // OpenTelemetry GenAI semantic conventions where they apply (gen_ai.*), kernel names otherwise.
        emit(
            .llmCall, k,
            [
                "node": node.id, "gen_ai.system": "gemini", "gen_ai.operation.name": "generate_content",
                "gen_ai.request.model": m.model, "gen_ai.response.model": m.model,
                "gen_ai.usage.input_tokens": String(m.inputTokens), "gen_ai.usage.output_tokens": String(m.outputTokens),
                "gen_ai.response.finish_reasons": m.finishReason ?? "", "tokens_thought": String(m.thoughtTokens),
                "route": m.route ?? "", "fallbacks": m.fallbacks.joined(separator: "; "),
                "latency_ms": m.latencyMillis.map(String.init) ?? "",
                "estimated_cost_usd": m.estimatedCostUSD.map { String($0) } ?? "", "tool_calls": String(outcome.toolCalls.count),
                "remapped_from": m.remappedFrom ?? "", "waited_ms": String(m.waitedMillis), "priced_on": m.pricedOn ?? "",
                "cache": m.cache ?? "", "calls": String(m.calls), "batch_job": m.batchJob ?? "",
            ], bodies: ["prompt": outcome.prompt ?? "", "completion": m.text])
        for call in outcome.toolCalls {
            emit(.toolCall, k, ["node": node.id, "tool": call.name, "args": call.args, "ok": String(call.ok), "error": call.error ?? ""])
        }
        return try Self.usage(usage, adding: m, node: node.id, tools: outcome.toolCalls)
    }

    /// Model tokens (input, output, thinking) the execution has spent so far, from `llm_usage`.
    static func tokensSpent(_ usage: Data?) throws -> Int {
        guard let usage, case .object(let o) = try JSONValue(json: usage), case .object(let total)? = o["total"] else { return 0 }
        return ["input_tokens", "output_tokens", "thought_tokens"].reduce(0) { sum, key in
            if case .number(let n)? = total[key], let t = Bounded.integer(n, in: 0...(1 << 50)) { return sum + t }
            return sum
        }
    }

    /// Commits `changes` plus the cursor over `manifest` and returns the next payload.
    func commit(
        _ changes: [String: Data], removing removed: Set<String> = [], cursor: Cursor, over manifest: Manifest, head: ManifestStore.Head,
        _ k: KernelPayload, appendOnly: Set<String> = []
    ) async throws -> KernelPayload {
        var changes = changes
        var cursor = cursor.handingOver(in: k.executionID, afterSteps: stepsPerExecution)
        var used = ledger.take(for: k.executionID)
        if cursor.status == .continueAsNew { used.transitions = used.transitions.saturatingAdd(2) }  // ContinueAsNew, Continued
        cursor.usage = (cursor.usage ?? Usage()) + used
        changes["cursor"] = try CanonicalJSON.encode(cursor)
        let next: Manifest
        do {
            next = try await checkpoints.commit(
                delta: changes, removed: removed, previous: manifest, expected: head, segmentIndex: cursor.step, appendOnly: appendOnly)
        } catch {
            ledger.giveBack(used, for: k.executionID)
            throw error
        }
        manifests.insert(next.executionID + "#" + next.manifestID, next)
        if let traceID = next.traceID {  // the trace id the manifest itself carries, never the payload's word
            committedPayloads.insert(
                next.executionID + "#" + next.manifestID,
                KernelPayload(
                    executionID: next.executionID, ownerID: next.ownerID, traceID: traceID, manifestID: next.manifestID,
                    version: head.version + 1, cursor: cursor))
        }
        var out = KernelPayload(
            executionID: k.executionID, ownerID: k.ownerID, traceID: k.traceID, manifestID: next.manifestID, version: head.version + 1,
            cursor: cursor)
        out.error = nil
        let written = next.newBlocks(since: manifest)
        emit(
            .checkpoint, out,
            [
                "manifest_id": next.manifestID, "step": String(cursor.step), "changed": String(changes.count),
                "status": cursor.status.rawValue, "s3_puts": String(written.count), "bytes": String(written.values.reduce(0, +)),
            ])
        if cursor.status == .continueAsNew, let next = cursor.chain?.nextARN {  // viewers follow the chain from here
            emit(.continuedAsNew, out, ["next_execution_id": next, "step": String(cursor.step)])
        }
        return out
    }

    /// `llm_usage` with one more call: `{"nodes": {id: …}, "total": …}`, each with calls, tokens, estimated cost and
    /// the last model (and, per node, its route).
    static func usage(_ current: Data?, adding m: ModelResponse, node: String, tools: [ToolCall] = []) throws -> Data {
        var nodes: [String: JSONValue] = [:]
        var total: [String: JSONValue] = [:]
        if let current, case .object(let o) = try JSONValue(json: current) {
            if case .object(let n)? = o["nodes"] { nodes = n }
            if case .object(let t)? = o["total"] { total = t }
        }
        func add(_ entry: inout [String: JSONValue], route: Bool) {
            func bump(_ name: String, _ by: Double) {
                if case .number(let n)? = entry[name] { entry[name] = .number(n + by) } else { entry[name] = .number(by) }
            }
            bump("calls", Double(m.calls))
            bump("input_tokens", Double(m.inputTokens))
            bump("output_tokens", Double(m.outputTokens))
            bump("thought_tokens", Double(m.thoughtTokens))
            bump("cached_tokens", Double(m.cachedTokens))
            if let cost = m.estimatedCostUSD { bump("estimated_cost_usd", cost) }
            entry["model"] = .string(m.model)
            if route, let r = m.route { entry["route"] = .string(r) }
            if route, let from = m.remappedFrom { entry["remapped_from"] = .string(from) }
            if route, let day = m.pricedOn { entry["priced_on"] = .string(day) }
        }
        var entry: [String: JSONValue] = [:]
        if case .object(let o)? = nodes[node] { entry = o }
        add(&entry, route: true)
        if !tools.isEmpty {  // every tool call recorded (the last 50 per node)
            var list: [JSONValue] = []
            if case .array(let old)? = entry["tool_calls"] { list = old }
            list += try tools.map { try JSONValue(json: try CanonicalJSON.encode($0)) }
            entry["tool_calls"] = .array(Array(list.suffix(50)))
        }
        nodes[node] = .object(entry)
        add(&total, route: false)
        return JSONValue.object(["nodes": .object(nodes), "total": .object(total)]).jsonData()
    }

    /// The X-Ray trace root of the invocation, else one derived from the execution (stable across retries).
    static func traceID(_ header: String?, executionID: String) -> String {
        if let header, let root = header.split(separator: ";").first(where: { $0.hasPrefix("Root=") }) { return String(root.dropFirst(5)) }
        return "analemma-" + Digest.hex(Digest.sha256(Data(executionID.utf8))).prefix(32)
    }
}
