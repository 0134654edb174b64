import Analemma
import Foundation
import Testing

@Suite("Message pruning for API Gateway's 128 KB limit")
struct MessagePrunerTests {
    static let shard = "s3://analemma-state/owners/a/executions/k/events/1-r.jsonl"

    static func record(_ seq: Int, _ attributes: [String: String], bodies: [String: String] = [:]) -> JSONValue {
        var event = KernelEvent(
            .toolCall, executionID: "arn:exec", traceID: "1-trace", ownerID: "a", attributes, timeMillis: 1000 + Int64(seq))
        event.bodies = bodies
        return event.record(seq: seq)
    }

    /// Deterministic pseudo-random records: sizes from bytes to megabytes, multi-byte and escaped characters.
    static func corpus(seed: UInt64, count: Int) -> [JSONValue] {
        var state = seed
        func next(_ n: Int) -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int((state >> 33) % UInt64(n))
        }
        let alphabet: [String] = ["a", "é", "\"", "\n", "\u{0001}", "😀", "/", "\\"]
        return (0..<count).map { seq in
            var attributes: [String: String] = [:]
            for i in 0..<(1 + next(6)) {
                let size = [10, 1000, 40_000, 150_000, 700_000][next(5)]
                attributes["a\(i)"] = String(repeating: alphabet[next(alphabet.count)], count: size)
            }
            var bodies: [String: String] = [:]
            if seq % 3 == 0 { bodies["prompt"] = String(repeating: alphabet[next(alphabet.count)], count: [100, 30_000, 40_000][next(3)]) }
            return record(seq, attributes, bodies: bodies)
        }
    }

    @Test("every message fits, every record arrives once and in order, every cut is marked with a pointer", arguments: [1, 2, 3, 4, 5])
    func properties(seed: UInt64) throws {
        let records = Self.corpus(seed: seed, count: 25)
        let messages = MessagePruner().messages(records: records, executionID: "arn:exec", traceID: "1-trace", shard: Self.shard)
        var seqs: [Int] = []
        for message in messages {
            #expect(message.count <= MessagePruner.apiGatewayLimit)
            let decoded = try JSONValue(json: message)
            #expect(try decoded.value(at: "type") == .string("events"))
            #expect(try decoded.value(at: "shard") == .string(Self.shard))
            guard case .array(let events)? = try decoded.value(at: "events") else {
                Issue.record("no events")
                continue
            }
            for event in events {
                guard case .number(let seq)? = try event.value(at: "seq") else {
                    Issue.record("no seq")
                    continue
                }
                seqs.append(Int(seq))
                let original = records[Int(seq)]
                if event != original {  // something was cut: it says so and where the whole record is
                    #expect(try event.value(at: "truncated") == .bool(true))
                    #expect(try event.value(at: "full") == .string("\(Self.shard)#seq=\(Int(seq))"))
                    #expect(try event.value(at: "event") == original.value(at: "event"))
                } else {
                    #expect(try event.value(at: "truncated") == nil)
                }
            }
        }
        #expect(seqs == Array(0..<records.count))
    }

    @Test("small records pass untouched and share one message")
    func small() throws {
        let records = (0..<50).map { Self.record($0, ["node": "n\($0)"]) }
        let messages = MessagePruner().messages(records: records, executionID: "arn:exec", traceID: "1-trace", shard: Self.shard)
        #expect(messages.count == 1)
        #expect(try JSONValue(json: messages[0]).value(at: "events") == .array(records))
    }

    @Test("a body over 32 KB is cut in the shard record itself, with the marker")
    func bodyLimit() throws {
        let long = Self.record(0, [:], bodies: ["completion": String(repeating: "y", count: 40_000), "prompt": "short"])
        guard case .string(let c)? = try long.value(at: "bodies.completion") else {
            Issue.record("no body")
            return
        }
        #expect(c.hasSuffix(MessagePruner.marker) && c.utf8.count < KernelEvent.bodyLimit)
        #expect(try long.value(at: "bodies.prompt") == .string("short"))
        #expect(try Self.record(1, [:]).value(at: "bodies") == nil)
    }

    @Test("a cut value ends in the marker and keeps its beginning")
    func marker() throws {
        let long = String(repeating: "x", count: 300_000)
        let messages = MessagePruner().messages(
            records: [Self.record(0, ["args": long, "node": "n"])], executionID: "e", traceID: "t", shard: Self.shard)
        let value = try JSONValue(json: messages[0]).value(at: "events[0].attributes.args")
        guard case .string(let s)? = value else {
            Issue.record("args missing")
            return
        }
        #expect(s.hasSuffix(MessagePruner.marker) && s.hasPrefix("xxxx") && s.count < long.count)
        #expect(try JSONValue(json: messages[0]).value(at: "events[0].attributes.node") == .string("n"))
    }
}

@Suite("Connect tokens (HMAC-SHA256 over owner and expiry)")
struct ConnectTokenTests {
    static let secret = "a-secret-of-at-least-16-bytes"

    @Test("an issued token verifies to its owner, dotted owner ids included", arguments: ["team-a", "a.b.c", "x_1"])
    func roundTrip(owner: String) throws {
        let token = try ConnectToken.issue(ownerID: owner, expiresAt: 2000, secret: Self.secret)
        #expect(try ConnectToken.verify(token, secret: Self.secret, nowSeconds: 1999) == ConnectToken(ownerID: owner, expiresAt: 2000))
    }

