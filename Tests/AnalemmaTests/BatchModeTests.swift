import Foundation
import Testing

@testable import Analemma

/// Batch maps (`config.batch`): the Batch API's wire format, the router's submission and collection at the batch
/// price, and what a batch map may be.
@Suite("Batch mode")
struct BatchModeTests {
    static func operation(state: String, responses: String? = nil) -> String {
        let output = responses.map { #","output":{"inlinedResponses":{"inlinedResponses":[\#($0)]}}"# } ?? ""
        return
            #"{"name":"batches/job-1","metadata":{"@type":"type.googleapis.com/google.ai.generativelanguage.v1beta.GenerateContentBatch","name":"batches/job-1","model":"models/flash","state":"\#(state)"\#(output)}}"#
    }

    static func answer(_ key: Int, _ text: String, tokens: (Int, Int) = (10, 4)) -> String {
        #"{"response":{"candidates":[{"content":{"role":"model","parts":[{"text":"\#(text)"}]},"finishReason":"STOP"}],"usageMetadata":{"promptTokenCount":\#(tokens.0),"candidatesTokenCount":\#(tokens.1)}},"metadata":{"key":"\#(key)"}}"#
    }

    static func requests(_ n: Int) -> [ModelRequest] {
        (0..<n).map { ModelRequest(nodeID: "summarise", prompt: "item \($0)", hints: ["complexity": .string("medium")]) }
    }

    @Test("the create body holds every request inline, keyed by its index, in order")
    func body() throws {
        let body = GeminiBatch.body(
            displayName: "map m",
            requests: [.init(contents: [GeminiWire.Request.userTurn("a")]), .init(contents: [GeminiWire.Request.userTurn("b")])])
        let doc = try JSONValue(json: body)
        #expect(try doc.value(at: "batch.displayName") == .string("map m"))
        guard case .array(let items)? = try doc.value(at: "batch.inputConfig.requests.requests") else {
            Issue.record("no inline requests")
            return
        }
        #expect(try items.map { try $0.value(at: "metadata.key") } == [.string("0"), .string("1")])
        #expect(try items[1].value(at: "request.contents[0].parts[0].text") == .string("b"))
    }

    @Test("answers are matched to requests by key, whatever their order; an item error stays that item's")
    func parse() throws {
        let job = try GeminiBatch.parse(
            Data(
                Self.operation(
                    state: "BATCH_STATE_SUCCEEDED",
                    responses: Self.answer(1, "one") + "," + Self.answer(0, "zero")
                        + #",{"error":{"code":400,"message":"bad item"},"metadata":{"key":"2"}}"#
                ).utf8))
        #expect(job.state == .succeeded && job.name == "batches/job-1")
        guard case .response(let zero)? = job.answers[0], case .response(let one)? = job.answers[1] else {
            Issue.record("answers not keyed")
            return
        }
        #expect(zero.text == "zero" && one.text == "one")
        #expect(job.answers[2] == .error("bad item"))
    }

    @Test(
        "a job name that is not batches/{id} never reaches a URL",
        arguments: ["batches/../models/x", "operations/1", "batches/", "batches/a b"])
    func names(_ name: String) {
        #expect(throws: AnalemmaError.self) { try GeminiBatch.checkName(name) }
    }

    @Test("two answers claiming one key are refused")
    func duplicateKeys() {
        #expect(throws: AnalemmaError.self) {
            try GeminiBatch.parse(
                Data(Self.operation(state: "BATCH_STATE_SUCCEEDED", responses: Self.answer(0, "a") + "," + Self.answer(0, "b")).utf8))
        }
    }

    @Test("a submission goes to one routed model; its answers are priced at half the interactive price on the day it was submitted")
    func submitAndCollect() async throws {
        let clock = ManualClock(ModelLifecycleTests.december)
        let (routed, transport) = try ModelLifecycleTests.model(
            [
                .respond(200, Self.operation(state: "BATCH_STATE_PENDING")),
                .respond(200, Self.operation(state: "BATCH_STATE_RUNNING")),
                .respond(200, Self.operation(state: "BATCH_STATE_SUCCEEDED", responses: Self.answer(0, "a") + "," + Self.answer(1, "b"))),
            ], clock: clock)
        let ticket = try await routed.submit(Self.requests(2), name: "m")
        #expect(ticket.job == "batches/job-1" && ticket.requests == 2 && ticket.pricedOn == "2026-12-02")
        #expect(transport.requests[0].path == "/v1beta/models/\(ticket.model):batchGenerateContent")
        #expect(try await routed.collect(ticket) == nil)  // still running
        clock.advance(400 * 86_400_000)  // collected long after: still the submission day's prices
        let answers = try #require(try await routed.collect(ticket))
        #expect(transport.requests.map(\.method) == ["POST", "GET", "GET"] && transport.requests[2].path == "/v1beta/batches/job-1")
        let catalog = try ModelCatalog.parse(ModelLifecycleTests.catalogJSON)
        let model = try #require(catalog.models.first { $0.id == ticket.model })
        let full = model.cost(inputTokens: 10, outputTokens: 4, on: "2026-12-02")
        for a in answers {
            let r = try a.get()
            #expect(r.estimatedCostUSD == full * 0.5 && r.pricedOn == "2026-12-02")
        }
        #expect(try answers.map { try $0.get().text } == ["a", "b"])
    }

