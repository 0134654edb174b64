#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// `map` nodes: inline in their segment, or handed to a Distributed Map (`fan_out`), whose children run `map_chunk`
/// and whose end `map_done` records.
extension SegmentRunnerService {
    /// Runs a map node in `run`: inline up to `inline_max_chunks`, else on a Distributed Map; a batch map's items go
    /// to one batch job. Nil when the map left the segment (the cursor then fans out or waits for the job).
    func runMap(
        _ node: WorkflowDefinition.Node, fields: [String: Data], cursor: inout Cursor, k: KernelPayload
    ) async throws -> NodeOutcome? {
        let spec = try MapSpec(node: node, executor: executor)
        let batches = try spec.batch ? batchModel(node) : nil
        var maps = MapExecutor(executor: executor, chunks: chunkService.tracing(k.traceID))
        maps.owner = k.ownerID
        let prepared = try await maps.prepare(
            node, spec: spec, items: fields[spec.items], ownerID: k.ownerID, executionID: k.executionID, step: cursor.step)
        let distributed = prepared.chunks.count > spec.inlineMaxChunks
        emit(
            .mapStarted, k,
            [
                "node": node.id, "items": String(prepared.items), "chunks": String(prepared.chunks.count),
                "mode": batches != nil ? "batch" : distributed ? "distributed" : "inline",
            ])
        if let batches {
            cursor.batch = try await submitBatch(node, spec: spec, prepared, to: batches, k)
            cursor.status = .waitBatch
            return nil
        }
        if distributed {
            cursor.fanout = Cursor.FanOut(
                node: node.id, bucket: chunkService.bucket, key: prepared.itemReader.key, prefix: prepared.prefix.key,
                items: prepared.items,
                chunks: prepared.chunks.count, chunkSize: prepared.chunkSize, maxConcurrency: spec.maxConcurrency,
                toleratedFailurePercentage: spec.toleratedFailurePercentage,
                toleratedFailureCount: spec.toleratedFailureCount ?? prepared.chunks.count, step: cursor.step)
            cursor.status = .fanOut
            return nil
        }
        let mapped = try await maps.runInline(node, spec: spec, prepared)
        if mapped.completedWithRisk { cursor.risks = (cursor.risks ?? []).filter { $0 != node.id } + [node.id] }
        emit(.mapFinished, k, try mapped.stats.summary(node: node.id))
        return NodeOutcome(updates: [spec.target: try mapped.stats.jsonData()], attempts: 1)
    }

    /// `map_chunk`: one Distributed Map child. Runs its chunk's items, writes the chunk's result file under the
    /// owner's prefix and returns only a pointer; any failed item fails the child (`Analemma.ChunkFailed`, listing
    /// them) so the Map counts the chunk against its tolerance.
    func mapChunk(_ item: MapChunkItem) async throws -> Data {
        let owner = item.identity.ownerID
        let fanout = try await mapInFlight(item)
        let chunkPointer = try StatePointer(parsing: item.chunk.chunk, stateBucket: chunkService.bucket, ownerID: owner)
        let prefix = try StatePointer(S3Location(bucket: chunkService.bucket, key: fanout.prefix), ownerID: owner)
        let range = try chunkRange(item.chunk, pointer: chunkPointer, prefix: prefix, fanout: fanout)
        let definition = try await workflows.get(item.workflow, ownerID: owner)
        guard let node = definition.nodes.first(where: { $0.id == fanout.node && executor.kinds.place(of: $0) == .map }) else {
            throw AnalemmaError(.invalidEvent, "map_chunk: workflow has no map node \(fanout.node.debugDescription)")
        }
        let spec = try MapSpec(node: node, executor: executor)
        let items: [Data]
        let first: Int
        if let range {  // one ranged GET of the items object, checked to be this chunk's frame
            let bytes = try await chunkService.s3.getObject(bucket: chunkService.bucket, key: chunkPointer.key, range: range.bytes).body
            let frame = try ChunkFrame.parse(bytes, index: item.chunk.index, items: fanout.items, chunkSize: fanout.chunkSize)
            (items, first) = (frame.items, frame.first)
        } else {  // a map written before the items object: the chunk's own object
            let body = try await chunkService.s3.getObject(bucket: chunkService.bucket, key: chunkPointer.key).body
            items = try JSONScanner.elements(of: body).map { body.subdata(in: $0) }
            let (product, overflow) = item.chunk.index.multipliedReportingOverflow(by: fanout.chunkSize)
            guard !overflow else {
                throw AnalemmaError(.invalidState, "map_chunk: chunk \(item.chunk.index) × \(fanout.chunkSize) items overflows")
            }
            first = product
        }
        var maps = MapExecutor(executor: executor, chunks: chunkService.tracing(item.identity.traceID))
        maps.owner = item.identity.ownerID
        let result = try await maps.runChunk(item.chunk.index, items: items, firstIndex: first, spec: spec, prefix: prefix)
        let name = DistributedChunkService.chunkName(item.chunk.index)
        events.emit(
            KernelEvent(
                .mapChunk, executionID: item.identity.executionID, traceID: item.identity.traceID, ownerID: item.identity.ownerID,
                ["node": node.id, "chunk": name, "items": String(items.count), "failed": String(result.failed.count)]))
        guard result.failed.isEmpty else {
            let listed = result.failed.prefix(20).map { "item \($0.index): \($0.error)" }.joined(separator: "; ")
            throw AnalemmaError(
                .chunkFailed, "\(name): \(result.failed.count) of \(items.count) items failed: \(listed) (results: \(result.pointer))")
        }
        return JSONValue.object([
            "chunk": .string(name), "items": .number(Double(items.count)), "result": .string(result.pointer.description),
        ]).jsonData()
    }

