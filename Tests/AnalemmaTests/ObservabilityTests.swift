import Foundation
import Testing

@testable import Analemma

/// Powertools-shaped log keys on every line of an invocation, and CloudWatch Embedded Metric Format lines beside
/// the events that carry figures.
@Suite("Log keys and EMF metrics", .serialized)
struct ObservabilityTests {
    static let environment = FunctionEnvironment([
        "AWS_LAMBDA_LOG_FORMAT": "JSON", "AWS_LAMBDA_FUNCTION_NAME": "segment-runner", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "1024",
    ])

    static func docs(_ sink: CapturingSink) throws -> [[String: Any]] {
        try sink.lines.map { try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]) }
    }

    @Test("every line an invocation writes, by any logger copy, carries the Powertools keys; only the first is a cold start")
    func powertools() async throws {
        let sink = CapturingSink()
        let logger = Logger(environment: Self.environment, sink: sink)
        let detached = logger  // a service's own copy, made before any invocation (as every service holds one)
        let handler = ClosureHandler { event, _ in
            detached.info("inside", ["k": "v"])
            return event
        }
        let api = FakeRuntimeAPI([
            invocation("r1", "1", trace: "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"),
            invocation("r2", "2"),
        ])
        try await LambdaRuntime(api: api, handler: handler, logger: logger).run(limit: 2)
        let lines = try Self.docs(sink).filter { $0["message"] as? String == "inside" }
        try #require(lines.count == 2)
        #expect(lines.map { $0["function_request_id"] as? String } == ["r1", "r2"])
        #expect(lines.map { $0["requestId"] as? String } == ["r1", "r2"])
        #expect(lines.map { $0["cold_start"] as? Bool } == [true, false])
        #expect(lines.allSatisfy { $0["service"] as? String == "segment-runner" && $0["function_name"] as? String == "segment-runner" })
        #expect(
            lines.allSatisfy {
                $0["function_memory_size"] as? Int == 1024 && $0["function_arn"] as? String == "arn:aws:lambda:us-east-1:1:function:f"
            })
        #expect(lines[0]["xray_trace_id"] as? String == "1-5759e988-bd862e3fe1be46a994272793" && lines[1]["xray_trace_id"] == nil)
        detached.info("outside")  // no invocation: no request keys
        let outside = try #require(try Self.docs(sink).last)
        #expect(outside["service"] as? String == "segment-runner" && outside["function_request_id"] == nil && outside["cold_start"] == nil)
    }

    @Test("POWERTOOLS_SERVICE_NAME names the service")
    func serviceName() {
        #expect(
            LogService(environment: FunctionEnvironment(["POWERTOOLS_SERVICE_NAME": "briefs", "AWS_LAMBDA_FUNCTION_NAME": "f"])).service
                == "briefs")
        #expect(LogService(environment: FunctionEnvironment([:])).service == "analemma")
    }

    static func event(_ kind: EventKind, _ fields: [String: String]) -> KernelEvent {
        KernelEvent(kind, executionID: "arn:e", traceID: "t", ownerID: "team-a", fields, timeMillis: 1_796_212_800_000)
    }

    @Test("an event with figures is one EMF line CloudWatch accepts: each metric a number at the root, each dimension a string")
    func emf() throws {
        let sink = CapturingSink()
        let events = LogEventSink(logger: Logger(environment: Self.environment, sink: sink))
        events.emit(Self.event(.checkpoint, ["bytes": "2048", "s3_puts": "1", "changed": "3", "manifest_id": "m"]))
        events.emit(
            Self.event(
                .llmCall,
                ["gen_ai.usage.input_tokens": "10", "gen_ai.usage.output_tokens": "4", "gen_ai.response.model": "flash", "latency_ms": ""]))
        events.emit(Self.event(.nodeStarted, ["node": "a"]))  // no figures: no metric line
        let lines = sink.lines.filter { $0.contains("\"_aws\"") }
        #expect(lines.count == 2)
        var summary = MetricSummary()
        for line in sink.lines { summary.add(line: line) }
        #expect(summary.invalid.isEmpty && summary.lines == 2)
        let bytes = try #require(summary.figures.first { $0.key.metric == "CheckpointBytes" })
        #expect(
            bytes.value.sum == 2048 && bytes.key.unit == "Bytes"
                && bytes.key.dimensions == [.init(name: "service", value: "segment-runner")])
        let byModel = summary.figures.filter { $0.key.metric == "InputTokens" }.map(\.key.dimensions.count).sorted()
        #expect(byModel == [1, 2])  // [service] and [service, model]
        #expect(!summary.figures.keys.contains { $0.metric == "ModelLatency" })  // an empty figure is left out
        let doc = try #require(try JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as? [String: Any])
        #expect(doc["owner_id"] == nil, "owners are never dimensions or properties of metric lines")
        #expect(doc["event"] == nil && doc["kernel_event"] as? String == "checkpoint", "a metric line is never read as an event line")
    }

    @Test(
        "a line that breaks the EMF rules is counted invalid and never summed",
        arguments: [
            #"{"_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Namespace":"A","Dimensions":[["service"]],"Metrics":[{"Name":"X"}]}]},"X":1}"#,
            #"{"_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Namespace":"A","Dimensions":[[]],"Metrics":[{"Name":"X"}]}]},"X":"1"}"#,
            #"{"_aws":{"CloudWatchMetrics":[{"Namespace":"A","Dimensions":[[]],"Metrics":[{"Name":"X"}]}]},"X":1}"#,
            #"{"_aws":{"Timestamp":1,"CloudWatchMetrics":[]}}"#,
            #"{"_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Namespace":"A","Dimensions":[[]],"Metrics":[]}]}}"#,
        ])
    func invalidEMF(_ line: String) {
        var summary = MetricSummary()
        summary.add(line: "[f#1] " + line)
        #expect(summary.lines == 1 && summary.invalid.count == 1 && summary.figures.isEmpty)
    }
}