    @Test(
        "a job that failed, was cancelled or expired is ModelBatchFailed",
        arguments: ["BATCH_STATE_FAILED", "BATCH_STATE_CANCELLED", "BATCH_STATE_EXPIRED"])
    func failedJob(_ state: String) async throws {
        let (routed, _) = try ModelLifecycleTests.model(
            [.respond(200, Self.operation(state: state))], clock: ManualClock(ModelLifecycleTests.december))
        let ticket = BatchTicket(job: "batches/job-1", model: "flash", route: "r", pricedOn: "2026-12-02", requests: 1)
        let error = await #expect(throws: AnalemmaError.self) { try await routed.collect(ticket) }
        #expect(error?.code == .modelBatchFailed)
    }

    @Test("a missing answer fails only its item")
    func missingAnswer() async throws {
        let (routed, _) = try ModelLifecycleTests.model(
            [.respond(200, Self.operation(state: "BATCH_STATE_SUCCEEDED", responses: Self.answer(0, "a")))],
            clock: ManualClock(ModelLifecycleTests.december))
        let ticket = BatchTicket(job: "batches/job-1", model: "flash", route: "r", pricedOn: "2026-12-02", requests: 2)
        let answers = try #require(try await routed.collect(ticket))
        #expect((try? answers[0].get())?.text == "a")
        #expect(throws: AnalemmaError.self) { try answers[1].get() }
    }

    @Test("Vertex is refused before anything is sent: its batch prediction reads from Cloud Storage or BigQuery")
    func vertexRefused() async throws {
        let transport = RecordingTransport([])
        let client = GeminiClient(
            api: .vertex(endpoint: AWSEndpoint(scheme: "https", host: "x", isCustom: true), project: "p", location: "global", token: "t"),
            transport: transport)
        let error = await #expect(throws: AnalemmaError.self) {
            try await client.createBatch(model: "flash", displayName: "m", requests: [.init(contents: [])])
        }
        #expect(error?.code == .invalidConfiguration && error?.message.contains("Cloud Storage") == true)
        #expect(transport.requests.isEmpty)
    }

    static func mapNode(_ item: String, batch: String = "true") throws -> WorkflowDefinition.Node {
        let json = """
            {"workflow_id": "w", "version": 1, "entry": "m", "nodes": [{"id": "m", "type": "map", "reads": ["xs"], "writes": ["out"],
             "config": {"items": "xs", "batch": \(batch), "workflow": {"entry": "a", "nodes": [\(item)], "edges": []}}}], "edges": []}
            """
        return try #require(try WorkflowDefinition.decode(Data(json.utf8)).nodes.first)
    }

    static let llm = #"{"id": "a", "type": "llm", "reads": ["item"], "writes": ["answer"], "config": {"prompt": "{{item}}"}}"#

    @Test(
        "a batch map's item is exactly one llm call without tools or explicit caching",
        arguments: [
            #"{"id": "a", "type": "skill", "reads": ["item"], "writes": ["answer"], "config": {"skill": "echo"}}"#,
            #"{"id": "a", "type": "llm", "reads": ["item"], "writes": ["answer"], "config": {"prompt": "{{item}}", "tools": ["json_extract"]}}"#,
            #"{"id": "a", "type": "llm", "reads": ["item"], "writes": ["answer"], "config": {"prompt": "{{item}}", "cache_ttl_seconds": 600}}"#,
        ])
    func batchable(_ item: String) throws {
        let executor = NodeExecutor()
        #expect(throws: AnalemmaError.self) { try MapSpec(node: try Self.mapNode(item), executor: executor) }
        #expect(throws: AnalemmaError.self) { try MapSpec(node: try Self.mapNode(Self.llm, batch: "\"yes\""), executor: executor) }
        #expect(try MapSpec(node: try Self.mapNode(Self.llm), executor: executor).batch)
    }

    @Test("polls start at the node's pace and slow to a tenth of the time run, at most ten minutes")
    func pace() {
        let ticket = BatchTicket(job: "batches/j", model: "flash", route: "r", pricedOn: "2026-12-02", requests: 1)
        let b = Cursor.Batch(
            node: "m", ticket: ticket, bucket: "b", key: "k", prefix: "p", items: 1, chunks: 1, chunkSize: 1, pollSeconds: 5,
            submittedAtMillis: 0)
        #expect(b.nextWait(nowMillis: 0) == 5 && b.nextWait(nowMillis: 30_000) == 5)
        #expect(b.nextWait(nowMillis: 1_000_000) == 100 && b.nextWait(nowMillis: 86_400_000) == 600)
        #expect(b.nextWait(nowMillis: -5) == 5)
        // a day-long job is polled a few hundred times: far under Step Functions' 25,000 history events
        var now: Int64 = 0
        var polls = 0
        while now < 86_400_000 {
            now += Int64(b.nextWait(nowMillis: now)) * 1000
            polls += 1
        }
        #expect(polls < 300)
    }
}
