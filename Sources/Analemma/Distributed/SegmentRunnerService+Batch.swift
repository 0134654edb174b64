#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// Batch maps (`config.batch`): `run` submits every item's model call as one Batch API job and the cursor waits
/// (`wait_batch`); the state machine's `WaitBatch` → `PollBatch` loop calls `batch_poll` until the job is done, which
/// writes the chunks' results as an inline map would and routes on. No Lambda sleeps while the job runs.
extension SegmentRunnerService {
    /// The model's batch interface; a provider without one (the offline stand-in) is refused before anything is stored.
    func batchModel(_ node: WorkflowDefinition.Node) throws -> any ModelBatches {
        guard let batches = executor.model as? any ModelBatches else {
            throw AnalemmaError(
                .invalidConfiguration,
                "node \(node.id.debugDescription): config.batch needs MODEL_PROVIDER=gemini (the Gemini Developer API's Batch API)")
        }
        return batches
    }

    /// Renders each item's call and submits them as one job: what the cursor then waits for.
    func submitBatch(
        _ node: WorkflowDefinition.Node, spec: MapSpec, _ prepared: MapExecutor.Prepared, to batches: any ModelBatches, _ k: KernelPayload
    ) async throws -> Cursor.Batch {
        guard let item = spec.workflow.nodes.first else { throw AnalemmaError(.invalidWorkflow, "node \(node.id): no item node") }
        let reads = Set(item.reads ?? [])
        var requests: [ModelRequest] = []
        requests.reserveCapacity(prepared.items)
        for value in prepared.chunks.joined() {
            var input = SkillInput(
                nodeID: item.id, config: item.config ?? [:], fields: [spec.itemField: value].filter { reads.contains($0.key) },
                writes: item.writes ?? [])
            input.owner = k.ownerID
            requests.append(try executor.modelRequest(item, input))
        }
        let name = String("analemma \(node.id) \(k.executionID.split(separator: ":").last ?? "")".prefix(128))
        let ticket = try await batches.submit(requests, name: name)
        emit(
            .mapBatch, k,
            ["node": node.id, "job": ticket.job, "model": ticket.model, "requests": String(ticket.requests), "state": "submitted"])
        return Cursor.Batch(
            node: node.id, ticket: ticket, bucket: chunkService.bucket, key: prepared.itemReader.key, prefix: prepared.prefix.key,
            items: prepared.items, chunks: prepared.chunks.count, chunkSize: prepared.chunkSize, pollSeconds: spec.batchPollSeconds,
            submittedAtMillis: checkpoints.clock.nowMillis())
    }

