#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// `generateContent` over HTTPS: the Gemini Developer API (`x-goog-api-key`) or Vertex AI (bearer token).
/// Error answers are classified (``ModelFailure``: throttled, server, budget, context too long, rejected); a blocked
/// prompt or answer is `ModelBlocked`, `MAX_TOKENS` is `ModelTruncated`.
package struct GeminiClient: Sendable {
    package enum API: Sendable, Equatable {
        /// `POST {endpoint}/v1beta/models/{model}:generateContent` with `x-goog-api-key`.
        case developer(endpoint: AWSEndpoint, key: String)
        /// `POST {endpoint}/v1/projects/{project}/locations/{location}/publishers/google/models/{model}:generateContent`
        /// with `Authorization: Bearer`.
        case vertex(endpoint: AWSEndpoint, project: String, location: String, token: String)
    }

    package let api: API
    package let transport: any HTTPTransport
    package let timeout: Duration

    package init(api: API, transport: any HTTPTransport = SocketTransport(), timeout: Duration = .seconds(120)) {
        self.api = api
        self.transport = transport
        self.timeout = timeout
    }

    /// The HTTP request for `model` (exact bytes: what the fixture tests compare).
    package func httpRequest(model: String, _ request: GeminiWire.Request) -> HTTPRequest {
        post("\(modelName(model)):generateContent", body: request.body())
    }

    /// The model's resource name: `models/{m}` (Developer API) or `projects/…/publishers/google/models/{m}` (Vertex).
    package func modelName(_ model: String) -> String {
        switch api {
        case .developer: "models/\(URIEncoding.encode(model))"
        case .vertex: "\(parent)/publishers/google/models/\(URIEncoding.encode(model))"
        }
    }

    /// The collection parent: nothing on the Developer API, `projects/{p}/locations/{l}` on Vertex.
    var parent: String {
        switch api {
        case .developer: ""
        case .vertex(_, let project, let location, _): "projects/\(URIEncoding.encode(project))/locations/\(URIEncoding.encode(location))"
        }
    }

    /// `POST {endpoint}/{version}/{resource}` with the API's credentials.
    func post(_ resource: String, body: Data) -> HTTPRequest { request("POST", resource, body: body) }

    /// `{method} {endpoint}/{version}/{resource}` with the API's credentials.
    func request(_ method: String, _ resource: String, body: Data = Data()) -> HTTPRequest {
        var headers: [(String, String)] = method == "GET" ? [] : [("Content-Type", "application/json")]
        let endpoint: AWSEndpoint
        let path: String
        switch api {
        case .developer(let e, let key):
            endpoint = e
            path = "/v1beta/\(resource)"
            headers.append(("x-goog-api-key", key))
        case .vertex(let e, _, _, let token):
            endpoint = e
            path = "/v1/\(resource)"
            headers.append(("Authorization", "Bearer \(token)"))
        }
        return HTTPRequest(
            method: method, scheme: endpoint.scheme, host: endpoint.host, port: endpoint.port, path: path, headers: headers, body: body)
    }

    /// One call to `model`. A refused or failed call throws a ``ModelFailure`` (its class and any retry hint); an
    /// answer that cannot be used throws `ModelBlocked`, `ModelTruncated` or `ModelError`.
    package func generate(model: String, _ request: GeminiWire.Request) async throws -> GeminiWire.Response {
        let response: HTTPResponse
        do { response = try await transport.send(httpRequest(model: model, request), timeout: timeout) } catch let e as TransportError {
            throw ModelFailure(kind: .server, message: "model \(model): \(e)")
        }
        guard response.status == 200 else {
            throw ModelFailure.classify(status: response.status, headers: response.headers, body: response.body, model: model)
        }
        return try Self.usable(try GeminiWire.Response.parse(response.body), model: model)
    }

    /// An answer the kernel can use, else `ModelBlocked`, `ModelTruncated` or `ModelError` (no candidate).
    package static func usable(_ parsed: GeminiWire.Response, model: String) throws -> GeminiWire.Response {
        if let block = parsed.blockReason { throw AnalemmaError(.modelBlocked, "model \(model) blocked the prompt: \(block)") }
        switch parsed.finishReason {
        case "SAFETY"?, "RECITATION"?, "BLOCKLIST"?, "PROHIBITED_CONTENT"?, "SPII"?, "IMAGE_SAFETY"?:
            throw AnalemmaError(.modelBlocked, "model \(model) stopped: \(parsed.finishReason ?? "")")
        case "MAX_TOKENS"?:
            throw AnalemmaError(.modelTruncated, "model \(model) hit maxOutputTokens after \(parsed.outputTokens) tokens")
        default:
            guard parsed.content != nil else { throw AnalemmaError(.modelError, "model \(model) returned no candidate") }
            return parsed
        }
    }
}
