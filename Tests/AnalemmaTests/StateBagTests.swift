import Analemma
import Foundation
import Testing

@Suite("JSON scanning without decoding")
struct JSONScannerTests {
    @Test(
        "valid documents pass",
        arguments: [
            #"{}"#, #"[]"#, #"0"#, #"-1.5e+10"#, #""a\"\\\/\b\f\n\r\t\u00e9""#, #"{"a":[1,{"b":null}],"c":true,"d":false}"#,
            " \n[1, 2 ,3]\t",
        ])
    func valid(text: String) throws {
        try JSONScanner.validate(Data(text.utf8))
    }

    @Test(
        "invalid documents fail with the offset of the problem",
        arguments: [
            (#"{"a":1,}"#, 7), (#"[1 2]"#, 3), (#"01"#, 1), (#"{"a" 1}"#, 5), ("\"tab\there\"", 4), (#"tru"#, 0), (#"[1]x"#, 3),
            (#"1."#, 2),
        ])
    func invalid(text: String, offset: Int) {
        #expect(throws: JSONScanner.Failure.self) { try JSONScanner.validate(Data(text.utf8)) }
        #expect((try? JSONScanner.validate(Data(text.utf8))) == nil)
        do { try JSONScanner.validate(Data(text.utf8)) } catch let f as JSONScanner.Failure { #expect(f.offset == offset, "\(f)") } catch {}
    }

    @Test("top-level members come back as raw byte ranges, escaped keys unescaped")
    func members() throws {
        let doc = Data(#"{"a": {"x": [1, 2]}, "b\u00e9": "s", "c":3 }"#.utf8)
        let found = try JSONScanner.members(of: doc)
        #expect(found.map(\.key) == ["a", "bé", "c"])
        #expect(found.map { String(decoding: doc[$0.range], as: UTF8.self) } == [#"{"x": [1, 2]}"#, #""s""#, "3"])
    }

    @Test("duplicate keys and non-objects are refused")
    func refusals() {
        #expect(throws: JSONScanner.Failure.self) { try JSONScanner.members(of: Data(#"{"a":1,"a":2}"#.utf8)) }
        #expect(throws: JSONScanner.Failure.self) { try JSONScanner.members(of: Data("[1]".utf8)) }
    }
}

@Suite("StateBag: kernel-protected fields and raw JSON values")
struct StateBagTests {
    func bag() throws -> StateBag {
        try StateBag(executionID: "ex-1", ownerID: "owner-1", traceID: "Root=1-a", input: Data(#"{"topic":"tides","n":1}"#.utf8))
    }

    @Test("the kernel sets identity fields; input members are kept as raw bytes")
    func creation() throws {
        let state = try bag()
        #expect(state.string("owner_id") == "owner-1" && state.string("execution_id") == "ex-1")
        #expect(state["topic"] == Data(#""tides""#.utf8))
        #expect(
            String(decoding: state.jsonObject(), as: UTF8.self)
                == #"{"execution_id":"ex-1","n":1,"owner_id":"owner-1","topic":"tides","trace_id":"Root=1-a"}"#)
    }

    @Test(
        "no source but the kernel may set or remove a protected field; the error names field and source",
        arguments: [
            StateBag.Source.node("summarise"), .skill("web_search"), .human("approve-1"), .mapChild(7),
        ])
    func protected(source: StateBag.Source) throws {
        var state = try bag()
        let before = state
        #expect {
            try state.merge(json: Data(#"{"topic":"new","owner_id":"attacker"}"#.utf8), from: source)
        } throws: { error in
            guard let e = error as? AnalemmaError else { return false }
            return e.code == .protectedField && e.message.contains("\"owner_id\"") && e.message.contains(source.description)
        }
        #expect(state == before, "a refused merge changes nothing, not even the allowed fields")
        #expect(throws: AnalemmaError.self) { try state.remove("trace_id", from: source) }
        try state.merge(["segment_index": Data("3".utf8)], from: .kernel)
        #expect(state["segment_index"] == Data("3".utf8))
    }

    @Test("invalid JSON values are refused by name, atomically")
    func invalidValue() throws {
        var state = try bag()
        let before = state
        #expect {
            try state.merge(["ok": Data("1".utf8), "broken": Data("{nope".utf8)], from: .node("n1"))
        } throws: { ($0 as? AnalemmaError)?.message.contains("\"broken\"") == true }
        #expect(state == before)
        #expect(throws: AnalemmaError.self) { try state.merge(json: Data("[1,2]".utf8), from: .node("n1")) }
    }

    @Test("delta lists changed, added and removed fields by bytes")
    func delta() throws {
        let old = try bag()
        var new = old
        try new.merge(json: Data(#"{"n":2,"extra":[1]}"#.utf8), from: .node("n"))
        try new.remove("topic", from: .node("n"))
        let d = new.delta(from: old)
        #expect(d.changed == ["n", "extra"] && d.removed == ["topic"])
    }
}

@Suite("State pointers: the hydration security boundary")
struct StatePointerTests {
    @Test("a pointer inside the owner's prefix in the state bucket is accepted")
    func accepted() throws {
        let p = try StatePointer(parsing: "s3://state/owners/o-1/blocks/abc", stateBucket: "state", ownerID: "o-1")
        #expect(p.key == "owners/o-1/blocks/abc" && p.description == "s3://state/owners/o-1/blocks/abc")
        #expect(try StatePointer(bucket: "state", ownerID: "o-1", path: "blocks/abc") == p)
    }

    @Test(
        "forged pointers are refused, naming why",
        arguments: [
            ("s3://other/owners/o-1/blocks/abc", "not the state bucket"),
            ("s3://state/owners/o-2/blocks/abc", "outside the owner's prefix"),
            ("s3://state/owners/o-1x/blocks/abc", "outside the owner's prefix"),
            ("s3://state/owners/o-1/../o-2/blocks/abc", "not allowed"),
            ("s3://state/owners/o-1/blocks/%2e%2e/x", "encoded"),
            ("s3://state/owners/o-1//x", "not allowed"),
            ("https://state/owners/o-1/x", "not an s3:// URI"),
            ("s3://state", "no key"),
        ])
    func forged(pointer: String, why: String) {
        #expect {
            _ = try StatePointer(parsing: pointer, stateBucket: "state", ownerID: "o-1")
        } throws: { error in
            guard let e = error as? AnalemmaError else { return false }
            return e.code == .forgedPointer && e.message.contains(why)
        }
    }

    @Test("owner ids that could escape a prefix are refused", arguments: ["", "..", "a/b", "a b", String(repeating: "x", count: 129)])
    func badOwner(owner: String) {
        #expect(throws: AnalemmaError.self) { _ = try StatePointer(bucket: "state", ownerID: owner, path: "x") }
    }
}
