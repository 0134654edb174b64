import Analemma
import Foundation
import Glibc

/// Serves a synthetic Distributed Map of `items` items: a ResultWriter manifest listing AWS-sized result files
/// (~350 B per record, files split at 5 GB) and DescribeMapRun counts. Records only what is asked.
struct SyntheticMapRun: HTTPTransport {
    let items: Int
    static let arn = "arn:aws:states:us-east-1:123456789012:mapRun:bench/x:run"

    func send(_ request: AWSRequest, timeout: Duration) async throws -> HTTPResponse {
        if request.method == "GET" {
            let bytes = items * 350
            let files = max(1, (bytes + 4_999_999_999) / 5_000_000_000)
            let list = (0..<files).map {
                #"{"Key":"map-runs/run/SUCCEEDED_\#($0).json","Size":\#(min(5_000_000_000, bytes - $0 * 5_000_000_000))}"#
            }
            let body =
                #"{"DestinationBucket":"state","MapRunArn":"\#(Self.arn)","ResultFiles":{"FAILED":[],"PENDING":[],"SUCCEEDED":[\#(list.joined(separator: ","))]}}"#
            return HTTPResponse(status: 200, body: Data(body.utf8))
        }
        let counts =
            #"{"pending":0,"running":0,"succeeded":\#(items),"failed":0,"timedOut":0,"aborted":0,"total":\#(items),"resultsWritten":\#(items)}"#
        return HTTPResponse(
            status: 200,
            body: Data(#"{"mapRunArn":"\#(Self.arn)","status":"SUCCEEDED","itemCounts":\#(counts),"executionCounts":\#(counts)}"#.utf8))
    }
}

/// The light aggregator over a synthetic map run of `items` items: bytes read and peak RSS of this process.
func aggregatorBenchmark(items: Int) async throws {
    let client = AWSClient(
        credentials: AWSCredentials(accessKeyID: "k", secretAccessKey: "s"), region: "us-east-1",
        environment: FunctionEnvironment(["AWS_ENDPOINT_URL": "http://127.0.0.1:1"]), transport: SyntheticMapRun(items: items))
    let aggregator = LightAggregator(s3: try S3(client: client), stepFunctions: try StepFunctions(client: client), bucket: "state")
    let stats = try await aggregator.aggregate(
        mapRunArn: SyntheticMapRun.arn, manifestBucket: "state", manifestKey: "map-runs/run/manifest.json")
    guard case .number(let read)? = try stats.value(at: "bytes_read"), case .number(let total)? = try stats.value(at: "item_counts.total"),
        Int(total) == items
    else { throw AnalemmaError(.invalidState, "aggregator returned \(stats)") }
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    let label = "light_aggregator.\(items)_items"
    print(#"{"bench":"\#(label)","metric":"bytes_read","value":\#(Int(read)),"unit":"B"}"#)
    print(#"{"bench":"\#(label)","metric":"peak_rss","value":\#(Double(usage.ru_maxrss) / 1024),"unit":"MiB"}"#)
}
