import Foundation
import Testing

@testable import Analemma

@Suite("Structured output: response_schema checked, sent as the SDK sends it, answers validated")
struct ResponseSchemaTests {
    static func json(_ text: String) throws -> JSONValue { try JSONValue(json: Data(text.utf8)) }

    static let schema = """
        {"type": "object", "properties": {
           "verdict": {"type": "string", "enum": ["approve", "reject"]},
           "score": {"type": "integer", "minimum": 0, "maximum": 10},
           "reasons": {"type": "array", "items": {"type": "string", "minLength": 1}, "minItems": 1, "maxItems": 3},
           "note": {"type": "string", "nullable": true}},
         "required": ["verdict", "score"], "propertyOrdering": ["verdict", "score", "reasons", "note"]}
        """

    @Test(
        "answers that break the schema are named by path and reason",
        arguments: [
            (#"{"verdict": "approve", "score": 7, "reasons": ["clear"], "note": null}"#, nil),
            (#"{"verdict": "maybe", "score": 7}"#, "$.verdict: \"maybe\" is not in enum"),
            (#"{"verdict": "approve"}"#, "$: required \"score\" is missing"),
            (#"{"verdict": "approve", "score": 7.5}"#, "$.score: expected integer"),
            (#"{"verdict": "approve", "score": 11}"#, "$.score: above maximum 10"),
            (#"{"verdict": "approve", "score": 1, "reasons": []}"#, "$.reasons: fewer than minItems 1"),
            (#"{"verdict": "approve", "score": 1, "reasons": ["a", ""]}"#, "$.reasons[1]: shorter than minLength 1"),
            (#"{"verdict": "approve", "score": 1, "note": 3}"#, "$.note: expected string"),
            (#"["approve"]"#, "$: expected object"),
        ])
    func violations(answer: String, expected: String?) throws {
        let found = ResponseSchema.violation(of: try Self.json(Self.schema), by: try Self.json(answer))
        if let expected { #expect(found?.hasPrefix(expected) == true, "\(found ?? "nil")") } else { #expect(found == nil) }
    }

    @Test(
        "a schema Gemini would not take is refused when the workflow is validated",
        arguments: [
            (#"{"type": "object", "oneOf": []}"#, "\"oneOf\" is not a field of Gemini's Schema"),
            (#"{"$schema": "x", "type": "object"}"#, "\"$schema\" is not a field"),
            (#"{"type": ["string", "null"]}"#, "type must be one of"),
            (#"{"type": "object", "properties": {"a": {"type": "date"}}}"#, "response_schema.properties.a: type must be one of"),
            (
                #"{"type": "array", "items": {"type": "string", "maxLength": 1e300}}"#,
                "response_schema.items: maxLength must be a whole number"
            ),
            (#"{"type": "string", "pattern": "("}"#, "pattern must be a regular expression"),
            (#"{"type": "object", "required": [1]}"#, "required must be a list of strings"),
        ])
    func refusedSchemas(schema: String, message: String) throws {
        #expect { try ResponseSchema.check(try Self.json(schema)) } throws: { "\($0)".contains(message) }
    }

    @Test("on the wire every type is upper case, as google-genai sends it, nested ones included")
    func wire() throws {
        let sent = ResponseSchema.wire(try Self.json(Self.schema))
        #expect(try sent.value(at: "type") == .string("OBJECT"))
        #expect(try sent.value(at: "properties.reasons.items.type") == .string("STRING"))
        #expect(try sent.value(at: "properties.score.maximum") == .number(10))
        #expect(try ResponseSchema.violation(of: sent, by: Self.json(#"{"verdict": "reject", "score": 0}"#)) == nil)
    }

    @Test("a schema node writes the parsed answer; a non-conforming one is ModelNonConforming, which heals")
    func nodeAnswer() throws {
        let node = WorkflowDefinition.Node(id: "judge", type: "llm")
        let schema = try Self.json(Self.schema)
        let good = ModelResponse(text: #"{"verdict": "approve", "score": 9}"#, model: "flash", inputTokens: 1, outputTokens: 1)
        #expect(try NodeExecutor.answer(good, schema: schema, node: node) == .object(["verdict": .string("approve"), "score": .number(9)]))
        #expect(try NodeExecutor.answer(good, schema: nil, node: node) == .string(good.text))
        for text in ["Sure! Here is the JSON", #"{"verdict": "approve", "score": "nine"}"#] {
            let bad = ModelResponse(text: text, model: "flash", inputTokens: 1, outputTokens: 1)
            #expect { _ = try NodeExecutor.answer(bad, schema: schema, node: node) } throws: {
                ($0 as? AnalemmaError)?.code == .modelNonConforming && "\($0)".contains("does not conform to response_schema")
            }
        }
        #expect(ErrorCode.modelNonConforming.disposition == .heal)
    }
}
