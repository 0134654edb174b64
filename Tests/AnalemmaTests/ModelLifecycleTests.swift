import Foundation
import Testing

@testable import Analemma

/// A clock that moves only when the code under test sleeps (or the test says so).
final class ManualClock: WallClock, Sleeper, @unchecked Sendable {
    private let lock = NSLock()
    private var now: Int64
    private var slept: [Int64] = []

    init(_ now: Int64) { self.now = now }

    var sleeps: [Int64] { lock.withLock { slept } }
    func nowMillis() -> Int64 { lock.withLock { now } }
    func advance(_ millis: Int64) { lock.withLock { now += millis } }
    func sleep(for duration: Duration) async throws {
        let millis = duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000
        lock.withLock {
            slept.append(millis)
            now += millis
        }
    }
}

@Suite("Model lifecycle: successors, date-effective prices, cooldowns, error classes")
struct ModelLifecycleTests {
    /// 2026-12-02 12:00 UTC and 2027-03-01 12:00 UTC.
    static let december: Int64 = 1_796_212_800_000
    static let march: Int64 = 1_803_902_400_000

    static let catalogJSON = """
        {"on_retired": "remap", "retired": {"gemini-2.5-flash": {"date": "2026-10-01", "successor": "flash"}, "gone": "2026-01-01"},
         "models": [
          {"id": "flash", "tier": "medium", "context_tokens": 1000000, "max_output_tokens": 64000, "latency_ms": 1500,
           "input_usd_per_mtok": 0.3, "output_usd_per_mtok": 2.5, "cached_input_usd_per_mtok": 0.03,
           "prices": [{"from": "2027-01-01", "input_usd_per_mtok": 0.5, "output_usd_per_mtok": 3.0}]},
          {"id": "flash-b", "tier": "medium", "context_tokens": 200000, "max_output_tokens": 64000, "latency_ms": 900,
           "input_usd_per_mtok": 0.5, "output_usd_per_mtok": 3},
          {"id": "pro", "tier": "high", "context_tokens": 2000000, "max_output_tokens": 64000, "latency_ms": 4000,
           "input_usd_per_mtok": 2, "output_usd_per_mtok": 12},
          {"id": "old", "tier": "low", "context_tokens": 1000000, "max_output_tokens": 8000, "latency_ms": 100,
           "input_usd_per_mtok": 0.01, "output_usd_per_mtok": 0.01, "retires": "2026-12-01", "successor": "flash"}
         ]}
        """

    static func model(_ steps: [RecordingTransport.Step], clock: ManualClock, catalog: String = catalogJSON) throws -> (
        RoutedModel, RecordingTransport
    ) {
        let transport = RecordingTransport(steps)
        let routed = RoutedModel(
            router: ModelRouter(catalog: try ModelCatalog.parse(catalog), today: "2026-01-01"),
            client: GeminiClient(
                api: .developer(endpoint: AWSEndpoint(scheme: "https", host: "x", isCustom: true), key: "k"), transport: transport),
            clock: clock, sleeper: clock)
        return (routed, transport)
    }

    static func ok() throws -> RecordingTransport.Step { .respond(200, try GeminiTests.fixture("response-text.json")) }
    static func models(_ t: RecordingTransport) -> [String] {
        t.requests.map { String($0.path.dropFirst("/v1beta/models/".count).prefix { $0 != ":" }) }
    }
    static func pinned(_ id: String) -> ModelRequest { ModelRequest(nodeID: "n", prompt: "hi", hints: ["model": .string(id)]) }

    @Test("a pinned retired id is served by its successor, recorded, and priced at the call's date")
    func remap() async throws {
        for (pin, day, input) in [("old", Self.december, 0.3), ("gemini-2.5-flash", Self.march, 0.5)] {
            let (routed, transport) = try Self.model([try Self.ok()], clock: ManualClock(day))
            let r = try await routed.generate(Self.pinned(pin))
            #expect(Self.models(transport) == ["flash"] && r.model == "flash" && r.remappedFrom == pin)
            #expect(r.route?.contains("retired on") == true && r.route?.contains("remapped to its successor flash") == true)
            // response-text.json: 9 prompt tokens (4 of them cached), 12 output and 40 thought tokens
            let output = day == Self.march ? 3.0 : 2.5
            let cached = day == Self.march ? 0.5 : 0.03  // the 2027 price lists no cache price: no discount then
            let expected = (5 * input + 4 * cached + 52 * output) / 1_000_000
            #expect(abs(r.estimatedCostUSD! - expected) < 1e-15)
            #expect(r.pricedOn == ModelConfiguration.date(day))
        }
    }

