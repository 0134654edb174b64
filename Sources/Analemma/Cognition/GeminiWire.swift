#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// The `generateContent` wire format, shared by the Gemini Developer API and Vertex AI.
/// https://ai.google.dev/api/generate-content · https://cloud.google.com/vertex-ai/generative-ai/docs/reference/rest
package enum GeminiWire {
    /// A request body, as Google's SDK sends it (`systemInstruction` with the user role, schema types in upper case;
    /// checked against `google-genai` in Tests/integration/test_genai_conformance.py). `contents` entries are kept as raw JSON so model turns (with thought signatures) are sent
    /// back byte for byte.
    package struct Request: Sendable, Equatable {
        package var contents: [Data]
        package var systemInstruction: String?
        package var generationConfig: [String: JSONValue]
        package var tools: Data?
        /// A cached prefix (`cachedContents/…`) the contents follow; the system instruction and tools are then in it.
        package var cachedContent: String?

        package init(
            contents: [Data], systemInstruction: String? = nil, generationConfig: [String: JSONValue] = [:], tools: Data? = nil,
            cachedContent: String? = nil
        ) {
            self.contents = contents
            self.systemInstruction = systemInstruction
            self.generationConfig = generationConfig
            self.tools = tools
            self.cachedContent = cachedContent
        }

        /// A user turn with one text part.
        package static func userTurn(_ text: String) -> Data {
            JSONValue.object(["role": .string("user"), "parts": .array([.object(["text": .string(text)])])]).jsonData()
        }

        /// A turn as Gemini `contents` bytes (a model turn exactly as it was received).
        package static func turn(_ t: ModelTurn) -> Data {
            switch t {
            case .user(let text): return userTurn(text)
            case .parts(let parts):
                let wire = parts.map { part -> JSONValue in
                    switch part {
                    case .text(let text): .object(["text": .string(text)])
                    case .media(let m):  // URL-safe base64, as google-genai sends bytes (the API takes both alphabets)
                        .object(["inlineData": .object(["mimeType": .string(m.mimeType), "data": .string(m.urlSafeBase64)])])
                    case .file(let mime, let uri): .object(["fileData": .object(["mimeType": .string(mime), "fileUri": .string(uri)])])
                    }
                }
                return JSONValue.object(["role": .string("user"), "parts": .array(wire)]).jsonData()
            case .model(let raw): return raw
            case .toolResults(let results):
                let parts = results.map { r in
                    JSONValue.object(["functionResponse": .object(["name": .string(r.name), "response": r.response])])
                }
                return JSONValue.object(["role": .string("user"), "parts": .array(parts)]).jsonData()
            }
        }

        /// `tools`: one `functionDeclarations` list.
        package static func tools(_ declarations: [ToolDeclaration]) -> Data? {
            guard !declarations.isEmpty else { return nil }
            let list = declarations.map { d in
                JSONValue.object([
                    "name": .string(d.name), "description": .string(d.description), "parameters": ResponseSchema.wire(d.parameters),
                ])
            }
            return JSONValue.array([.object(["functionDeclarations": .array(list)])]).jsonData()
        }

        /// The body: keys in a fixed order, raw turns inserted as they are.
        package func body() -> Data {
            var out = Data(#"{"contents":["#.utf8)
            for (i, turn) in contents.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                out.append(turn)
            }
            out.append(UInt8(ascii: "]"))
            if !generationConfig.isEmpty {
                out.append(contentsOf: #","generationConfig":"#.utf8)
                out.append(JSONValue.object(generationConfig).jsonData())
            }
            if let cachedContent {
                out.append(contentsOf: #","cachedContent":"#.utf8)
                out.append(JSONValue.string(cachedContent).jsonData())
            }
            if let systemInstruction {
                out.append(contentsOf: #","systemInstruction":"#.utf8)
                out.append(
                    JSONValue.object(["role": .string("user"), "parts": .array([.object(["text": .string(systemInstruction)])])])
                        .jsonData())
            }
            if let tools {
                out.append(contentsOf: #","tools":"#.utf8)
                out.append(tools)
            }
            out.append(UInt8(ascii: "}"))
            return out
        }
    }

    /// What the service answered (the parts the kernel needs; the model turn is kept raw).
    package struct Response: Sendable, Equatable {
        package var text: String
        /// The candidate's `content` exactly as received (to send back in a later turn).
        package var content: Data?
        package var finishReason: String?
        package var blockReason: String?
        package var promptTokens: Int
        package var outputTokens: Int
        package var thoughtTokens: Int
        package var cachedTokens: Int
        package var modelVersion: String?
        package var functionCalls: [FunctionCall] = []

        /// Parses a `GenerateContentResponse`; text parts (not thoughts) are joined.
        package static func parse(_ body: Data) throws -> Response {
            guard let top = try? JSONValue(json: body), case .object(let o) = top else {
                throw AnalemmaError(
                    .modelError, "model response is not a JSON object: \(String(decoding: body.prefix(200), as: UTF8.self))")
            }
            let usage = o["usageMetadata"]
            func count(_ key: String) throws -> Int {
                guard let value = try? usage?.value(at: key) else { return 0 }
                // A token count is a whole number a 32-bit counter holds; anything else is a broken answer.
                guard case .number(let n) = value, let tokens = Bounded.integer(n, in: 0...Int(Int32.max)) else {
                    throw AnalemmaError(.modelError, "model response: usageMetadata.\(key) is not a token count (\(value.text.prefix(40)))")
                }
                return tokens
            }
            var r = Response(
                text: "", content: nil, finishReason: nil, blockReason: nil, promptTokens: try count("promptTokenCount"),
                outputTokens: try count("candidatesTokenCount"), thoughtTokens: try count("thoughtsTokenCount"),
                cachedTokens: try count("cachedContentTokenCount"), modelVersion: nil)
            if case .string(let v)? = o["modelVersion"] { r.modelVersion = v }
            if case .string(let b)? = try top.value(at: "promptFeedback.blockReason") { r.blockReason = b }
            if case .string(let f)? = try top.value(at: "candidates[0].finishReason") { r.finishReason = f }
            if let content = try top.value(at: "candidates[0].content") {
                r.content = try Self.rawContent(body) ?? content.jsonData()
                if case .array(let parts)? = try content.value(at: "parts") {
                    for part in parts where (try? part.value(at: "thought")) != .bool(true) {
                        if case .string(let t)? = try part.value(at: "text") { r.text += t }
                        if case .string(let name)? = try part.value(at: "functionCall.name") {
                            r.functionCalls.append(FunctionCall(name: name, args: try part.value(at: "functionCall.args") ?? .object([:])))
                        }
                    }
                }
            }
            return r
        }

        /// The first candidate's `content` as the exact bytes received.
        static func rawContent(_ body: Data) throws -> Data? {
            guard let candidates = JSONScanner.object(body)?["candidates"], let first = try JSONScanner.elements(of: candidates).first
            else { return nil }
            return JSONScanner.object(candidates.subdata(in: first))?["content"]
        }
    }

    /// A Google API error body: `{"error": {"code", "message", "status"}}`.
    package static func errorStatus(_ body: Data) -> (status: String?, message: String?) {
        guard let v = try? JSONValue(json: body) else { return (nil, nil) }
        var status: String?
        var message: String?
        if case .string(let s)? = try? v.value(at: "error.status") { status = s }
        if case .string(let m)? = try? v.value(at: "error.message") { message = m }
        return (status, message)
    }
}