    /// The byte range of the chunk an ItemReader entry names, checked against the map in flight: the items object
    /// under the map's prefix and a range no larger than a frame can be (nil: a map from before the items object, whose
    /// entry names the chunk's own object). Anything else is `Analemma.ForgedPointer`.
    func chunkRange(_ chunk: MapChunkItem.Chunk, pointer: StatePointer, prefix: StatePointer, fanout: Cursor.FanOut) throws -> ChunkRange? {
        let refused = AnalemmaError(
            .forgedPointer,
            "chunk \(chunk.chunk.prefix(300).debugDescription) (index \(chunk.index)) is not one of this map's \(fanout.chunks) chunks")
        guard (0..<fanout.chunks).contains(chunk.index) else { throw refused }
        guard let offset = chunk.offset, let length = chunk.length else {
            guard pointer.key == prefix.key + "/" + DistributedChunkService.chunkName(chunk.index) else { throw refused }
            return nil
        }
        guard pointer.key == prefix.key + "/" + DistributedChunkService.itemsObject, offset >= 0, offset <= 1 << 40,
            (1...DistributedChunkService.maxFrameBytes).contains(length)
        else { throw refused }
        return ChunkRange(offset: offset, length: length)
    }

    /// The map a `map_chunk` item claims, as the execution's stored state holds it: the head must belong to the
    /// item's owner, have this very map in flight (same fan-out, same workflow) and carry the item's trace id. Anything
    /// else is a forged or stale item and changes nothing.
    func mapInFlight(_ item: MapChunkItem) async throws -> Cursor.FanOut {
        let id = item.identity
        let refused = AnalemmaError(
            .forgedPointer,
            "map_chunk: execution \(id.executionID.debugDescription) of owner \(id.ownerID.debugDescription) has no such map in flight")
        let head = try await checkpoints.manifests.head(executionID: id.executionID)
        guard let manifestID = head.manifestID, let manifest = try await manifest(id.executionID, manifestID),
            manifest.ownerID == id.ownerID
        else { throw refused }
        let identity = KernelPayload(
            executionID: id.executionID, ownerID: id.ownerID, traceID: id.traceID, manifestID: manifestID, version: head.version,
            cursor: Cursor(status: .fanOut, workflowID: "", workflow: item.workflow, step: 0, traversals: [:]))
        let stored = try await payload(at: manifest, head: head, identity: identity)
        guard stored.cursor.status == .fanOut, let fanout = stored.cursor.fanout, fanout == item.map,
            stored.cursor.workflow == item.workflow,
            stored.traceID == id.traceID
        else { throw refused }
        return fanout
    }

