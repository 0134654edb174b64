import Analemma
import Foundation
import Testing

@Suite("Structured logging in Lambda's Text and JSON formats")
struct LoggerTests {
    @Test("JSON lines carry timestamp, level, message, requestId and fields, escaped")
    func json() throws {
        let sink = CapturingSink()
        Logger(format: .json, requestID: "r-1", sink: sink).info("say \"hi\"\n\tthere", ["k": "v\u{1}"])
        let line = try #require(sink.lines.first)
        #expect(!line.contains("\n"))
        let doc = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: String])
        #expect(doc["message"] == "say \"hi\"\n\tthere")
        #expect(doc["level"] == "INFO")
        #expect(doc["requestId"] == "r-1")
        #expect(doc["k"] == "v\u{1}")
        let stamp = try #require(doc["timestamp"])
        #expect(stamp.count == 24 && stamp.hasSuffix("Z"))
        #expect(
            ISO8601DateFormatter().date(from: stamp.replacingOccurrences(of: #"\.\d{3}"#, with: "", options: .regularExpression)) != nil)
    }

    @Test(
        "lines below the configured level are dropped",
        arguments: [
            ("DEBUG", 3), ("INFO", 2), ("WARN", 1), ("error", 1), ("FATAL", 0),
        ])
    func levels(name: String, expected: Int) {
        let sink = CapturingSink()
        let logger = Logger(environment: FunctionEnvironment(["LOG_LEVEL": name]), sink: sink)
        logger.debug("d")
        logger.info("i")
        logger.error("e")
        #expect(sink.lines.count == expected)
    }

    @Test("AWS_LAMBDA_LOG_FORMAT=JSON selects JSON; AWS_LAMBDA_LOG_LEVEL wins over LOG_LEVEL")
    func environment() {
        let logger = Logger(
            environment: FunctionEnvironment([
                "AWS_LAMBDA_LOG_FORMAT": "JSON", "AWS_LAMBDA_LOG_LEVEL": "WARN", "LOG_LEVEL": "DEBUG",
            ]), sink: CapturingSink())
        #expect(logger.format == .json)
        #expect(logger.level == .warn)
        #expect(Logger(environment: FunctionEnvironment([:]), sink: CapturingSink()).format == .text)
    }

    @Test("text lines are tab-separated: timestamp, level, request id, message")
    func text() throws {
        let sink = CapturingSink()
        Logger(requestID: "r-2", sink: sink).warn("careful", ["n": "1"])
        let parts = try #require(sink.lines.first).split(separator: "\t")
        #expect(parts.count == 4)
        #expect(parts[1] == "WARN" && parts[2] == "r-2" && parts[3] == "careful n=1")
    }
}

@Suite("Kernel events as log lines")
struct EventSinkTests {
    @Test("every event line carries the event type, execution, trace and owner ids, then its fields")
    func line() throws {
        let sink = CapturingSink()
        LogEventSink(logger: Logger(format: .json, sink: sink)).emit(
            KernelEvent(.llmCall, executionID: "arn:e", traceID: "1-abc", ownerID: "team-a", ["gen_ai.request.model": "m"]))
        let line = try #require(sink.lines.first)
        let doc = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        #expect(doc["event"] as? String == "llm_call" && doc["execution_id"] as? String == "arn:e")
        #expect(doc["trace_id"] as? String == "1-abc" && doc["owner_id"] as? String == "team-a")
        #expect(doc["gen_ai.request.model"] as? String == "m" && doc["timestamp"] != nil)
    }
}
