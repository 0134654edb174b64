import Foundation
import Testing

@testable import Analemma

/// Multimodal `llm` inputs: state fields as parts, their MIME types checked against their bytes, placed inline or
/// through the Files API (Developer API), refused on Vertex when too large for inline data.
@Suite("Media parts")
struct MediaTests {
    static let png = Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) + Data(repeating: 7, count: 56)
    static func field(_ mime: String, _ data: Data) -> Data {
        JSONValue.object(["mime_type": .string(mime), "data": .string(data.base64EncodedString())]).jsonData()
    }
    static let node = WorkflowDefinition.Node(
        id: "look", type: "llm", reads: ["shot", "css"], writes: ["fix"],
        config: [
            "prompt": .string("What is wrong?"),
            "parts": .array([.object(["field": .string("shot")]), .object(["field": .string("css"), "mime_type": .string("text/css")])]),
        ])

    @Test("a PNG field and a CSS string become parts before the prompt; the wire carries inlineData in base64")
    func parts() async throws {
        let model = ScriptedModel([ModelResponse(text: "fix it", model: "flash", inputTokens: 300, outputTokens: 2)])
        _ = try await NodeExecutor(model: model).run(
            Self.node, fields: ["shot": Self.field("image/png", Self.png), "css": Data(#"".a{color:red}""#.utf8)])
        let turn = try #require(model.requests.first?.turns.last)
        #expect(
            turn
                == .parts([
                    .media(MediaPart(field: "shot", mimeType: "image/png", data: Self.png)),
                    .media(MediaPart(field: "css", mimeType: "text/css", data: Data(".a{color:red}".utf8))), .text("What is wrong?"),
                ]))
        let wire = try JSONValue(json: GeminiWire.Request.turn(turn))
        #expect(try wire.value(at: "parts[0].inlineData.data") == .string(Self.png.base64EncodedString()))
        let binary = MediaPart(field: "b", mimeType: "image/png", data: Data([0xFB, 0xFF, 0xBF]))
        #expect(binary.urlSafeBase64 == "-_-_" && Data(binary.data.base64EncodedString().utf8) == Data("+/+/".utf8))
        #expect(try wire.value(at: "parts[1].inlineData.mimeType") == .string("text/css"))
        #expect(try wire.value(at: "parts[2].text") == .string("What is wrong?"))
    }

    @Test(
        "a field that is not what it claims is refused, naming the field",
        arguments: [
            (field("image/png", Data("GIF89a....".utf8)), nil, "no PNG signature"), (field("image/gif", png), nil, "not one of"),
            (Data(#"{"mime_type":"image/png","data":"%%%"}"#.utf8), nil, "not base64"),
            (Data(#"{"mime_type":"image/png","data":"iVBO","name":"x"}"#.utf8), nil, "nothing else"),
            (Data(#""plain text""#.utf8), nil, "give the part a text mime_type"),
            (field("image/jpeg", Data([0xFF, 0xD8, 0xFF, 1])), "image/png", "declares"), (Data("3".utf8), nil, "must be"),
            (field("image/png", Data()), nil, "1 byte"), (field("text/plain", Data([0xC3, 0x28])), nil, "not UTF-8"),
        ] as [(Data, String?, String)])
    func refused(value: Data, declared: String?, why: String) {
        #expect {
            _ = try MediaPart(field: "shot", value: value, declared: declared, node: "look")
        } throws: { ($0 as? AnalemmaError)?.code == .invalidMedia && "\($0)".contains(why) && "\($0)".contains("\"shot\"") }
    }

    @Test(
        "a parts list that could not run is refused when the workflow is validated",
        arguments: [
            (JSONValue.array([]), "1 to 16"), (.array([.object(["field": .string("other")])]), "does not read"),
            (.array([.object(["field": .string("shot"), "mime_type": .string("video/avi")])]), "mime_type must be"),
            (.array([.object(["text": .string("{{nope}}")])]), "does not declare it in reads"),
            (.array([.object(["field": .string("shot"), "text": .string("x")])]), "either field"),
            (.array([.object(["field": .string("shot"), "size": .number(1)])]), "unknown key"),
        ])
    func invalid(parts: JSONValue, why: String) {
        let node = WorkflowDefinition.Node(
            id: "look", type: "llm", reads: ["shot"], writes: ["fix"], config: ["prompt": .string("p"), "parts": parts])
        #expect { try LLMNode.checkParts(node) } throws: { ($0 as? AnalemmaError)?.code == .invalidWorkflow && "\($0)".contains(why) }
    }

    static func big(_ n: Int) -> UserPart { .media(MediaPart(field: "f\(n)", mimeType: "text/plain", data: Data(repeating: 65, count: n))) }

    @Test("parts are uploaded largest first until the inline remainder fits")
    func placement() {
        let parts = [Self.big(10), .text("t"), Self.big(30), Self.big(20)]
        #expect(MediaPlacement.uploads(parts, inlineMax: 35) == [2])
        #expect(MediaPlacement.uploads(parts, inlineMax: 25) == [2, 3])
        #expect(MediaPlacement.uploads([Self.big(10)], inlineMax: 10).isEmpty)
    }

    @Test("on the Developer API a part over the inline limit goes through the Files API once, then by its URI")
    func upload() async throws {
        let endpoint = try AWSEndpoint(url: "http://127.0.0.1:4566", source: "t")
        let transport = RecordingTransport([
            .respond(200, "{}", [("X-Goog-Upload-URL", "http://127.0.0.1:4566/upload/v1beta/files?upload_id=u1")]),
            .respond(200, #"{"file":{"name":"files/abc","uri":"http://127.0.0.1:4566/v1beta/files/abc","state":"ACTIVE"}}"#),
        ])
        let client = GeminiClient(api: .developer(endpoint: endpoint, key: "k"), transport: transport)
        let uploads = MediaUploads()
        let turns: [ModelTurn] = [.parts([Self.big(50), .text("q")])]
        for _ in 0..<2 {
            let placed = try await client.place(turns, inlineMax: 10, node: "n", uploads: uploads, now: 0)
            #expect(placed == [.parts([.file(mimeType: "text/plain", uri: "http://127.0.0.1:4566/v1beta/files/abc"), .text("q")])])
        }
        let requests = transport.requests
        #expect(requests.count == 2, "the second call reuses the upload")
        #expect(requests[0].path == "/upload/v1beta/files" && requests[0].headers.contains { $0 == ("X-Goog-Upload-Command", "start") })
        #expect(requests[0].headers.contains { $0 == ("X-Goog-Upload-Header-Content-Length", "50") })
        #expect(requests[1].path == "/upload/v1beta/files?upload_id=u1" && requests[1].body.count == 50)
        #expect(requests[1].headers.contains { $0 == ("X-Goog-Upload-Command", "upload, finalize") })
    }

    @Test("a session URL on another host is refused: the bytes go only to the configured endpoint")
    func foreignSession() async throws {
        let endpoint = try AWSEndpoint(url: "http://127.0.0.1:4566", source: "t")
        let transport = RecordingTransport([.respond(200, "{}", [("X-Goog-Upload-URL", "http://evil.example/upload")])])
        let client = GeminiClient(api: .developer(endpoint: endpoint, key: "k"), transport: transport)
        await #expect(throws: ModelFailure.self) {
            _ = try await client.place([.parts([Self.big(50)])], inlineMax: 10, node: "n", uploads: MediaUploads(), now: 0)
        }
        #expect(transport.requests.count == 1)
    }

    @Test("on Vertex AI a part over the inline limit is refused before anything is sent")
    func vertex() async throws {
        let endpoint = try AWSEndpoint(url: "http://127.0.0.1:4566", source: "t")
        let transport = RecordingTransport([])
        let client = GeminiClient(api: .vertex(endpoint: endpoint, project: "p", location: "l", token: "t"), transport: transport)
        await #expect {
            _ = try await client.place([.parts([Self.big(50)])], inlineMax: 10, node: "n", uploads: MediaUploads(), now: 0)
        } throws: { ($0 as? AnalemmaError)?.code == .invalidMedia && "\($0)".contains("Cloud Storage") }
        #expect(transport.requests.isEmpty)
        let small = try await client.place([.parts([Self.big(5)])], inlineMax: 10, node: "n", uploads: MediaUploads(), now: 0)
        #expect(small == [.parts([Self.big(5)])])
    }

    @Test(
        "an upload the Files API fails ends the call with the model layer's code: retried when the service failed, final when it refused",
        arguments: [(503, ErrorCode.modelUnavailable), (400, .modelError)])
    func failedUpload(status: Int, code: ErrorCode) async throws {
        let (routed, transport) = try PromptCacheTests.model([.respond(status, #"{"error": {"code": \#(status), "message": "no"}}"#)])
        var request = ModelRequest(nodeID: "n", prompt: "look", hints: ["media_inline_max_bytes": .number(10)])
        request.turns = [.parts([Self.big(50), .text("look")])]
        await #expect { _ = try await routed.generate(request) } throws: { ($0 as? AnalemmaError)?.code == code }
        #expect(transport.requests.map(\.path) == ["/upload/v1beta/files"], "no generateContent after a failed upload")
    }
}
