#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// The Gemini Developer API's Batch API: many `generateContent` requests in one job at half the price, answered
/// within 24 hours. Requests go inline (`models/{m}:batchGenerateContent`); the job is read back at `batches/{id}`,
/// its inlined responses in request order, each matched by its `metadata.key`.
/// https://ai.google.dev/api/batch-api · https://ai.google.dev/gemini-api/docs/batch-api
package enum GeminiBatch {
    /// The most inline requests may weigh in total (larger batches need an uploaded JSONL file, which this does not send).
    package static let maxInlineBytes = 20_000_000

    /// A job's state as the Developer API names it (`BATCH_STATE_*`).
    package enum State: String, Sendable, Equatable, Codable {
        case pending = "BATCH_STATE_PENDING"
        case running = "BATCH_STATE_RUNNING"
        case succeeded = "BATCH_STATE_SUCCEEDED"
        case failed = "BATCH_STATE_FAILED"
        case cancelled = "BATCH_STATE_CANCELLED"
        case expired = "BATCH_STATE_EXPIRED"
        case unspecified = "BATCH_STATE_UNSPECIFIED"

        /// The job will not change any more.
        package var isFinal: Bool { [.succeeded, .failed, .cancelled, .expired].contains(self) }
    }

    /// One request's outcome: the `GenerateContentResponse`, or the error the service gave for it.
    package enum Answer: Sendable, Equatable {
        case response(GeminiWire.Response)
        case error(String)
    }

    /// A job as `batches.get` (or the create call) reports it.
    package struct Job: Sendable, Equatable {
        package var name: String
        package var state: State
        /// The answers by request index, once the job succeeded; an index the service did not answer is absent.
        package var answers: [Int: Answer] = [:]
        /// The job's own error (a failed or cancelled job).
        package var error: String?
    }

    /// A job name as the service gives it (`batches/{id}`), checked before it goes into a URL or stored state.
    package static func checkName(_ name: String) throws -> String {
        let id = name.hasPrefix("batches/") ? name.dropFirst(8) : ""
        guard (1...128).contains(id.count), id.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") })
        else { throw AnalemmaError(.modelError, "batch job name \(String(name.prefix(80)).debugDescription) is not batches/{id}") }
        return name
    }

    /// The `batchGenerateContent` body: each request inline with its index as `metadata.key`.
    package static func body(displayName: String, requests: [GeminiWire.Request]) -> Data {
        var out = Data(#"{"batch":{"displayName":"#.utf8)
        out.append(JSONValue.string(displayName).jsonData())
        out.append(contentsOf: #","inputConfig":{"requests":{"requests":["#.utf8)
        for (i, request) in requests.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            out.append(contentsOf: #"{"request":"#.utf8)
            out.append(request.body())
            out.append(contentsOf: #","metadata":{"key":"\#(i)"}}"#.utf8)
        }
        out.append(contentsOf: "]}}}}".utf8)
        return out
    }

    /// Parses the `Operation` the create and get calls answer (`metadata` is the `GenerateContentBatch`).
    package static func parse(_ body: Data) throws -> Job {
        guard let top = try? JSONValue(json: body), case .object(let operation) = top else {
            throw AnalemmaError(.modelError, "batch answer is not a JSON object: \(String(decoding: body.prefix(200), as: UTF8.self))")
        }
        let named = try operation["name"] ?? top.value(at: "metadata.name")
        guard case .string(let rawName)? = named else {
            throw AnalemmaError(.modelError, "batch answer names no job")
        }
        var job = Job(name: try checkName(rawName), state: .unspecified)
        if case .string(let s)? = try top.value(at: "metadata.state") { job.state = State(rawValue: s) ?? .unspecified }
        if case .string(let m)? = try top.value(at: "error.message") { job.error = String(m.prefix(1000)) }
        var list: Data? = JSONScanner.object(body)?["metadata"]
        for key in ["output", "inlinedResponses", "inlinedResponses"] { list = list.flatMap { JSONScanner.object($0)?[key] } }
        guard let list else { return job }
        let items = try JSONScanner.elements(of: list).map { list.subdata(in: $0) }
        for (n, bytes) in items.enumerated() {
            let item = try JSONValue(json: bytes)
            guard case .string(let key)? = try item.value(at: "metadata.key"), let index = Int(key), (0..<items.count).contains(index),
                job.answers[index] == nil
            else { throw AnalemmaError(.modelError, "batch \(job.name): response \(n) has no key of its own") }
            if let response = JSONScanner.object(bytes)?["response"] {
                job.answers[index] = .response(try GeminiWire.Response.parse(response))
            } else if case .string(let message)? = try item.value(at: "error.message") {
                job.answers[index] = .error(String(message.prefix(500)))
            } else {
                job.answers[index] = .error("the batch returned neither a response nor an error")
            }
        }
        return job
    }
}

extension GeminiClient {
    /// Submits `requests` to `model` as one batch job (Developer API only: Vertex batch prediction reads its input
    /// from Cloud Storage or BigQuery).
    package func createBatch(model: String, displayName: String, requests: [GeminiWire.Request]) async throws -> GeminiBatch.Job {
        guard case .developer = api else {
            throw AnalemmaError(
                .invalidConfiguration,
                "batch mode needs the Gemini Developer API: Vertex AI batch prediction reads its input from Cloud Storage or BigQuery")
        }
        let body = GeminiBatch.body(displayName: displayName, requests: requests)
        guard body.count <= GeminiBatch.maxInlineBytes else {
            throw AnalemmaError(
                .invalidWorkflow,
                "batch of \(requests.count) requests is \(body.count) bytes, over the Batch API's \(GeminiBatch.maxInlineBytes)-byte inline limit; use smaller maps"
            )
        }
        return try await call(request("POST", "\(modelName(model)):batchGenerateContent", body: body), model: model)
    }

    /// The job `name` as it stands (`GET batches/{id}`).
    package func batch(_ name: String, model: String) async throws -> GeminiBatch.Job {
        try await call(request("GET", try GeminiBatch.checkName(name)), model: model)
    }

    private func call(_ http: HTTPRequest, model: String) async throws -> GeminiBatch.Job {
        let response: HTTPResponse
        do { response = try await transport.send(http, timeout: timeout) } catch let e as TransportError {
            throw ModelFailure(kind: .server, message: "model \(model) batch: \(e)")
        }
        guard response.status == 200 else {
            throw ModelFailure.classify(status: response.status, headers: response.headers, body: response.body, model: model)
        }
        return try GeminiBatch.parse(response.body)
    }
}
