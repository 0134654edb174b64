import Analemma
import Foundation

/// Counts requests by kind (S3 PUT, S3 other, DynamoDB) on the way to the real transport.
final class CountingTransport: HTTPTransport, @unchecked Sendable {
    let inner = SocketTransport()
    private let lock = NSLock()
    private var counts: [String: Int] = [:]
    private var bytes = 0

    func send(_ request: HTTPRequest, timeout: Duration) async throws -> HTTPResponse {
        let kind =
            request.header("X-Amz-Target").map { "dynamodb:" + ($0.split(separator: ".").last.map(String.init) ?? "") }
            ?? "s3:\(request.method)"
        lock.withLock {
            counts[kind, default: 0] += 1
            if request.method == "PUT" { bytes += request.body.count }
        }
        return try await inner.send(request, timeout: timeout)
    }

    func take() -> (counts: [String: Int], putBytes: Int) {
        lock.withLock {
            defer { (counts, bytes) = ([:], 0) }
            return (counts, bytes)
        }
    }
}

/// The state workload committed through the real protocol on the local stack, with the two baselines.
func stateCommitBenchmark(endpoint: String, bucket: String, manifestTable: String, refsTable: String) async throws {
    let counting = CountingTransport()
    let env = FunctionEnvironment([
        "AWS_ENDPOINT_URL": endpoint, "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "AWS_REGION": "us-east-1",
    ])
    let client = AWSClient(
        credentials: try AWSCredentials(environment: env), region: "us-east-1", environment: env, transport: counting)
    let s3 = try S3(client: client)
    let db = try DynamoDB(client: client)
    let writer = CheckpointWriter(
        blocks: S3BlockStore(s3: s3, bucket: bucket), manifests: ManifestStore(db: db, table: manifestTable),
        references: BlockReferences(db: db, table: refsTable), gcQueue: InMemoryGCQueue())
    var w = StateWorkload()
    let execution = "bench-\(UUID().uuidString.prefix(8))"
    var state = try StateBag(executionID: execution, ownerID: "owner-bench", traceID: "Root=1-bench")
    try state.merge(w.initial(), from: .node("setup"))
    var previous: Manifest?
    var head = ManifestStore.Head.empty
    let clock = ContinuousClock()
    var ours: [Double] = []
    var whole: [Double] = []
    var perField: [Double] = []
    var s3Puts: [Int] = []
    var dynamoCalls: [Int] = []
    var putBytes: [Int] = []
    func ms(_ d: Duration) -> Double { Double(d.components.seconds) * 1000 + Double(d.components.attoseconds) / 1e15 }
    for segment in 0..<20 {
        let before = state
        if segment > 0 { try state.merge(w.changes(segment: segment), from: .node("segment-\(segment)")) }
        _ = counting.take()
        let start = clock.now
        let m = try await writer.commit(
            state, previous: previous, expected: head, executionID: execution, ownerID: "owner-bench", segmentIndex: segment)
        let elapsed = clock.now - start
        head = ManifestStore.Head(manifestID: m.manifestID, version: head.version + 1)
        previous = m
        let (counts, bytes) = counting.take()
        // Baselines, same process, same stack: the whole state as one object; one object per changed field.
        let wholeStart = clock.now
        try await s3.putObject(
            bucket: bucket, key: "baseline/\(execution)/whole/\(segment)",
            body: Data(try Gzip.compress(Array(state.jsonObject()), level: 6)))
        let wholeElapsed = clock.now - wholeStart
        let fieldStart = clock.now
        for name in state.delta(from: before).changed.sorted() where segment > 0 {
            try await s3.putObject(
                bucket: bucket, key: "baseline/\(execution)/field/\(name)/\(segment)",
                body: Data(try Gzip.compress(Array(state[name]!), level: 6)))
        }
        let fieldElapsed = clock.now - fieldStart
        _ = counting.take()
        guard segment > 0 else { continue }
        ours.append(ms(elapsed))
        whole.append(ms(wholeElapsed))
        perField.append(ms(fieldElapsed))
        s3Puts.append(counts["s3:PUT", default: 0])
        dynamoCalls.append(counts.filter { $0.key.hasPrefix("dynamodb:") }.values.reduce(0, +))
        putBytes.append(bytes)
    }
    func median(_ xs: [Double]) -> Double { xs.sorted()[xs.count / 2] }
    func avg(_ xs: [Int]) -> Double { Double(xs.reduce(0, +)) / Double(xs.count) }
    emit("state.commit.local_stack", "s3_puts_per_checkpoint", avg(s3Puts), "count")
    emit("state.commit.local_stack", "dynamodb_calls_per_checkpoint", avg(dynamoCalls), "count")
    emit("state.commit.local_stack", "bytes_put_per_checkpoint", avg(putBytes), "B")
    emit("state.commit.local_stack", "latency_median", median(ours), "ms")
    emit("state.commit.local_stack.whole_object", "latency_median", median(whole), "ms")
    emit("state.commit.local_stack.object_per_field", "latency_median", median(perField), "ms")
}
