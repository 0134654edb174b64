import Analemma
import Foundation

/// Checkpoints of states from 10 to 100,000 fields on the local stack, 3 random fields changed per checkpoint (the
/// worst case for pages: no two changes share a path), through the delta path `run` uses. Every byte sent to S3
/// and DynamoDB is counted, compactions included, against the issue's bound (1.2 × gzip(changed fields) + 4 KB);
/// beside them the naive whole-object baseline (the state gzipped and PUT whole) and the flat record's size (the
/// format before pages: one DynamoDB item, refused past 400 KB).
func manifestScaleBenchmark(endpoint: String, bucket: String, manifestTable: String, refsTable: String) async throws {
    let counting = CountingTransport()
    let env = FunctionEnvironment([
        "AWS_ENDPOINT_URL": endpoint, "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "AWS_REGION": "us-east-1",
    ])
    let client = AWSClient(credentials: try AWSCredentials(environment: env), region: "us-east-1", environment: env, transport: counting)
    let s3 = try S3(client: client)
    let db = try DynamoDB(client: client)
    let blocks = S3BlockStore(s3: s3, bucket: bucket)
    let writer = CheckpointWriter(
        blocks: blocks, manifests: ManifestStore(db: db, table: manifestTable), references: BlockReferences(db: db, table: refsTable),
        gcQueue: InMemoryGCQueue())
    let checkpoints = Int(ProcessInfo.processInfo.environment["BENCH_MANIFEST_CHECKPOINTS"] ?? "") ?? 1000
    var rng = SystemRandomNumberGenerator()
    func value(_ i: Int, _ version: Int) -> Data {
        Data(#""field \#(i) version \#(version): \#(UInt64.random(in: 0...UInt64.max, using: &rng))""#.utf8)
    }
    func ms(_ d: Duration) -> Double { Double(d.components.seconds) * 1000 + Double(d.components.attoseconds) / 1e15 }
    let clock = ContinuousClock()
    for fields in [10, 1_000, 10_000, 100_000] {
        let bench = "state.manifest.\(fields)_fields"
        let execution = "scale-\(fields)-\(UUID().uuidString.prefix(8))"
        var state = try StateBag(executionID: execution, ownerID: "owner-scale", traceID: "Root=1-scale")
        try state.merge(Dictionary(uniqueKeysWithValues: (0..<fields).map { ("f\($0)", value($0, 0)) }), from: .node("setup"))
        _ = counting.take()
        let firstStart = clock.now
        var manifest = try await writer.commit(
            state, previous: nil, expected: .empty, executionID: execution, ownerID: "owner-scale", segmentIndex: 0)
        emit(bench, "first_commit_latency", ms(clock.now - firstStart), "ms")
        emit(bench, "first_commit_bytes_written", Double(counting.take().writtenBytes), "B")
        var head = ManifestStore.Head(manifestID: manifest.manifestID, version: 1)
        var written = 0
        var puts = 0
        var bound = 0.0
        var latencies: [Double] = []
        for step in 1...checkpoints {
            var changes: [String: Data] = [:]
            while changes.count < min(3, fields) {
                let i = Int.random(in: 0..<fields, using: &rng)
                changes["f\(i)"] = value(i, step)
            }
            bound += 1.2 * Double(changes.values.map { gzip6($0) }.reduce(0, +)) + 4096
            let start = clock.now
            manifest = try await writer.commit(delta: changes, previous: manifest, expected: head, segmentIndex: step)
            latencies.append(ms(clock.now - start))
            head = ManifestStore.Head(manifestID: manifest.manifestID, version: head.version + 1)
            try state.merge(changes, from: .node("step"))
            let tally = counting.take()
            written += tally.writtenBytes
            puts += tally.s3Puts
        }
        latencies.sort()
        emit(bench, "bytes_written_per_checkpoint", Double(written) / Double(checkpoints), "B")
        emit(bench, "bound_per_checkpoint", bound / Double(checkpoints), "B")
        emit(bench, "s3_puts_per_checkpoint", Double(puts) / Double(checkpoints), "count")
        emit(bench, "latency_median", latencies[latencies.count / 2], "ms")
        // Hydrating one field from a cold container: the record (from DynamoDB), the pages on its path, the field.
        let name = "f\(fields / 2)"
        let stored = try await writer.pages.refs(manifest, [name])[name]?.length ?? 0
        _ = counting.take()
        _ = try await StateHydrator(store: blocks).hydrate(manifest, fields: [name])
        let read = counting.take()
        emit(bench, "hydrate_one_field_manifest_bytes_read", Double(read.s3Received - stored + manifest.canonicalBytes().count), "B")
        emit(bench, "hydrate_one_field_gets", Double(read.counts["s3:GET", default: 0]), "count")
        // Baselines, same run: the whole state as one gzipped object; the flat record the old format wrote.
        let whole = Data(try Gzip.compress(Array(state.jsonObject()), level: 6))
        let wholeStart = clock.now
        try await s3.putObject(bucket: bucket, key: "baseline/\(execution)/whole", body: whole)
        emit("\(bench).whole_object", "latency", ms(clock.now - wholeStart), "ms")
        emit("\(bench).whole_object", "bytes_written_per_checkpoint", Double(whole.count), "B")
        let table = try await writer.pages.all(manifest)
        let flat = Manifest(parentManifestID: nil, executionID: execution, ownerID: "owner-scale", segmentIndex: 0, fields: table)
        emit("\(bench).flat_record", "bytes_written_per_checkpoint", Double(flat.canonicalBytes().count), "B")
        _ = counting.take()
    }
}