    @Test("with on_retired refuse, a pinned retired id fails naming its date and successor, and nothing is sent")
    func refuse() async throws {
        let catalog = Self.catalogJSON.replacingOccurrences(of: #""on_retired": "remap""#, with: #""on_retired": "refuse""#)
        let (routed, transport) = try Self.model([try Self.ok()], clock: ManualClock(Self.december), catalog: catalog)
        await #expect {
            _ = try await routed.generate(Self.pinned("old"))
        } throws: { "\($0)".contains("retired on 2026-12-01; its successor is flash") && GeminiTests.code($0) == .modelError }
        let (remap, _) = try Self.model([try Self.ok()], clock: ManualClock(Self.december))
        await #expect { _ = try await remap.generate(Self.pinned("gone")) } throws: { "\($0)".contains("no serving successor") }
        #expect(transport.requests.isEmpty)
    }

    @Test(
        "a catalog with a broken lifecycle is refused at start-up",
        arguments: [
            (#""successor": "flash"}"#, #""successor": "nope"}"#, "is not a model of the catalog"),
            (#""retires": "2026-12-01""#, #""retires": "Dec 1""#, "retires must be YYYY-MM-DD"),
            (#""from": "2027-01-01""#, #""from": "2027-1-1""#, "prices[].from must be YYYY-MM-DD"),
            (#""cached_input_usd_per_mtok": 0.03"#, #""cached_input_usd_per_mtok": 1e300"#, "prices must be 0–1,000,000"),
            (#""latency_ms": 900,"#, #""latency_ms": 900, "successor": "old","#, "loops back"),
        ])
    func badCatalog(from: String, to: String, message: String) throws {
        var catalog = Self.catalogJSON.replacingOccurrences(of: from, with: to)
        if message == "loops back" {
            catalog = catalog.replacingOccurrences(of: #""successor": "flash"}"#, with: #""successor": "flash-b"}"#)
        }
        #expect(catalog != Self.catalogJSON)
        #expect { _ = try ModelCatalog.parse(catalog) } throws: { "\($0)".contains(message) }
    }

    static func throttle(_ retryAfter: String?, inBody: Bool = false) throws -> RecordingTransport.Step {
        guard let retryAfter else { return .respond(429, try GeminiTests.fixture("error-429.json")) }
        if inBody {
            let body =
                #"{"error": {"code": 429, "message": "quota", "status": "RESOURCE_EXHAUSTED", "details": ["#
                + #"{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "\#(retryAfter)s"}]}}"#
            return .respond(429, body)
        }
        return .respond(429, try GeminiTests.fixture("error-429.json"), [("Retry-After", retryAfter)])
    }

    @Test("a 429 with Retry-After rests that model for that long while the others serve", arguments: [false, true])
    func cooldown(inBody: Bool) async throws {
        let clock = ManualClock(Self.december)
        let (routed, transport) = try Self.model(
            [try Self.throttle("30", inBody: inBody), try Self.ok(), try Self.ok(), try Self.ok()], clock: clock)
        let request = ModelRequest(nodeID: "n", prompt: "hi")
        let first = try await routed.generate(request)
        #expect(first.model == "flash-b" && first.fallbacks == ["flash: Analemma.ModelThrottled, resting 30000 ms"])
        clock.advance(29_000)
        #expect(try await routed.generate(request).model == "flash-b")  // flash still resting: not even asked
        clock.advance(1_000)
        #expect(try await routed.generate(request).model == "flash")  // its rest is over
        #expect(Self.models(transport) == ["flash", "flash-b", "flash-b", "flash"] && clock.sleeps.isEmpty)
    }

    @Test("when every candidate rests from a throttle without a named time, a fresh call is ModelThrottled and sends nothing")
    func allResting() async throws {
        let clock = ManualClock(Self.december)
        let (routed, transport) = try Self.model([try Self.throttle(nil), try Self.throttle(nil), try Self.throttle(nil)], clock: clock)
        let request = ModelRequest(nodeID: "n", prompt: "hi")
        await #expect { _ = try await routed.generate(request) } throws: { GeminiTests.code($0) == .modelThrottled }
        #expect(transport.requests.count == 3)
        await #expect { _ = try await routed.generate(request) } throws: {
            GeminiTests.code($0) == .modelThrottled && "\($0)".contains("every candidate model is resting")
        }
        #expect(transport.requests.count == 3 && clock.sleeps.isEmpty, "the service asked for no time: no sleeping in Lambda")
    }

    @Test("mid-exchange a 429 waits for Retry-After on the same model within the wait budget, else the node fails")
    func midExchange() async throws {
        let clock = ManualClock(Self.december)
        let (routed, transport) = try Self.model([try Self.throttle("2"), try Self.ok()], clock: clock)
        var request = Self.pinned("flash")
        request.continuing = true
        let r = try await routed.generate(request)
        #expect(r.model == "flash" && Self.models(transport) == ["flash", "flash"] && clock.sleeps == [2_000] && r.waitedMillis == 2_000)
        let (late, lateTransport) = try Self.model([try Self.throttle("60"), try Self.ok()], clock: clock)
        request.waitBudgetMillis = 20_000
        await #expect { _ = try await late.generate(request) } throws: {
            GeminiTests.code($0) == .modelThrottled && "\($0)".contains("beyond the 20000 ms wait budget")
        }
        #expect(Self.models(lateTransport) == ["flash"] && clock.sleeps == [2_000])
    }

    @Test(
        "error answers are classified: throttled, server, budget, context too long, rejected",
        arguments: [
            (
                429, #"{"error": {"code": 429, "message": "Resource has been exhausted", "status": "RESOURCE_EXHAUSTED"}}"#,
                ModelFailure.Kind.throttled
            ),
            (503, #"{"error": {"code": 503, "message": "The model is overloaded.", "status": "UNAVAILABLE"}}"#, .server),
            (402, #"{"error": {"code": 402, "message": "Payment required"}}"#, .budget),
            (
                429, #"{"error": {"code": 429, "message": "Your prepayment credits are depleted.", "status": "RESOURCE_EXHAUSTED"}}"#,
                .budget
            ),
            (
                400,
                #"{"error": {"code": 400, "message": "The input token count (2000001) exceeds the maximum number of tokens allowed (1048576).", "status": "INVALID_ARGUMENT"}}"#,
                .contextTooLong
            ),
            (400, #"{"error": {"code": 400, "message": "API key not valid.", "status": "INVALID_ARGUMENT"}}"#, .rejected),
            (404, #"{"error": {"code": 404, "message": "models/x is not found", "status": "NOT_FOUND"}}"#, .rejected),
        ])
    func classes(status: Int, body: String, kind: ModelFailure.Kind) {
        #expect(ModelFailure.classify(status: status, headers: [], body: Data(body.utf8), model: "m").kind == kind)
    }

    @Test("a budget error ends the call on the first model; a prompt too long goes to a larger window only")
    func budgetAndContext() async throws {
        let clock = ManualClock(Self.december)
        let broke = #"{"error": {"code": 429, "message": "Your prepayment credits are depleted.", "status": "RESOURCE_EXHAUSTED"}}"#
        let (routed, transport) = try Self.model([.respond(429, broke), try Self.ok()], clock: clock)
        await #expect { _ = try await routed.generate(ModelRequest(nodeID: "n", prompt: "hi")) } throws: {
            GeminiTests.code($0) == .modelBudgetExhausted
        }
        #expect(Self.models(transport) == ["flash"])
        let long =
            #"{"error": {"code": 400, "message": "The input token count (1500000) exceeds the maximum number of tokens allowed (1048576).", "status": "INVALID_ARGUMENT"}}"#
        let (wide, wideTransport) = try Self.model([.respond(400, long), try Self.ok()], clock: clock)
        let r = try await wide.generate(ModelRequest(nodeID: "n", prompt: "hi"))
        #expect(r.model == "pro" && Self.models(wideTransport) == ["flash", "pro"], "flash-b's 200k window is skipped")
        let (none, _) = try Self.model([.respond(400, long), .respond(400, long)], clock: clock)
        await #expect { _ = try await none.generate(ModelRequest(nodeID: "n", prompt: "hi")) } throws: {
            GeminiTests.code($0) == .modelContextTooLong
        }
    }
}
