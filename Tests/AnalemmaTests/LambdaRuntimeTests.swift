import Analemma
import Foundation
import Testing

@Suite("Runtime loop against a scripted Runtime API", .serialized)
struct LambdaRuntimeTests {
    struct Coded: CodedError {
        let errorType = "Analemma.InvalidEvent"
        let errorMessage = "field x is missing"
    }
    struct Plain: Error {}

    @Test("a handler's output is posted as the invocation's response")
    func success() async throws {
        let api = FakeRuntimeAPI([invocation("r1", #"{"a":1}"#)])
        let echo = ClosureHandler { event, _ in event }
        try await LambdaRuntime(api: api, handler: echo, logger: Logger(sink: CapturingSink())).run(limit: 1)
        #expect(api.outcomes == [.response(requestID: "r1", body: Data(#"{"a":1}"#.utf8))])
    }

    @Test("a coded error keeps its errorType; any other error is Analemma.Unhandled; the loop goes on")
    func errors() async throws {
        let api = FakeRuntimeAPI([invocation("r1", "1"), invocation("r2", "2"), invocation("r3", "3")])
        let handler = ClosureHandler { event, _ in
            switch String(decoding: event, as: UTF8.self) {
            case "1": throw Coded()
            case "2": throw Plain()
            default: return Data("ok".utf8)
            }
        }
        try await LambdaRuntime(api: api, handler: handler, logger: Logger(sink: CapturingSink())).run(limit: 3)
        let outcomes = api.outcomes
        try #require(outcomes.count == 3)
        #expect(
            outcomes[0]
                == .error(requestID: "r1", RuntimeErrorPayload(errorType: "Analemma.InvalidEvent", errorMessage: "field x is missing")))
        guard case .error("r2", let plain) = outcomes[1] else {
            Issue.record("r2 not an error: \(outcomes[1])")
            return
        }
        #expect(plain.errorType == ErrorCode.unhandled.rawValue)
        #expect(plain.errorMessage.contains("Plain"))
        #expect(outcomes[2] == .response(requestID: "r3", body: Data("ok".utf8)))
    }

    @Test("a response over the size limit becomes Analemma.ResponseTooLarge, not a crash")
    func oversized() async throws {
        let api = FakeRuntimeAPI([invocation("big", "{}"), invocation("small", "{}")])
        let handler = ClosureHandler { _, ctx in Data(count: ctx.requestID == "big" ? 101 : 100) }
        try await LambdaRuntime(api: api, handler: handler, logger: Logger(sink: CapturingSink()), maxResponseBytes: 100).run(limit: 2)
        guard case .error("big", let payload) = api.outcomes[0] else {
            Issue.record("\(api.outcomes[0])")
            return
        }
        #expect(payload.errorType == "Analemma.ResponseTooLarge")
        #expect(payload.errorMessage.contains("101 bytes"))
        #expect(api.outcomes[1] == .response(requestID: "small", body: Data(count: 100)))
    }

    @Test("a 413 from the Runtime API is followed by a ResponseTooLarge error for that invocation")
    func serviceRejectsSize() async throws {
        let api = FakeRuntimeAPI([invocation("r1", "{}")])
        api.responseStatus = 413
        try await LambdaRuntime(api: api, handler: ClosureHandler { e, _ in e }, logger: Logger(sink: CapturingSink())).run(limit: 1)
        #expect(api.outcomes.count == 2)
        guard case .error("r1", let payload) = api.outcomes.last else {
            Issue.record("\(api.outcomes)")
            return
        }
        #expect(payload.errorType == ErrorCode.responseTooLarge.rawValue)
    }

    @Test("the handler sees the request id, deadline, remaining time and the per-invocation _X_AMZN_TRACE_ID")
    func context() async throws {
        let api = FakeRuntimeAPI([
            invocation("r1", "{}", deadline: 5_000, trace: "Root=1-a"), invocation("r2", "{}", deadline: 9_000, trace: "Root=1-b"),
        ])
        let handler = ClosureHandler { _, ctx in
            let env = getenv("_X_AMZN_TRACE_ID").map { String(cString: $0) } ?? "-"
            return Data("\(ctx.requestID) \(ctx.deadlineMillis) \(ctx.remainingMillis) \(ctx.traceID ?? "-") \(env)".utf8)
        }
        let runtime = LambdaRuntime(api: api, handler: handler, logger: Logger(sink: CapturingSink()), clock: FixedClock(now: 4_000))
        try await runtime.run(limit: 2)
        #expect(
            api.outcomes == [
                .response(requestID: "r1", body: Data("r1 5000 1000 Root=1-a Root=1-a".utf8)),
                .response(requestID: "r2", body: Data("r2 9000 5000 Root=1-b Root=1-b".utf8)),
            ])
    }

    @Test("glibc takes the malloc thresholds that keep event buffers of up to 6 MB on the heap")
    func memoryTuning() {
        #expect(
            MemoryTuning.mmapThreshold > Int32(LambdaLimits.maxResponseBytes) && MemoryTuning.trimThreshold >= MemoryTuning.mmapThreshold)
        #expect(MemoryTuning.applyForLargeEvents())
    }