    /// `batch_poll`: the job still running (or a poll the service throttled or failed) returns the payload as it came,
    /// with the next wait; a finished job's
    /// answers become the map's results (each checked like an `llm` node's answer), its cost goes to `llm_usage` at
    /// the batch price, and the run routes on from the map.
    func batchPoll(_ k: KernelPayload) async throws -> KernelPayload {
        guard k.cursor.status == .waitBatch, let batch = k.cursor.batch else {
            throw AnalemmaError(.invalidEvent, "batch_poll: the cursor waits for no batch job")
        }
        let turn = try await turn(k, .named)  // the payload's cursor (its ticket included) is the one state holds
        if let replay = turn.replay { return replay }
        let plan = try await turn.plan()
        let node = try plan.node(batch.node)
        let spec = try MapSpec(node: node, executor: executor)
        let batches = try batchModel(node)
        let detail = ["node": node.id, "job": batch.ticket.job, "model": batch.ticket.model, "requests": String(batch.ticket.requests)]
        var answers: [Result<ModelResponse, AnalemmaError>]?
        var polled = "running"
        do { answers = try await batches.collect(batch.ticket) } catch let e as AnalemmaError where e.code.disposition == .retry {
            polled = "poll failed: \(e.code.rawValue)"  // the job runs on at Google: ask again at the next poll
        }
        guard let answers else {
            var out = k
            out.waitSeconds = batch.nextWait(nowMillis: checkpoints.clock.nowMillis())
            emit(.mapBatch, k, detail.merging(["state": polled, "next_poll_seconds": String(out.waitSeconds ?? 0)]) { $1 })
            return out
        }
        emit(.mapBatch, k, detail.merging(["state": "succeeded"]) { $1 })
        let (mapped, total) = try await batchResults(node, spec: spec, batch: batch, answers: answers, k: k)
        var (cursor, state) = try await turn.read(plan.router.conditionFields(of: node.id).filter { $0 != spec.target } + ["llm_usage"])
        if mapped.completedWithRisk { cursor.risks = (cursor.risks ?? []).filter { $0 != node.id } + [node.id] }
        var changes = [spec.target: try mapped.stats.jsonData()]
        var outcome = NodeOutcome(updates: changes, attempts: 1, model: total)
        outcome.prompt = "(\(batch.ticket.requests) batch requests)"
        if let usage = try record(outcome, of: node, usage: state["llm_usage"], k) { changes["llm_usage"] = usage }
        try state.merge([spec.target: changes[spec.target] ?? Data()], from: .node(node.id))
        let exit = try plan.router.next(after: node.id, fields: state.fields, traversals: &cursor.traversals)
        cursor.batch = nil
        cursor = try Self.cursor(entering: exit, plan: plan, from: cursor)
        cursor.step += 1
        emit(.mapFinished, k, try mapped.stats.summary(node: node.id))
        return try await turn.commit(changes, cursor: cursor)
    }

    /// The job's answers as chunk result files and the map's statistics, with what all answers used together.
    func batchResults(
        _ node: WorkflowDefinition.Node, spec: MapSpec, batch: Cursor.Batch, answers: [Result<ModelResponse, AnalemmaError>],
        k: KernelPayload
    ) async throws -> (MapExecutor.Outcome, ModelResponse?) {
        guard let item = spec.workflow.nodes.first, answers.count == batch.items, batch.chunkSize > 0 else {
            throw AnalemmaError(.invalidState, "batch \(batch.ticket.job): \(answers.count) answers for \(batch.items) items")
        }
        let target = try SkillInput(nodeID: item.id, config: item.config ?? [:], fields: [:], writes: item.writes ?? []).target()
        let prefix = try StatePointer(S3Location(bucket: chunkService.bucket, key: batch.prefix), ownerID: k.ownerID)
        let maps = MapExecutor(executor: executor, chunks: chunkService.tracing(k.traceID))
        var total: ModelResponse?
        var chunks: [MapExecutor.ChunkResult] = []
        for c in 0..<batch.chunks {
            let first = c * batch.chunkSize
            var results: [Data] = []
            var failed: [(index: Int, error: String)] = []
            for i in first..<min(batch.items, first + batch.chunkSize) {
                do {
                    let r = try answers[i].get()
                    total = total.map { NodeExecutor.sum($0, r) } ?? r
                    let answer = try NodeExecutor.answer(r, schema: item.config?["response_schema"], node: item)
                    results.append(try MapExecutor.result([target: answer.jsonData()], outputs: spec.workflow.outputs ?? [target]))
                } catch {
                    results.append(Data("null".utf8))
                    failed.append((i, (error as? AnalemmaError)?.message ?? "\(error)"))
                }
            }
            chunks.append(try await maps.writeChunk(c, firstIndex: first, results: results, failed: failed, prefix: prefix))
        }
        total?.calls = answers.count { (try? $0.get()) != nil }
        total?.batchJob = batch.ticket.job
        total?.latencyMillis = nil
        let reader = S3Location(bucket: batch.bucket, key: batch.key)
        let ranges = try await chunkService.ranges(of: chunks.filter { !$0.failed.isEmpty }.map(\.index), itemReader: reader)
        let mapped = try await maps.finish(
            node, spec: spec, chunks, items: batch.items, chunks: batch.chunks, chunkSize: batch.chunkSize, prefix: prefix,
            itemReader: reader, ranges: ranges, mode: .batch)
        return (mapped, total)
    }
}
