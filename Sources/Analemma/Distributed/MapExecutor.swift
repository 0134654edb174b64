#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// Runs a `map` node: items cut into chunks (kept in S3, with the ItemReader input), each item through the
/// sub-workflow, chunk results written to S3, success/failure/tolerance counted per chunk as in the seed.
/// Within tolerance with failures the map completes "with risk" and lists the failed items for redrive.
package struct MapExecutor: Sendable {
    package let executor: NodeExecutor
    package let chunks: DistributedChunkService
    /// Chunks run at once inside one invocation (the distributed path raises this to the node's max_concurrency).
    package var inlineConcurrency = 8
    /// The owner whose map this is (passed to every item's nodes).
    package var owner: String?

    package init(executor: NodeExecutor, chunks: DistributedChunkService) {
        self.executor = executor
        self.chunks = chunks
    }

    package struct Outcome: Sendable {
        /// The statistics written into the node's target field.
        package var stats: MapStats
        package var completedWithRisk: Bool
    }

    struct ChunkResult: Sendable {
        var index: Int
        var items: Int
        var failed: [(index: Int, error: String)]
        var pointer: S3Location
    }

    /// A map's items cut and stored: what the inline and the distributed path both start from.
    package struct Prepared: Sendable {
        package var chunks: [[Data]]
        package var items: Int
        package var chunkSize: Int
        package var prefix: StatePointer
        /// `…/items.json`, the ItemReader input.
        package var itemReader: S3Location
        /// Each chunk's frame in the items object (`…/chunks.jsonl`).
        package var ranges: [ChunkRange]
    }

    /// Cuts the items into chunks and writes them with the ItemReader input.
    package func prepare(
        _ node: WorkflowDefinition.Node, spec: MapSpec, items raw: Data?, ownerID: String, executionID: String, step: Int
    ) async throws -> Prepared {
        guard let raw else {
            throw AnalemmaError(
                .invalidState, "node \(node.id.debugDescription): items field \(spec.items.debugDescription) is not in state")
        }
        let count = try JSONScanner.elements(of: raw).count
        let size = spec.chunkSize ?? DistributedChunkService.chunkSize(items: count, maxConcurrency: spec.maxConcurrency)
        let cut = try DistributedChunkService.chunks(of: raw, size: size)
        let prefix = try chunks.prefix(ownerID: ownerID, executionID: executionID, node: node.id, step: step)
        let written = try await chunks.write(cut, under: prefix)
        return Prepared(chunks: cut, items: count, chunkSize: size, prefix: prefix, itemReader: written.itemReader, ranges: written.ranges)
    }

    /// Runs a prepared map inside this invocation.
    package func runInline(_ node: WorkflowDefinition.Node, spec: MapSpec, _ prepared: Prepared) async throws -> Outcome {
        let cut = prepared.chunks
        let count = prepared.items
        let size = prepared.chunkSize
        let prefix = prepared.prefix
        let itemsPointer = prepared.itemReader
        var offsets: [Int] = []
        var offset = 0
        for c in cut {
            offsets.append(offset)
            offset += c.count
        }
        var results: [ChunkResult] = []
        let width = min(inlineConcurrency, spec.maxConcurrency)
        try await withThrowingTaskGroup(of: ChunkResult.self) { group in
            for i in cut.indices {
                if i >= width, let done = try await group.next() { results.append(done) }
                let items = cut[i]
                let first = offsets[i]
                group.addTask { try await self.runChunk(i, items: items, firstIndex: first, spec: spec, prefix: prefix) }
            }
            for try await done in group { results.append(done) }
        }
        let ranges = Dictionary(prepared.ranges.enumerated().map { ($0.offset, $0.element) }) { a, _ in a }
        return try await finish(
            node, spec: spec, results, items: count, chunks: cut.count, chunkSize: size, prefix: prefix, itemReader: itemsPointer,
            ranges: ranges, mode: .inline)
    }

    /// A map's statistics from its chunks' results, after writing the results index; over the tolerance it fails
    /// (`Analemma.ToleranceExceeded`). `ranges` are the failed chunks' frames in the items object.
    func finish(
        _ node: WorkflowDefinition.Node, spec: MapSpec, _ results: [ChunkResult], items count: Int, chunks chunkCount: Int,
        chunkSize size: Int, prefix: StatePointer, itemReader itemsPointer: S3Location, ranges: [Int: ChunkRange], mode: MapStats.Mode
    ) async throws -> Outcome {
        let results = results.sorted { $0.index < $1.index }
        let failedChunks = results.filter { !$0.failed.isEmpty }
        let failedItems = failedChunks.flatMap { c in c.failed.map { (c.index, $0.index, $0.error) } }
        let percent = chunkCount == 0 ? 0 : Double(failedChunks.count) * 100 / Double(chunkCount)
        let index = JSONValue.array(results.map { .string($0.pointer.description) }).jsonData()
        let indexKey = prefix.key + "/results/index.json"
        try await chunks.s3.putObject(bucket: chunks.bucket, key: indexKey, body: index, contentType: "application/json", tags: chunks.tags)
        let stats = MapStats(
            status: failedChunks.isEmpty ? .completed : .completedWithRisk, mode: mode, items: count, chunks: chunkCount, chunkSize: size,
            succeededChunks: chunkCount - failedChunks.count, failedChunks: failedChunks.count, failedItemsCount: failedItems.count,
            failedItems: failedItems.prefix(MapStats.listedFailures).map { c, i, e in
                MapStats.FailedItem(chunk: DistributedChunkService.chunkName(c), index: i, error: String(e.prefix(300)))
            },
            toleratedFailurePercentage: spec.toleratedFailurePercentage, toleratedFailureCount: spec.toleratedFailureCount ?? chunkCount,
            failedChunkPointers: failedChunks.map { chunks.pointer(chunk: $0.index, range: ranges[$0.index], prefix: prefix.location) },
            itemReader: itemsPointer.description, resultsIndex: S3Location(bucket: chunks.bucket, key: indexKey).description)
        let overCount = spec.toleratedFailureCount.map { failedChunks.count > $0 } ?? false
        if percent > spec.toleratedFailurePercentage || overCount {  // either threshold, as Step Functions does
            let sample = failedItems.prefix(5).map { "item \($0.1): \($0.2)" }.joined(separator: "; ")
            let tolerated =
                overCount
                ? "\(spec.toleratedFailureCount ?? 0) tolerated failed chunks"
                : "the tolerated \(Self.percent(spec.toleratedFailurePercentage))"
            throw AnalemmaError(
                .toleranceExceeded,
                "node \(node.id.debugDescription): \(failedChunks.count) of \(chunkCount) chunks failed (\(Self.percent(percent))), over "
                    + "\(tolerated); \(failedItems.count) failed items, e.g. \(sample)")
        }
        return Outcome(stats: stats, completedWithRisk: !failedChunks.isEmpty)
    }

    /// One chunk: every item through the sub-workflow; the chunk's result file lists each item's result (null when it
    /// failed) and the failures.
    func runChunk(_ i: Int, items: [Data], firstIndex: Int, spec: MapSpec, prefix: StatePointer) async throws -> ChunkResult {
        var results: [Data] = []
        var failed: [(index: Int, error: String)] = []
        for (j, item) in items.enumerated() {
            do { results.append(try await runItem(item, spec: spec)) } catch {
                results.append(Data("null".utf8))
                failed.append((firstIndex + j, (error as? AnalemmaError)?.message ?? "\(error)"))
            }
        }
        return try await writeChunk(i, firstIndex: firstIndex, results: results, failed: failed, prefix: prefix)
    }

    /// Writes a chunk's result file: each item's result (null when it failed) and the failures.
    func writeChunk(_ i: Int, firstIndex: Int, results: [Data], failed: [(index: Int, error: String)], prefix: StatePointer)
        async throws -> ChunkResult
    {
        var body = Data(#"{"chunk":\#(i + 1),"first_index":\#(firstIndex),"items":\#(results.count),"failed":"#.utf8)
        body.append(
            JSONValue.array(failed.map { .object(["index": .number(Double($0.index)), "error": .string($0.error)]) }).jsonData())
        body.append(contentsOf: #","results":["#.utf8)
        for (k, r) in results.enumerated() {
            if k > 0 { body.append(UInt8(ascii: ",")) }
            body.append(r)
        }
        body.append(contentsOf: "]}".utf8)
        let key = prefix.key + "/results/" + DistributedChunkService.chunkName(i)
        try await chunks.s3.putObject(bucket: chunks.bucket, key: key, body: body, contentType: "application/json", tags: chunks.tags)
        return ChunkResult(index: i, items: results.count, failed: failed, pointer: S3Location(bucket: chunks.bucket, key: key))
    }

    /// One item through the sub-workflow; its result is the sub-workflow's `outputs` (default: every field it wrote).
    func runItem(_ item: Data, spec: MapSpec) async throws -> Data {
        let w = spec.workflow
        let router = WorkflowRouter(w)
        var fields: [String: Data] = [spec.itemField: item]
        var written: [String] = []
        var traversals: [String: Int] = [:]
        var current: String? = w.entry
        var steps = 0
        while let id = current {
            steps += 1
            guard steps <= 1000 else { throw AnalemmaError(.noRoute, "item sub-workflow ran 1000 nodes without ending") }
            let node = w.nodes.first { $0.id == id }!
            let outcome = try await executor.run(node, fields: fields.filter { (node.reads ?? []).contains($0.key) }, owner: owner)
            for (k, v) in outcome.updates {
                fields[k] = v
                if !written.contains(k) { written.append(k) }
            }
            current = try router.next(after: id, fields: fields, traversals: &traversals)
        }
        return try Self.result(fields, outputs: w.outputs ?? written)
    }

    /// An item's result: its sub-workflow's `outputs` of `fields`, as one JSON object.
    static func result(_ fields: [String: Data], outputs: [String]) throws -> Data {
        var out: [String: Data] = [:]
        for name in outputs { if let v = fields[name] { out[name] = v } }
        var bag = StateBag()
        try bag.merge(out, from: .kernel)
        return bag.jsonObject()
    }

    static func percent(_ p: Double) -> String {
        let tenths = (p * 10).rounded() / 10
        return (tenths == tenths.rounded() ? String(Int(tenths)) : String(tenths)) + "%"
    }
}
