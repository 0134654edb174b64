import Analemma
import Foundation

/// Counts requests by kind (S3 PUT, S3 other, DynamoDB action) and bytes (sent to S3 in PUTs, sent to DynamoDB,
/// received from S3 GETs and DynamoDB) on the way to the real transport, through the library's billing meter.
final class CountingTransport: HTTPTransport, @unchecked Sendable {
    struct Tally {
        var counts: [String: Int] = [:]
        var putBytes = 0
        var dynamoSent = 0
        var s3Received = 0
        var dynamoReceived = 0
        var writtenBytes: Int { putBytes + dynamoSent }
        var s3Puts: Int { counts["s3:PUT", default: 0] }
    }
    /// What AWS would bill for the same requests (the meter the segment runner sends through).
    let meter = MeteredTransport(SocketTransport())
    private let lock = NSLock()
    private var tally = Tally()

    func send(_ request: HTTPRequest, timeout: Duration) async throws -> HTTPResponse {
        let target = request.header("X-Amz-Target")
        let kind = target.map { "dynamodb:" + ($0.split(separator: ".").last.map(String.init) ?? "") } ?? "s3:\(request.method)"
        let response = try await meter.send(request, timeout: timeout)
        lock.withLock {
            tally.counts[kind, default: 0] += 1
            if target != nil {
                tally.dynamoSent += request.body.count
                tally.dynamoReceived += response.body.count
            } else if request.method == "PUT" {
                tally.putBytes += request.body.count
            } else if request.method == "GET" {
                tally.s3Received += response.body.count
            }
        }
        return response
    }

    func take() -> Tally {
        lock.withLock {
            defer { tally = Tally() }
            return tally
        }
    }
}

/// A client of the local stack at `endpoint` whose every request is counted.
func countingClient(_ endpoint: String) throws -> (CountingTransport, AWSClient) {
    let counting = CountingTransport()
    let env = FunctionEnvironment([
        "AWS_ENDPOINT_URL": endpoint, "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "AWS_REGION": "us-east-1",
    ])
    let client = AWSClient(
        credentials: try AWSCredentials(environment: env), region: "us-east-1", environment: env, transport: counting)
    return (counting, client)
}

/// The state workload committed through the real protocol on the local stack, with the two baselines.
func stateCommitBenchmark(
    endpoint: String, bucket: String, manifestTable: String, refsTable: String, eventQueue: String?
) async throws {
    let (counting, client) = try countingClient(endpoint)
    let s3 = try S3(client: client)
    let events = CheckpointEvents(
        log: EventLog(s3: s3, bucket: bucket),
        publisher: try eventQueue.map { SQSEventPublisher(sqs: try SQS(client: client), queueURL: $0) })
    var bill = CheckpointBill()
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
    var dynamoBytes: [Int] = []
    func ms(_ d: Duration) -> Double { Double(d.components.seconds) * 1000 + Double(d.components.attoseconds) / 1e15 }
    for segment in 0..<20 {
        let before = state
        let changes = segment > 0 ? w.changes(segment: segment) : [:]
        try state.merge(changes, from: .node("segment-\(segment)"))
        _ = counting.take()
        let meterBefore = counting.meter.total
        let start = clock.now
        // The path `run` takes: a delta over the head (the first checkpoint writes the whole state).
        let m =
            if let previous {
                try await writer.commit(delta: changes, previous: previous, expected: head, segmentIndex: segment)
            } else {
                try await writer.commit(
                    state, previous: nil, expected: head, executionID: execution, ownerID: "owner-bench", segmentIndex: segment)
            }
        let elapsed = clock.now - start
        let committed = counting.meter.total - meterBefore
        head = ManifestStore.Head(manifestID: m.manifestID, version: head.version + 1)
        previous = m
        let tally = counting.take()
        // Baselines, same process, same stack: the whole state as one object; one object per changed field.
        let wholeBefore = counting.meter.total
        let wholeStart = clock.now
        try await s3.putObject(
            bucket: bucket, key: "baseline/\(execution)/whole/\(segment)",
            body: Data(try Gzip.compress(Array(state.jsonObject()), level: 6)))
        let wholeElapsed = clock.now - wholeStart
        let wholeUsage = counting.meter.total - wholeBefore
        let eventsBefore = counting.meter.total
        try await events.record(segment: segment, execution: execution, manifestID: m.manifestID, changed: changes.keys.sorted())
        let eventUsage = counting.meter.total - eventsBefore
        let fieldStart = clock.now
        for name in state.delta(from: before).changed.sorted() where segment > 0 {
            try await s3.putObject(
                bucket: bucket, key: "baseline/\(execution)/field/\(name)/\(segment)",
                body: Data(try Gzip.compress(Array(state[name]!), level: 6)))
        }
        let fieldElapsed = clock.now - fieldStart
        _ = counting.take()
        guard segment > 0 else { continue }
        bill.add(delta: committed, wholeObject: wholeUsage, eventLog: eventUsage)
        ours.append(ms(elapsed))
        whole.append(ms(wholeElapsed))
        perField.append(ms(fieldElapsed))
        s3Puts.append(tally.s3Puts)
        dynamoCalls.append(tally.counts.filter { $0.key.hasPrefix("dynamodb:") }.values.reduce(0, +))
        putBytes.append(tally.putBytes)
        dynamoBytes.append(tally.dynamoSent)
    }
    func median(_ xs: [Double]) -> Double { xs.sorted()[xs.count / 2] }
    func avg(_ xs: [Int]) -> Double { Double(xs.reduce(0, +)) / Double(xs.count) }
    emit("state.commit.local_stack", "s3_puts_per_checkpoint", avg(s3Puts), "count")
    emit("state.commit.local_stack", "dynamodb_calls_per_checkpoint", avg(dynamoCalls), "count")
    emit("state.commit.local_stack", "s3_bytes_put_per_checkpoint", avg(putBytes), "B")
    emit("state.commit.local_stack", "dynamodb_bytes_sent_per_checkpoint", avg(dynamoBytes), "B")
    emit("state.commit.local_stack", "bytes_written_per_checkpoint", avg(putBytes) + avg(dynamoBytes), "B")
    emit("state.commit.local_stack", "latency_median", median(ours), "ms")
    emit("state.commit.local_stack.whole_object", "latency_median", median(whole), "ms")
    emit("state.commit.local_stack.object_per_field", "latency_median", median(perField), "ms")
    bill.report(segments: 20)
}
