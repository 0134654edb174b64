import Foundation
import Testing

@testable import Analemma

/// Spans from kernel events, and their OTLP protobuf encoding (the encoding is decoded by the reference classes,
/// `opentelemetry-proto`, in Tests/integration/test_tracing.py).
@Suite("OpenTelemetry spans")
struct TracingTests {
    @Test("the protobuf encoding guide's examples: a varint field, a string field, a zero left out")
    func protobuf() {
        var w = ProtobufWriter()
        w.int(1, 150)
        #expect(w.bytes == [0x08, 0x96, 0x01])
        var s = ProtobufWriter()
        s.string(2, "testing")
        #expect(s.bytes == [0x12, 0x07] + Array("testing".utf8))
        var z = ProtobufWriter()
        z.int(1, 0)
        z.int(2, 0, always: true)
        #expect(z.bytes == [0x10, 0x00])
        var n = ProtobufWriter()
        n.int(1, -1)
        #expect(n.bytes == [0x08] + [UInt8](repeating: 0xFF, count: 9) + [0x01])
    }

    @Test("an X-Ray trace root keeps its 128 bits, the kernel's own too; anything else is hashed")
    func traceIDs() {
        #expect(
            Span.traceID("1-5759e988-bd862e3fe1be46a994272793").map { String(format: "%02x", $0) }.joined()
                == "5759e988bd862e3fe1be46a994272793")
        #expect(Span.traceID("analemma-" + String(repeating: "ab", count: 16)) == [UInt8](repeating: 0xAB, count: 16))
        #expect(Span.traceID("something else").count == 16 && Span.traceID("something else") != Span.traceID("other"))
        #expect(Span.rootID("arn:e") == Span.rootID("arn:e") && Span.rootID("arn:e") != Span.rootID("arn:f"))
    }

    static func e(_ kind: EventKind, _ t: Int64, _ fields: [String: String], execution: String = "arn:e") -> KernelEvent {
        KernelEvent(kind, executionID: execution, traceID: "1-5759e988-bd862e3fe1be46a994272793", ownerID: "team-a", fields, timeMillis: t)
    }

    @Test("execution, segment, node and model call nest; the model call starts its latency before it ended")
    func hierarchy() throws {
        let spans = SpanBuilder.spans(from: [
            Self.e(.segmentStarted, 100, ["segment": "0"]), Self.e(.nodeStarted, 110, ["node": "draft", "type": "llm"]),
            Self.e(
                .llmCall, 400,
                [
                    "node": "draft", "gen_ai.operation.name": "generate_content", "gen_ai.request.model": "flash",
                    "gen_ai.response.model": "flash",
                    "gen_ai.usage.input_tokens": "12", "gen_ai.usage.output_tokens": "5", "tokens_thought": "3", "latency_ms": "250",
                    "gen_ai.response.finish_reasons": "STOP",
                ]),
            Self.e(.nodeFinished, 410, ["node": "draft", "type": "llm"]),
            Self.e(.segmentFinished, 420, ["segment": "0", "hydrated_bytes": "64"]),
            Self.e(.executionFinished, 500, ["status": "SUCCEEDED", "started_ms": "50"]),
        ])
        let byName = Dictionary(spans.map { ($0.name, $0) }) { a, _ in a }
        let root = try #require(byName["execution"])
        let segment = try #require(byName["segment 0"])
        let node = try #require(byName["node draft"])
        let llm = try #require(byName["generate_content flash"])
        #expect(root.parentID == nil && root.spanID == Span.rootID("arn:e") && root.startMillis == 50 && root.endMillis == 500)
        #expect(segment.parentID == root.spanID && node.parentID == segment.spanID && llm.parentID == node.spanID)
        #expect(llm.startMillis == 150 && llm.endMillis == 400 && llm.kind == .client)
        let attrs = Dictionary(llm.attributes.map { ($0.0, $0.1) }) { a, _ in a }
        #expect(attrs["gen_ai.usage.input_tokens"] == .int(12) && attrs["gen_ai.usage.reasoning_tokens"] == .int(3))
        #expect(attrs["gen_ai.response.finish_reasons"] == .strings(["STOP"]) && attrs["gen_ai.provider.name"] == .string("gcp.gemini"))
        #expect(Set(spans.map(\.traceID)).count == 1)
    }

    @Test("a failed execution's root span is an error; a map chunk's span hangs under the parent execution's root")
    func errorsAndChunks() {
        let spans = SpanBuilder.spans(from: [
            Self.e(.mapChunk, 10, ["node": "m", "chunk": "chunk_0001.json", "items": "5", "failed": "0"]),
            Self.e(.executionFailed, 20, ["code": "Analemma.NoRoute", "message": "no edge", "started_ms": "1"]),
        ])
        #expect(spans.first { $0.name == "map_chunk" }?.parentID == Span.rootID("arn:e"))
        #expect(spans.first { $0.name == "execution" }?.error == "no edge")
    }

    @Test("a continue-as-new chain is one trace with one root: the first execution's, closed when the last one ends")
    func chain() throws {
        func on(_ execution: String, _ event: KernelEvent) -> KernelEvent {
            var e = event
            e.executionID = execution
            e.traceRoot = "arn:e"
            return e
        }
        let spans = SpanBuilder.spans(from: [
            on("arn:e", Self.e(.segmentStarted, 10, ["segment": "0"])), on("arn:e", Self.e(.segmentFinished, 20, ["segment": "0"])),
            on("arn:e-2", Self.e(.segmentStarted, 30, ["segment": "1"])), on("arn:e-2", Self.e(.segmentFinished, 40, ["segment": "1"])),
            on("arn:e-2", Self.e(.executionFinished, 50, ["status": "SUCCEEDED", "started_ms": "5"])),
        ])
        let roots = spans.filter { $0.parentID == nil }
        let root = try #require(roots.first)
        #expect(roots.count == 1 && root.spanID == Span.rootID("arn:e") && root.startMillis == 5)
        #expect(spans.filter { $0.name.hasPrefix("segment") }.allSatisfy { $0.parentID == root.spanID })
        let attrs = Dictionary(root.attributes.map { ($0.0, $0.1) }) { a, _ in a }
        #expect(attrs["analemma.execution_id"] == .string("arn:e") && attrs["analemma.last_execution_id"] == .string("arn:e-2"))
    }

    @Test(
        "a human step is a node span from the question to the answer; an asked time from the future or unparsable starts it at the answer",
        arguments: [("1000", Int64(1000)), ("9000", Int64(5000)), ("-3", Int64(5000)), ("x", Int64(5000))])
    func human(asked: String, start: Int64) throws {
        let spans = SpanBuilder.spans(from: [
            Self.e(.segmentStarted, 4000, ["segment": "3"]),
            Self.e(.humanAnswered, 5000, ["node": "review", "fields": "approval", "asked_ms": asked]),
            Self.e(.segmentFinished, 5100, ["segment": "3"]),
        ])
        let node = try #require(spans.first { $0.name == "node review" })
        let segment = try #require(spans.first { $0.name == "segment 3" })
        let attrs = Dictionary(node.attributes.map { ($0.0, $0.1) }) { a, _ in a }
        #expect(node.startMillis == start && node.endMillis == 5000 && node.parentID == segment.spanID)
        #expect(attrs["analemma.type"] == .string("hitp") && attrs["analemma.waited_ms"] == .int(5000 - start))
    }

    @Test("the exporter follows the OTel variables: endpoint + /v1/traces, headers, resource attributes, service name")
    func environment() async throws {
        let transport = RecordingTransport([.respond(200, "")])
        let env = FunctionEnvironment([
            "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:6006/", "OTEL_EXPORTER_OTLP_HEADERS": "api_key=k1, x=y",
            "OTEL_RESOURCE_ATTRIBUTES": "openinference.project.name=my%20agents,service.name=ignored,=bad,novalue",
            "OTEL_SERVICE_NAME": "runner",
        ])
        let exporter = try #require(try OTLPHTTPExporter(environment: env, service: "segment-runner", transport: transport))
        #expect(exporter.service == "runner" && exporter.resource.map(\.0) == ["openinference.project.name", "service.name"])
        #expect(exporter.resource.first?.1 == "my agents")
        try await exporter.export([Span(traceID: [1], spanID: [2], name: "s", startMillis: 1, endMillis: 2)])
        let request = try #require(transport.requests.first)
        #expect(request.path == "/v1/traces" && request.port == 6006)
        #expect(request.headers.contains { $0 == ("api_key", "k1") } && request.headers.contains { $0 == ("x", "y") })
        #expect(String(decoding: request.body, as: UTF8.self).contains("openinference.project.name"))
        #expect(try OTLPHTTPExporter(environment: FunctionEnvironment([:]), service: "s") == nil)
        #expect(throws: AnalemmaError.self) {
            try OTLPHTTPExporter(environment: FunctionEnvironment(["OTEL_EXPORTER_OTLP_ENDPOINT": "ftp://x"]), service: "s")
        }
    }

    @Test(
        "resource values are percent-decoded; a malformed escape leaves the value as given",
        arguments: [
            ("my%20agents", "my agents"), ("caf%C3%A9", "café"), ("100%", "100%"), ("%zz", "%zz"), ("%+1", "%+1"), ("%FF", "%FF"),
            ("plain", "plain"),
        ])
    func percent(given: String, expected: String) {
        #expect(OTLPHTTPExporter.percentDecoded(given) == expected)
    }

    final class Recording: SpanExporter, @unchecked Sendable {
        let lock = NSLock()
        var batches: [[Span]] = []
        let fails: Bool
        init(fails: Bool) { self.fails = fails }
        func export(_ spans: [Span]) async throws {
            lock.withLock { batches.append(spans) }
            if fails { throw AnalemmaError(.transient, "collector down") }
        }
    }

    @Test("an invocation's spans go out once, when it ends; a collector that is down is only a warning")
    func export() async {
        for fails in [false, true] {
            let exporter = Recording(fails: fails)
            let sink = CapturingSink()
            let recorder = EventRecorder(log: LogEventSink(logger: Logger(sink: sink)), eventLog: nil, publisher: nil, exporter: exporter)
            recorder.emit(Self.e(.segmentStarted, 1, ["segment": "0"]))
            recorder.emit(Self.e(.segmentFinished, 2, ["segment": "0"]))
            await recorder.flush(requestID: "r")
            await recorder.flush(requestID: "r2")  // nothing new: nothing sent
            #expect(exporter.batches.count == 1 && exporter.batches[0].count == 1)
            #expect(sink.lines.contains { $0.contains("spans not exported") } == fails)
        }
    }
}
