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
