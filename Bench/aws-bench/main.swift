import Analemma
import Foundation

// Benchmark harness (not shipped): SigV4 signing cost, and S3 PUT+GET round trips through our client.
// Usage: aws-bench sign ITERATIONS | aws-bench s3 ENDPOINT BUCKET SIZE ITERATIONS
let args = CommandLine.arguments
func emit(_ bench: String, _ metric: String, _ value: Double, _ unit: String) {
    print(#"{"bench":"\#(bench)","metric":"\#(metric)","value":\#((value * 1000).rounded() / 1000),"unit":"\#(unit)"}"#)
}
let clock = ContinuousClock()
switch args.dropFirst().first {
case "sign":
    let n = Int(args[2]) ?? 20000
    let credentials = AWSCredentials(
        accessKeyID: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", sessionToken: "token")
    let request = HTTPRequest(
        method: "POST", host: "dynamodb.us-east-1.amazonaws.com",
        headers: [("Content-Type", "application/x-amz-json-1.0"), ("X-Amz-Target", "DynamoDB_20120810.GetItem")],
        body: Data(#"{"TableName":"t","Key":{"pk":{"S":"a"}}}"#.utf8))
    var sink = 0
    let elapsed = clock.measure {
        for i in 0..<n {
            sink &+=
                SigV4.sign(request, credentials: credentials, region: "us-east-1", service: "dynamodb", unixTime: 1_700_000_000 + Int64(i))
                .headers.count
        }
    }
    emit(
        "sigv4", "sign_request",
        Double(elapsed.components.attoseconds / 1_000_000_000 + elapsed.components.seconds * 1_000_000_000) / Double(n) / 1000, "us")
    if sink == 0 { print("impossible") }
case "s3":
    let (endpoint, bucket, size, n) = (args[2], args[3], Int(args[4])!, Int(args[5])!)
    let env = FunctionEnvironment([
        "AWS_ENDPOINT_URL": endpoint, "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "AWS_REGION": "us-east-1",
    ])
    let s3 = try S3(client: AWSClient(environment: env))
    let body = Data((0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31) })
    var samples: [Double] = []
    for i in 0..<(n + 3) {
        let start = clock.now
        try await s3.putObject(bucket: bucket, key: "bench/swift/\(size)/\(i)", body: body)
        let back = try await s3.getObject(bucket: bucket, key: "bench/swift/\(size)/\(i)")
        precondition(back.body.count == size)
        let d = clock.now - start
        if i >= 3 { samples.append(Double(d.components.seconds) * 1000 + Double(d.components.attoseconds) / 1e15) }
    }
    samples.sort()
    emit("s3_put_get.\(size)B.swift", "round_trip_median", samples[samples.count / 2], "ms")
case "state":
    try await stateBenchmark()
case "state-commit":
    try await stateCommitBenchmark(
        endpoint: args[2], bucket: args[3], manifestTable: args[4], refsTable: args[5], eventQueue: args.count > 6 ? args[6] : nil)
    try await manifestScaleBenchmark(endpoint: args[2], bucket: args[3], manifestTable: args[4], refsTable: args[5])
    try await fanOutBenchmark(endpoint: args[2], bucket: args[3])
case "fan-out":
    try await fanOutBenchmark(endpoint: args[2], bucket: args[3])
case "aggregate":
    try await aggregatorBenchmark(
        items: Int(args[2]) ?? 1, endpoint: args.count > 3 ? args[3] : nil, bucket: args.count > 4 ? args[4] : "state",
        manifestKey: args.count > 5 ? args[5] : "map-runs/run/manifest.json")
default:
    print(
        "usage: aws-bench sign N | aws-bench s3 ENDPOINT BUCKET SIZE N | aws-bench state | aws-bench aggregate ITEMS [ENDPOINT BUCKET MANIFEST_KEY]"
    )
    exit(2)
}
