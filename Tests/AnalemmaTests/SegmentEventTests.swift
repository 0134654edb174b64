import Foundation
import Testing

@testable import Analemma

@Suite("Segment runner events and payloads")
struct SegmentEventTests {
    static let kernel =
        #"{"execution_id":"e","owner_id":"o","trace_id":"t","manifest_id":"m","version":3,"cursor":{"status":"wait_human","workflow_id":"w","workflow":"s3://b/owners/o/workflows/x.json","step":2,"segment":1,"hitp":{"node":"review","timeout_seconds":60},"traversals":{}}}"#

    @Test(
        "malformed events are InvalidEvent naming what is wrong",
        arguments: [
            (#"[]"#, "not a JSON object"), (#"{"action":"explode"}"#, "\"action\" must be one of"),
            (#"{"action":"run"}"#, "needs \"kernel\""), (#"{"action":"initialize","start":{}}"#, "execution_id and start"),
            (#"{"action":"run","kernel":{"owner_id":"o"}}"#, "not a kernel payload"),
        ])
    func malformed(event: String, expected: String) {
        #expect { _ = try SegmentEvent.parse(Data(event.utf8)) } throws: {
            ($0 as? AnalemmaError)?.code == .invalidEvent && "\($0)".contains(expected)
        }
    }

    @Test("outside values arrive raw: the human response and the Catch cause")
    func raw() throws {
        let big = "123456789012345678901234567890"  // beyond Double: must survive byte for byte
        let resume = try SegmentEvent.parse(
            Data(#"{"action":"resume","kernel":\#(Self.kernel.dropLast()),"human_response":{"approval":\#(big)}}}"#.utf8))
        guard case .resume(_, let response?) = resume else {
            Issue.record("not a resume with a response: \(resume)")
            return
        }
        #expect(String(decoding: response, as: UTF8.self) == #"{"approval":\#(big)}"#)
        let fail = try SegmentEvent.parse(
            Data(#"{"action":"fail","kernel":\#(Self.kernel.dropLast()),"error_info":{"Error":"States.Timeout","Cause":"late"}}}"#.utf8))
        guard case .fail(_, let caught) = fail else {
            Issue.record("not a fail: \(fail)")
            return
        }
        #expect(caught == SegmentEvent.Caught(type: "States.Timeout", cause: "late"))
    }

    @Test("a Heal step whose own invocation died is reported as that death, the healed error beside it")
    func healDeathReported() throws {
        let died = #"{\"errorType\":\"Runtime.ExitError\",\"errorMessage\":\"Runtime exited with error: signal: killed\"}"#
        let original = #"{\"errorType\":\"Analemma.SkillFailed\",\"errorMessage\":\"node \\\"fetch\\\" failed\"}"#
        let event =
            #"{"action":"fail","kernel":\#(Self.kernel.dropLast()),"error_info":{"Error":"Analemma.SkillFailed","Cause":"\#(original)"},"#
            + #""heal_error":{"Error":"Runtime.ExitError","Cause":"\#(died)"}}}"#
        guard case .fail(_, let caught?) = try SegmentEvent.parse(Data(event.utf8)) else {
            Issue.record("not a fail with a caught error")
            return
        }
        #expect(caught.type == "Runtime.ExitError")
        #expect(caught.cause?.hasPrefix("the heal step failed: Runtime exited with error: signal: killed") == true)
        #expect(caught.cause?.contains(#"healing Analemma.SkillFailed: node "fetch" failed"#) == true)
    }

    @Test(
        "each action parses into its own case, carrying only what that action uses",
        arguments: [
            (#"{"action":"run","kernel":K}"#, SegmentEvent.Action.run),
            (#"{"action":"finalize","kernel":K}"#, .finalize),
            (#"{"action":"ask","task_token":"tok","kernel":K}"#, .ask),
            (#"{"action":"heal","kernel":\#(kernel.dropLast()),"error_info":{"Error":"Analemma.SkillFailed"}}}"#, .heal),
            (#"{"action":"initialize","execution_id":"arn:x","start":{}}"#, .initialize),
        ])
    func cases(event: String, action: SegmentEvent.Action) throws {
        let e = try SegmentEvent.parse(Data(event.replacingOccurrences(of: ":K}", with: ":\(Self.kernel)}").utf8))
        #expect(e.action == action)
        #expect((e.kernel == nil) == (action == .initialize))
    }

    @Test(
        "an action missing what it needs is refused at parse time, naming it",
        arguments: [
            (#"{"action":"ask","kernel":K}"#, "ask needs task_token"),
            (#"{"action":"heal","kernel":K}"#, "heal needs kernel.error_info"),
            (#"{"action":"map_done","kernel":K}"#, "map_done needs kernel.map_agg.stats"),
            (#"{"action":"map_chunk"}"#, "map_chunk needs item"),
            (#"{"action":"map_chunk","item":{"chunk":{}}}"#, "not a Distributed Map item"),
            (#"{"action":"ask","task_token":7,"kernel":K}"#, "task_token must be a string"),
        ])
    func incomplete(event: String, expected: String) {
        #expect { _ = try SegmentEvent.parse(Data(event.replacingOccurrences(of: ":K}", with: ":\(Self.kernel)}").utf8)) } throws: {
            ($0 as? AnalemmaError)?.code == .invalidEvent && "\($0)".contains(expected)
        }
    }

    static let review = WorkflowDefinition.Node(id: "review", type: "hitp", writes: ["approval", "notes"])

    @Test(
        "a human answer may set only the node's declared writes, never a protected field",
        arguments: [
            (#"{"owner_id":"mallory","approval":"yes"}"#, ErrorCode.protectedField, "owner_id"),
            (#"{"cursor":{}}"#, .protectedField, "cursor"),
            (#"{"approval":"yes","admin":true}"#, .invalidHumanResponse, "admin"),
            (#""yes""#, .invalidHumanResponse, "JSON object"),
        ])
    func refused(answer: String, code: ErrorCode, names: String) {
        #expect { _ = try SegmentRunnerService.answer(Data(answer.utf8), node: Self.review) } throws: {
            ($0 as? AnalemmaError)?.code == code && "\($0)".contains(names) && "\($0)".contains("\"review\"")
        }
    }

    @Test("an accepted answer is kept as raw fields")
    func accepted() throws {
        let fields = try SegmentRunnerService.answer(Data(#"{"approval":"yes","notes":null}"#.utf8), node: Self.review)
        #expect(fields.mapValues { String(decoding: $0, as: UTF8.self) } == ["approval": #""yes""#, "notes": "null"])
    }

    @Test("a Lambda Cause yields its errorMessage; other causes stay text")
    func causes() {
        #expect(SegmentRunnerService.message(fromCause: #"{"errorType":"X","errorMessage":"boom"}"#) == "boom")
        #expect(SegmentRunnerService.message(fromCause: "plain") == "plain")
        #expect(SegmentRunnerService.message(fromCause: "") == nil)
    }

    @Test("the trace id is the X-Ray root, else stable per execution")
    func traceIDs() {
        #expect(SegmentRunnerService.traceID("Root=1-abc-def;Parent=1;Sampled=0", executionID: "e") == "1-abc-def")
        let derived = SegmentRunnerService.traceID(nil, executionID: "e")
        #expect(derived == SegmentRunnerService.traceID(nil, executionID: "e") && derived.hasPrefix("analemma-"))
    }

    @Test("infrastructure errors map to the codes the state machine retries or reports")
    func classify() {
        let throttled = AWSError(service: "s3", code: "SlowDown", message: "", status: 503, cancellationReasons: [])
        #expect((SegmentRunnerService.classify(throttled) as? AnalemmaError)?.code == .transient)
        let conflict = ManifestStore.HeadConflict(executionID: "e", expectedVersion: 2)
        #expect((SegmentRunnerService.classify(conflict) as? AnalemmaError)?.code == .concurrentWrite)
        let denied = AWSError(service: "s3", code: "AccessDenied", message: "", status: 403, cancellationReasons: [])
        #expect(SegmentRunnerService.classify(denied) is AWSError)
    }

    @Test("a kernel payload is small whatever the workflow: identity, pointers and a cursor")
    func payloadSize() throws {
        var k = try JSONDecoder().decode(KernelPayload.self, from: Data(Self.kernel.utf8))
        for i in 0..<50 { k.cursor.traversals["node\(i)->node\(i + 1)"] = 3 }
        #expect(try k.encoded().count < 4096)
    }
}