    static func issued(_ owner: String, _ expiry: Int64, _ secret: String = secret) -> String {
        (try? ConnectToken.issue(ownerID: owner, expiresAt: expiry, secret: secret)) ?? "issue failed"
    }

    static let forgeries: [(String, String)] = [
        ("wrong secret", issued("a", 2000, "another-secret-16-bytes")),
        ("owner swapped", issued("a", 2000).replacingOccurrences(of: "v1.a.", with: "v1.b.")),
        ("expiry extended", issued("a", 2000).replacingOccurrences(of: ".2000.", with: ".9000.")),
        ("expired", issued("a", 1000)), ("empty", ""), ("no version", "a.2000.00"), ("bad owner", "v1.../..2000.00"),
    ]

    @Test("forged, altered, expired and malformed tokens are refused as Forbidden", arguments: forgeries)
    func refused(_ name: String, token: String) throws {
        #expect(throws: AnalemmaError.self, "\(name)") { try ConnectToken.verify(token, secret: Self.secret, nowSeconds: 1500) }
        do { _ = try ConnectToken.verify(token, secret: Self.secret, nowSeconds: 1500) } catch let e as AnalemmaError {
            #expect(e.code == .forbidden, "\(name)")
        }
    }

    @Test("a short secret is a configuration error, for issuing and for checking")
    func shortSecret() {
        #expect(throws: AnalemmaError(.invalidConfiguration, "the connect token secret must be at least 16 bytes")) {
            try ConnectToken.issue(ownerID: "a", expiresAt: 1, secret: "short")
        }
        #expect(throws: AnalemmaError.self) { try ConnectToken.verify("v1.a.1.00", secret: "short", nowSeconds: 0) }
    }
}

@Suite("Event recorder")
struct EventRecorderTests {
    final class Publisher: EventPublisher, @unchecked Sendable {
        let lock = NSLock()
        var sent: [EventNotification] = []
        func publish(_ n: EventNotification) async throws { lock.withLock { sent.append(n) } }
    }

    @Test("one shard per execution per invocation, announced by pointer; map children and ownerless events stay in the log")
    func shards() async throws {
        let transport = RecordingTransport([.respond(200, ""), .respond(200, "")])
        let publisher = Publisher()
        let recorder = EventRecorder(
            log: LogEventSink(logger: Logger(level: .error)), eventLog: EventLog(s3: try S3(client: testClient(transport)), bucket: "b"),
            publisher: publisher)
        recorder.emit(KernelEvent(.segmentStarted, executionID: "e1", traceID: "t1", ownerID: "a", timeMillis: 5))
        recorder.emit(KernelEvent(.mapChunk, executionID: "e1", traceID: "t1", ownerID: "a"))
        recorder.emit(KernelEvent(.gcReport, executionID: "", traceID: ""))
        recorder.emit(KernelEvent(.nodeStarted, executionID: "e2", traceID: "t2", ownerID: "b", timeMillis: 6))
        recorder.emit(KernelEvent(.checkpoint, executionID: "e1", traceID: "t1", ownerID: "a", timeMillis: 7))
        let written = await recorder.flushShards(requestID: "req-1")
        #expect(written.count == 2)
        #expect(written[0].key.hasPrefix("owners/a/executions/\(StatePointer.executionKey("e1"))/events/0000000000005-req-1"))
        let first = String(decoding: transport.requests[0].body, as: UTF8.self).split(separator: "\n")
        #expect(first.count == 2 && first[0].contains("\"segment_started\"") && first[1].contains("\"seq\":1"))
        #expect(transport.requests[0].headers.contains { $0.0.lowercased() == "x-amz-tagging" && $0.1.contains("trace_id=t1") })
        #expect(publisher.sent.map(\.execution_id) == ["e1", "e2"])
        #expect(
            publisher.sent[0].shard == written[0].description && publisher.sent[0].count == 2
                && publisher.sent[0].last_event == "checkpoint")
        #expect(await recorder.flushShards(requestID: "req-2").isEmpty)  // nothing twice
    }

    @Test("a shard that cannot be written is a warning, never a failed step")
    func failure() async throws {
        let transport = RecordingTransport([.respond(403, "<Error><Code>AccessDenied</Code></Error>")])
        let publisher = Publisher()
        let recorder = EventRecorder(
            log: LogEventSink(logger: Logger(level: .error)), eventLog: EventLog(s3: try S3(client: testClient(transport)), bucket: "b"),
            publisher: publisher)
        recorder.emit(KernelEvent(.checkpoint, executionID: "e1", traceID: "t1", ownerID: "a"))
        #expect(await recorder.flushShards(requestID: "r").isEmpty)
        #expect(publisher.sent.isEmpty)
    }
}

@Suite("The event catalogue")
struct EventCatalogueTests {
    @Test("the glass-box README's table is the one EventKind generates (make catalogue regenerates it)")
    func generated() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let readme = try String(contentsOf: root.appendingPathComponent("Sources/Analemma/GlassBox/README.md"), encoding: .utf8)
        #expect(try EventKind.splice(into: readme) == readme, "the event catalogue is stale: run make catalogue")
    }

    @Test("every kind documents its attributes once, and map_finished carries MapStats' summary")
    func attributes() {
        for kind in EventKind.allCases { #expect(Set(kind.attributes).count == kind.attributes.count, "\(kind)") }
        #expect(EventKind.mapFinished.attributes == ["node"] + MapStats.summaryKeys + MapStats.sampleKeys)
    }
}
