#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// Files the Files API already holds, by content: a tool-calling exchange or a fallback sends a file once.
/// Google keeps a file 48 hours; an entry is reused for 47.
package actor MediaUploads {
    private var uris: [String: (uri: String, until: Int64)] = [:]

    package init() {}

    func uri(_ key: String, now: Int64) -> String? { uris[key].flatMap { $0.until > now ? $0.uri : nil } }
    func keep(_ key: String, _ uri: String, now: Int64) { uris[key] = (uri, now + 47 * 3_600_000) }
}

extension GeminiClient {
    /// The turns with every media part placed: inline while the request stays under `inlineMax` bytes, the rest
    /// (largest first) uploaded through the Files API; Vertex AI takes inline data only, so there a request that
    /// does not fit is refused (`Analemma.InvalidMedia`) before anything is sent.
    package func place(_ turns: [ModelTurn], inlineMax: Int, node: String, uploads: MediaUploads, now: Int64) async throws
        -> [ModelTurn]
    {
        var budget = inlineMax
        var out: [ModelTurn] = []
        for turn in turns {
            guard case .parts(var parts) = turn else {
                out.append(turn)
                continue
            }
            let uploading = Set(MediaPlacement.uploads(parts, inlineMax: budget))
            for (i, part) in parts.enumerated() {
                guard case .media(let m) = part else { continue }
                guard uploading.contains(i) else {
                    budget -= m.data.count
                    continue
                }
                if case .vertex = api {
                    throw AnalemmaError(
                        .invalidMedia,
                        "node \(node.debugDescription): field \(m.field.debugDescription) (\(m.data.count) bytes) does not fit the "
                            + "\(inlineMax)-byte inline limit, and Vertex AI takes files only as Cloud Storage URIs, which "
                            + "Analemma does not write: make it smaller, or use the Gemini Developer API (its Files API)")
                }
                let key = Digest.hex(Digest.sha256(m.data)) + "|" + m.mimeType
                let uri: String
                if let known = await uploads.uri(key, now: now) {
                    uri = known
                } else {
                    uri = try await upload(m)
                    await uploads.keep(key, uri, now: now)
                }
                parts[i] = .file(mimeType: m.mimeType, uri: uri)
            }
            out.append(.parts(parts))
        }
        return out
    }

    /// One file through the Files API's resumable protocol: a `start` request (size, type, display name), then one
    /// `upload, finalize` of the bytes to the session URL it answers, which must be on the configured endpoint.
    /// https://ai.google.dev/api/files#method:-media.upload
    func upload(_ m: MediaPart) async throws -> String {
        guard case .developer(let endpoint, let key) = api else {
            throw AnalemmaError(.invalidMedia, "the Files API is the Gemini Developer API's")
        }
        func fail(_ why: String) -> ModelFailure { ModelFailure(kind: .server, message: "Files API upload of \(m.field): \(why)") }
        let start = HTTPRequest(
            method: "POST", scheme: endpoint.scheme, host: endpoint.host, port: endpoint.port, path: "/upload/v1beta/files",
            headers: [
                ("Content-Type", "application/json"), ("x-goog-api-key", key), ("X-Goog-Upload-Protocol", "resumable"),
                ("X-Goog-Upload-Command", "start"), ("X-Goog-Upload-Header-Content-Length", String(m.data.count)),
                ("X-Goog-Upload-Header-Content-Type", m.mimeType),
            ],
            body: JSONValue.object(["file": .object(["displayName": .string(m.field)])]).jsonData())
        let started = try await send(start, what: "start")
        guard let session = started.headers.first(where: { $0.0.lowercased() == "x-goog-upload-url" })?.1 else {
            throw fail("no X-Goog-Upload-URL in the answer to start")
        }
        let origin = "\(endpoint.scheme)://\(endpoint.host)" + (endpoint.port.map { ":\($0)" } ?? "")
        guard session.hasPrefix(origin + "/") else {
            throw fail("the session URL is not on \(origin) (\(session.prefix(120).debugDescription))")
        }
        let put = HTTPRequest(
            method: "POST", scheme: endpoint.scheme, host: endpoint.host, port: endpoint.port,
            path: String(session.dropFirst(origin.count)),
            headers: [
                ("Content-Type", m.mimeType), ("x-goog-api-key", key), ("X-Goog-Upload-Offset", "0"),
                ("X-Goog-Upload-Command", "upload, finalize"),
            ],
            body: m.data)
        let done = try await send(put, what: "upload")
        guard let file = try? JSONValue(json: done.body), case .string(let uri)? = try? file.value(at: "file.uri") else {
            throw fail("the answer names no file.uri")
        }
        if case .string(let state)? = try? file.value(at: "file.state"), state == "FAILED" { throw fail("the file's state is FAILED") }
        return uri
    }

    private func send(_ request: HTTPRequest, what: String) async throws -> HTTPResponse {
        let response: HTTPResponse
        do { response = try await transport.send(request, timeout: timeout) } catch let e as TransportError {
            throw ModelFailure(kind: .server, message: "Files API \(what): \(e)")
        }
        guard response.status == 200 else {
            throw ModelFailure.classify(status: response.status, headers: response.headers, body: response.body, model: "files")
        }
        return response
    }
}
