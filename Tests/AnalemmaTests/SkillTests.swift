import Analemma
import Foundation
import Testing

@Suite("Skills, templates and JSON paths")
struct SkillTests {
    static func fields(_ json: String) throws -> [String: Data] { try JSONScanner.fields(of: Data(json.utf8)) }

    static func input(_ config: String, fields: String = "{}", writes: [String] = ["out"]) throws -> SkillInput {
        let c = try JSONDecoder().decode([String: JSONValue].self, from: Data(config.utf8))
        return SkillInput(nodeID: "n", config: c, fields: try Self.fields(fields), writes: writes)
    }

    static func text(_ d: Data?) -> String { d.map { String(decoding: $0, as: UTF8.self) } ?? "<nil>" }

    @Test(
        "paths select into objects and arrays; absent is nil",
        arguments: [
            ("a", #"{"b":1}"#), ("a.b", "1"), ("list[1].x", #""y""#), ("list[5]", "<nil>"), ("a.missing", "<nil>"), ("", "<root>"),
        ])
    func paths(path: String, expected: String) throws {
        let v = try JSONValue(json: Data(#"{"a":{"b":1},"list":[{"x":"z"},{"x":"y"}]}"#.utf8))
        let found = try v.value(at: path)
        if expected == "<root>" { #expect(found == v) } else { #expect(found.map { Self.text($0.jsonData()) } ?? "<nil>" == expected) }
    }

    @Test("malformed paths are errors naming the path", arguments: ["a[", "a[x]", "a..b", "[-1]"])
    func badPaths(path: String) {
        #expect { _ = try JSONValue.null.value(at: path) } throws: { "\($0)".contains(path.debugDescription) }
    }

    @Test("integral numbers stay integers; fractions keep their digits")
    func numbers() throws {
        #expect(Self.text(try JSONValue(json: Data("[3, 2.5, -0, 1e3]".utf8)).jsonData()) == "[3,2.5,0,1000]")
    }

    @Test("templates insert strings as text and other values as JSON; missing fields render empty")
    func template() throws {
        let t = try Template("Hi {{ user.name }}, tags={{tags}}, n={{n}}, gone=[{{gone}}]")
        #expect(t.fields == ["user", "tags", "n", "gone"])
        let out = try t.render(try Self.fields(#"{"user":{"name":"Ada"},"tags":["a","b"],"n":7}"#))
        #expect(out == #"Hi Ada, tags=["a","b"], n=7, gone=[]"#)
        #expect(throws: AnalemmaError.self) { _ = try Template("oops {{open") }
        #expect(throws: AnalemmaError.self) { _ = try Template("empty {{ }}") }
    }

    @Test("template skill writes a JSON string into its target")
    func templateSkill() async throws {
        let out = try await TemplateSkill().run(try Self.input(#"{"template":"x={{a}}"}"#, fields: #"{"a":"\"q\""}"#))
        #expect(Self.text(out["out"]) == #""x=\"q\"""#)
    }

    @Test("json_transform resolves $.paths, renders templates, keeps literals and $$ escapes")
    func transform() async throws {
        let config =
            #"{"into":"out","value":{"t":"$.doc.title","n":"$.doc.items[1]","s":"{{doc.title}}!","lit":5,"esc":"$$.x","none":"$.absent"}}"#
        let out = try await JSONTransformSkill().run(
            try Self.input(config, fields: #"{"doc":{"title":"T","items":[1,2]}}"#))
        let v = try JSONValue(json: out["out"]!)
        #expect(try v.value(at: "t") == .string("T"))
        #expect(try v.value(at: "n") == .number(2))
        #expect(try v.value(at: "s") == .string("T!"))
        #expect(try v.value(at: "lit") == .number(5))
        #expect(try v.value(at: "esc") == .string("$.x"))
        #expect(try v.value(at: "none") == .null)
    }

    @Test("json_extract copies a path or its default")
    func extract() async throws {
        let hit = try await JSONExtractSkill().run(try Self.input(#"{"from":"d","path":"a[0]"}"#, fields: #"{"d":{"a":["x"]}}"#))
        #expect(Self.text(hit["out"]) == #""x""#)
        let miss = try await JSONExtractSkill().run(try Self.input(#"{"from":"d","path":"b","default":0}"#, fields: #"{"d":{}}"#))
        #expect(Self.text(miss["out"]) == "0")
    }

    @Test("the fail skill fails exactly when its condition holds")
    func failSkill() async throws {
        let config = #"{"when":{"field":"mode","equals":"break"},"message":"boom"}"#
        await #expect {
            _ = try await FailSkill().run(try Self.input(config, fields: #"{"mode":"break"}"#))
        } throws: { ($0 as? AnalemmaError)?.code == .skillFailed && "\($0)".contains("boom") }
        let ok = try await FailSkill().run(try Self.input(config, fields: #"{"mode":"fine"}"#))
        #expect(Self.text(ok["out"]) == #""ok""#)
    }

    @Test("the registry names unknown skills and the known ones")
    func registry() {
        #expect { _ = try SkillRegistry.standard.skill("nope", node: "n1") } throws: {
            "\($0)".contains("\"n1\"") && "\($0)".contains("json_transform")
        }
        #expect(SkillRegistry.standard.names == ["fail", "json_extract", "json_transform", "template"])
    }
}
