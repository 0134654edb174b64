import Analemma
import Foundation
import Glibc

/// Serves a synthetic Distributed Map of `items` items: a ResultWriter manifest listing AWS-sized result files
/// (~350 B per record, files split at 5 GB) and DescribeMapRun counts. Records only what is asked.
struct SyntheticMapRun: HTTPTransport {
    let items: Int
    static let arn = "arn:aws:states:us-east-1:123456789012:mapRun:bench/x:run"
    static let execution = "arn:aws:states:us-east-1:123456789012:execution:bench:run"

    func send(_ request: HTTPRequest, timeout: Duration) async throws -> HTTPResponse {
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
            body: Data(
                #"{"mapRunArn":"\#(Self.arn)","executionArn":"\#(Self.execution)","status":"SUCCEEDED","itemCounts":\#(counts),"executionCounts":\#(counts)}"#
                    .utf8))
    }
}

/// S3 requests go to the real endpoint (the result files and manifest really exist there); Step Functions'
/// DescribeMapRun is answered for the synthetic run (moto has no map run of a million items). Counts S3 GETs.
final class HalfSyntheticTransport: HTTPTransport, @unchecked Sendable {
    let real = SocketTransport()
    let synthetic: SyntheticMapRun
    private let lock = NSLock()
    private var gets: [String] = []
    init(items: Int) { synthetic = SyntheticMapRun(items: items) }
    var s3Gets: [String] { lock.withLock { gets } }

    func send(_ request: HTTPRequest, timeout: Duration) async throws -> HTTPResponse {
        if request.headers.contains(where: { $0.0.lowercased() == "x-amz-target" }) {
            return try await synthetic.send(request, timeout: timeout)
        }
        if request.method == "GET" { lock.withLock { gets.append(request.path) } }
        return try await real.send(request, timeout: timeout)
    }
}

/// The light aggregator over a map run of `items` items: bytes read, S3 GETs and peak RSS of this process. With an
/// endpoint, the manifest (and the result files it lists, written by `Bench/run.py`) are read from real S3.
func aggregatorBenchmark(items: Int, endpoint: String? = nil, bucket: String = "state", manifestKey: String = "map-runs/run/manifest.json")
    async throws
{
    let half = endpoint.map { _ in HalfSyntheticTransport(items: items) }
    let transport: any HTTPTransport = half ?? SyntheticMapRun(items: items)
    let client = AWSClient(
        credentials: AWSCredentials(accessKeyID: "test", secretAccessKey: "test"), region: "us-east-1",
        environment: FunctionEnvironment(["AWS_ENDPOINT_URL": endpoint ?? "http://127.0.0.1:1"]), transport: transport)
    let aggregator = LightAggregator(s3: try S3(client: client), stepFunctions: try StepFunctions(client: client), bucket: bucket)
    let stats = try await aggregator.aggregate(
        mapRunArn: SyntheticMapRun.arn, executionID: SyntheticMapRun.execution, manifestBucket: bucket, manifestKey: manifestKey)
    guard let read = stats.bytesRead, stats.itemCounts?.total == items else {
        throw AnalemmaError(.invalidState, "aggregator returned \(stats)")
    }
    let label = "light_aggregator.\(items)_items" + (endpoint == nil ? "" : "_in_s3")
    print(#"{"bench":"\#(label)","metric":"bytes_read","value":\#(read),"unit":"B"}"#)
    if let half {
        print(#"{"bench":"\#(label)","metric":"s3_gets","value":\#(half.s3Gets.count),"unit":"requests"}"#)
        if let resultBytes = stats.resultBytes {
            print(#"{"bench":"\#(label)","metric":"result_bytes_listed","value":\#(resultBytes),"unit":"B"}"#)
        }
    }
    print(#"{"bench":"\#(label)","metric":"peak_rss","value":\#(peakRSSMiB()),"unit":"MiB"}"#)
}

/// This process's peak resident set (`VmHWM` of /proc/self/status: unlike `getrusage`'s `ru_maxrss`, it starts
/// afresh at exec, so a large parent process does not leak into the figure).
func peakRSSMiB() -> Double {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
        let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
        let kb = Double(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "")
    else { return -1 }
    return kb / 1024
}