    @Test("failures are logged with the request id and error type")
    func logsFailures() async throws {
        let sink = CapturingSink()
        let api = FakeRuntimeAPI([invocation("req-7", "{}")])
        try await LambdaRuntime(api: api, handler: ClosureHandler { _, _ in throw Coded() }, logger: Logger(format: .json, sink: sink)).run(
            limit: 1)
        let line = try #require(sink.lines.first)
        let doc = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: String])
        #expect(doc["requestId"] == "req-7")
        #expect(doc["errorType"] == "Analemma.InvalidEvent")
        #expect(doc["level"] == "ERROR")
    }

    @Test("a failure that knows its execution logs trace, execution and owner ids; the reported error is unchanged")
    func logsScopedFailures() async throws {
        let sink = CapturingSink()
        let api = FakeRuntimeAPI([invocation("req-8", "{}")])
        let handler = ClosureHandler { _, _ in
            throw ScopedError.wrap(Coded(), traceID: "1-abc", executionID: "arn:e", ownerID: "team-a")
        }
        try await LambdaRuntime(api: api, handler: handler, logger: Logger(format: .json, sink: sink)).run(limit: 1)
        let line = try #require(sink.lines.first)
        let doc = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: String])
        #expect(doc["trace_id"] == "1-abc" && doc["execution_id"] == "arn:e" && doc["owner_id"] == "team-a")
        #expect(doc["errorType"] == "Analemma.InvalidEvent")
        guard case .error(_, let payload)? = api.outcomes.last else {
            Issue.record("no error sent")
            return
        }
        #expect(payload.errorType == "Analemma.InvalidEvent")
    }

    @Test("a Runtime API failure ends the loop with an error")
    func apiFailure() async throws {
        let api = FakeRuntimeAPI([])
        await #expect(throws: RuntimeAPIError.self) {
            try await LambdaRuntime(api: api, handler: ClosureHandler { e, _ in e }, logger: Logger(sink: CapturingSink())).run()
        }
    }

    struct Input: Decodable { let name: String }
    struct Output: Encodable { let greeting: String }
    struct Greeter: TypedLambdaHandler {
        func handle(_ event: Input, context: LambdaContext) async throws -> Output { Output(greeting: "hi \(event.name)") }
    }

    @Test("a typed handler decodes its event; an undecodable one is Analemma.InvalidEvent naming the type")
    func typed() async throws {
        let api = FakeRuntimeAPI([invocation("ok", #"{"name":"ada"}"#), invocation("bad", #"{"nom":1}"#)])
        try await LambdaRuntime(api: api, handler: CodableHandler(Greeter()), logger: Logger(sink: CapturingSink())).run(limit: 2)
        #expect(api.outcomes[0] == .response(requestID: "ok", body: Data(#"{"greeting":"hi ada"}"#.utf8)))
        guard case .error("bad", let payload) = api.outcomes[1] else {
            Issue.record("\(api.outcomes[1])")
            return
        }
        #expect(payload.errorType == "Analemma.InvalidEvent")
        #expect(payload.errorMessage.contains("Input"))
    }
}