    /// `map_done`: the light aggregator's statistics (and the failed chunks' causes) into the node's write; routes on.
    func mapDone(_ k: KernelPayload, stats aggregate: MapAggregate) async throws -> KernelPayload {
        guard let fanout = k.cursor.fanout else { throw AnalemmaError(.invalidEvent, "map_done: the cursor has no fan-out") }
        let turn = try await turn(k, .named)
        if let replay = turn.replay { return replay }
        let plan = try await turn.plan()
        let node = try plan.node(fanout.node)
        let spec = try MapSpec(node: node, executor: executor)
        let run = try await verifiedMapRun(aggregate, k)
        let failures = try await failedChunks(aggregate, run: run, fanout: fanout)
        let stats = try await distributedStats(fanout, run: run, failures: failures, traceID: k.traceID)
        var (cursor, routing) = try await turn.read(plan.router.conditionFields(of: node.id).filter { $0 != spec.target })
        if stats.failedChunks > 0 { cursor.risks = (cursor.risks ?? []).filter { $0 != node.id } + [node.id] }
        try routing.merge([spec.target: try stats.jsonData()], from: .node(node.id))
        let exit = try plan.router.next(after: node.id, fields: routing.fields, traversals: &cursor.traversals)
        cursor.fanout = nil
        cursor = try Self.cursor(entering: exit, plan: plan, from: cursor)
        cursor.step += 1
        cursor.usage = (cursor.usage ?? Usage()) + Self.childUsage(chunks: run.counts)
        emit(
            .mapAggregated, k,
            [
                "map_run_arn": run.arn, "succeeded": String(run.counts.succeeded), "failed": String(run.counts.failed),
                "timed_out": String(run.counts.timedOut), "aborted": String(run.counts.aborted), "total": String(run.counts.total),
            ])
        emit(.mapFinished, k, try stats.summary(node: node.id))
        return try await turn.commit([spec.target: try stats.jsonData()], cursor: cursor)
    }

    /// What a Distributed Map's children cost beyond the parent's own steps, as DescribeMapRun counts them (never the
    /// aggregator's word): each child execution one RunChunk invocation and its state transition, and the Aggregate
    /// invocation. Their S3 and DynamoDB requests, their Lambda time and retries are not counted (the report errs low).
    package static func childUsage(chunks counts: StepFunctions.MapRun.Counts) -> Usage {
        let started = max(0, min(counts.total, Usage.maxCount))
        var usage = Usage()
        usage.lambdaRequests = min(Usage.maxCount, started + 1)
        usage.transitions = started
        return usage
    }

    /// A finished Distributed Map's statistics, after writing its results index (every chunk's result file, in
    /// item order) next to its chunks.
    func distributedStats(
        _ fanout: Cursor.FanOut, run: (arn: String, id: String, resultPrefix: String, counts: StepFunctions.MapRun.Counts),
        failures: (chunks: [Int], count: Int, listed: [MapStats.FailedItem]), traceID: String
    ) async throws -> MapStats {
        let base = S3Location(bucket: chunkService.bucket, key: fanout.prefix)
        let results = base.appending("results")
        let index = results.appending("index.json")
        let files = JSONValue.array(
            (0..<fanout.chunks).map { .string(results.appending(DistributedChunkService.chunkName($0)).description) })
        try await chunkService.tracing(traceID).s3.putObject(
            bucket: index.bucket, key: index.key, body: files.jsonData(), contentType: "application/json", tags: [("trace_id", traceID)])
        let failed = run.counts.failed + run.counts.timedOut
        let reader = S3Location(bucket: fanout.bucket, key: fanout.key)
        let ranges = try await chunkService.ranges(of: failures.chunks, itemReader: reader)
        return MapStats(
            status: failed == 0 ? .completed : .completedWithRisk, mode: .distributed, items: fanout.items, chunks: fanout.chunks,
            chunkSize: fanout.chunkSize, succeededChunks: run.counts.succeeded, failedChunks: failed, failedItemsCount: failures.count,
            failedItems: failures.listed, toleratedFailurePercentage: fanout.toleratedFailurePercentage,
            toleratedFailureCount: fanout.toleratedFailureCount ?? fanout.chunks,
            failedChunkPointers: failures.chunks.map { chunkService.pointer(chunk: $0, range: ranges[$0], prefix: base) },
            itemReader: reader.description, resultsIndex: index.description,
            mapRunArn: run.arn, manifest: S3Location(bucket: chunkService.bucket, key: run.resultPrefix + "manifest.json").description)
    }

    /// The failed chunks of a map run and their failed items. Which chunks failed comes from the run's FAILED
    /// ResultWriter files (only under its own `map-runs/<id>/`, up to 1 MB of them); each failed chunk's own result
    /// file (under the map's prefix in stored state) names its failed items; a chunk whose child died before writing
    /// one counts all its items, with the child's error. Up to 1,000 failed chunks are read.
    func failedChunks(
        _ aggregate: MapAggregate, run: (arn: String, id: String, resultPrefix: String, counts: StepFunctions.MapRun.Counts),
        fanout: Cursor.FanOut
    ) async throws -> (chunks: [Int], count: Int, listed: [MapStats.FailedItem]) {
        var causes: [Int: String] = [:]
        let files = aggregate.resultFiles?["FAILED"] ?? []
        for f in files where !f.key.hasPrefix(run.resultPrefix) || f.key.contains("..") {
            throw AnalemmaError(.forgedPointer, "map_done: a FAILED result file is not one of map run \(run.id)'s (\(f.key.prefix(200)))")
        }
        let total = files.reduce(0) { $0 + min($1.size ?? 0, MapAggregate.ResultFile.largest) }
        for file in total <= 1_048_576 ? files : [] {
            let body = try await chunkService.s3.getObject(bucket: chunkService.bucket, key: file.key).body
            guard let records = try? JSONDecoder().decode([ResultWriterRecord].self, from: body) else { continue }
            for r in records {
                let cause = r.Cause.map { Self.message(fromCause: $0) ?? $0 } ?? ""
                if let i = r.chunkIndex(chunks: fanout.chunks) { causes[i] = String(cause.prefix(600)) }
            }
        }
        var count = 0
        var listed: [MapStats.FailedItem] = []
        let chunks = causes.keys.sorted()
        for c in chunks.prefix(1000) {
            let name = DistributedChunkService.chunkName(c)
            let key = fanout.prefix + "/results/" + name
            let body = try? await chunkService.s3.getObject(bucket: chunkService.bucket, key: key).body
            if let body, let failed = JSONScanner.object(body)?["failed"], case .array(let items) = try JSONValue(json: failed) {
                for item in items {
                    count += 1
                    guard listed.count < MapStats.listedFailures else { continue }
                    var index: Int?
                    if case .number(let n)? = try item.value(at: "index") { index = Bounded.integer(n, in: 0...max(0, fanout.items - 1)) }
                    var error = ""
                    if case .string(let e)? = try item.value(at: "error") { error = String(e.prefix(300)) }
                    listed.append(MapStats.FailedItem(chunk: name, index: index, error: error))
                }
            } else {  // the child died before writing its result file: every item of the chunk failed
                count += max(0, min(fanout.chunkSize, fanout.items - c * fanout.chunkSize))
                if listed.count < MapStats.listedFailures {
                    listed.append(MapStats.FailedItem(chunk: name, index: nil, error: causes[c] ?? ""))
                }
            }
        }
        return (chunks, count, listed)
    }

    /// The map run the statistics name, as Step Functions reports it: it must belong to `k`'s execution; its counts
    /// and its ResultWriter prefix (`map-runs/<map run id>/` in the state bucket) are what `map_done` trusts.
    func verifiedMapRun(_ aggregate: MapAggregate, _ k: KernelPayload) async throws -> (
        arn: String, id: String, resultPrefix: String, counts: StepFunctions.MapRun.Counts
    ) {
        guard let arn = aggregate.mapRunArn, let id = arn.split(separator: ":").last.map(String.init),
            !id.isEmpty, !id.contains("/")
        else { throw AnalemmaError(.invalidEvent, "map_done: the statistics name no map run (map_run_arn)") }
        let run: StepFunctions.MapRun
        do { run = try await mapRuns.describeMapRun(arn) } catch let e as AWSError where !e.isThrottling && !e.isServerError {
            throw AnalemmaError(.forgedPointer, "map_done: map run \(arn.debugDescription) cannot be read (\(e.code))")
        }
        guard run.executionArn == k.executionID else {
            throw AnalemmaError(.forgedPointer, "map_done: map run \(arn.debugDescription) belongs to another execution")
        }
        return (arn, id, "\(S3ExecutionArtifacts.resultWriterPrefix)/\(id)/", run.itemCounts)
    }
}

/// One record of a ResultWriter `FAILED_*.json` file: the child's input (a JSON string) and its error's cause.
/// https://docs.aws.amazon.com/step-functions/latest/dg/input-output-resultwriter.html
struct ResultWriterRecord: Decodable {
    var Input: String?
    var Cause: String?

    /// The chunk the child ran: its input is the selected item (`chunk.index`) or the raw ItemReader entry (`index`).
    func chunkIndex(chunks: Int) -> Int? {
        guard let Input, let input = try? JSONValue(json: Data(Input.utf8)) else { return nil }
        for path in ["chunk.index", "index"] {
            if case .number(let n)? = try? input.value(at: path), let i = Bounded.integer(n, in: 0...max(0, chunks - 1)) { return i }
        }
        return nil
    }
}
