#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// Spans as an OTLP/HTTP protobuf `ExportTraceServiceRequest`, and the exporter that posts them.
/// https://opentelemetry.io/docs/specs/otlp/#otlphttp ·
/// https://github.com/open-telemetry/opentelemetry-proto/blob/main/opentelemetry/proto/trace/v1/trace.proto
package enum OTLP {
    /// The semantic conventions the spans follow (GenAI attributes included).
    package static let schemaURL = "https://opentelemetry.io/schemas/1.37.0"
    package static let scope = "analemma"

    /// The request body for `spans` of one service.
    package static func request(_ spans: [Span], service: String, resource: [(String, String)] = [], version: String = "1") -> [UInt8] {
        var w = ProtobufWriter()
        w.message(1) { rs in  // ResourceSpans
            rs.message(1) { r in  // Resource
                keyValue(&r, 1, "service.name", .string(service))
                keyValue(&r, 1, "telemetry.sdk.name", .string("analemma"))
                keyValue(&r, 1, "telemetry.sdk.language", .string("swift"))
                keyValue(&r, 1, "cloud.provider", .string("aws"))
                let ours: Set = ["service.name", "telemetry.sdk.name", "telemetry.sdk.language", "cloud.provider"]
                for (key, value) in resource where !ours.contains(key) { keyValue(&r, 1, key, .string(value)) }
            }
            rs.message(2) { ss in  // ScopeSpans
                ss.message(1) { scope in
                    scope.string(1, Self.scope)
                    scope.string(2, version)
                }
                for span in spans { ss.message(2) { encode(span, into: &$0) } }
                ss.string(3, schemaURL)
            }
            rs.string(3, schemaURL)
        }
        return w.bytes
    }

    static func encode(_ span: Span, into w: inout ProtobufWriter) {
        w.bytes(1, span.traceID)
        w.bytes(2, span.spanID)
        if let parent = span.parentID { w.bytes(4, parent) }
        w.string(5, span.name)
        w.int(6, span.kind.rawValue)
        w.fixed64(7, nanos(span.startMillis))
        w.fixed64(8, nanos(max(span.endMillis, span.startMillis)))
        for (key, value) in span.attributes { keyValue(&w, 9, key, value) }
        if let error = span.error {
            w.message(15) { status in
                status.string(2, error)
                status.int(3, 2)  // STATUS_CODE_ERROR
            }
        }
    }

    static func nanos(_ millis: Int64) -> UInt64 { UInt64(max(0, millis)).multipliedReportingOverflow(by: 1_000_000).partialValue }

    static func keyValue(_ w: inout ProtobufWriter, _ field: Int, _ key: String, _ value: Span.Value) {
        w.message(field) { kv in
            kv.string(1, key)
            kv.message(2) { anyValue(&$0, value) }
        }
    }

    static func anyValue(_ v: inout ProtobufWriter, _ value: Span.Value) {
        switch value {
        case .string(let s): v.stringAlways(1, s)
        case .bool(let b): v.int(2, b ? 1 : 0, always: true)
        case .int(let n): v.int(3, n, always: true)
        case .double(let d): v.double(4, d)
        case .strings(let list):
            v.message(5) { array in for s in list { array.message(1) { $0.stringAlways(1, s) } } }
        }
    }
}

/// Where a finished invocation's spans go: one method.
package protocol SpanExporter: Sendable {
    func export(_ spans: [Span]) async throws
}

/// OTLP over HTTP with protobuf encoding: `POST {OTEL_EXPORTER_OTLP_ENDPOINT}/v1/traces` (or
/// `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` as given), `OTEL_EXPORTER_OTLP_HEADERS` (`k=v,k2=v2`) added,
/// `OTEL_RESOURCE_ATTRIBUTES` (`k=v,…`, values percent-encoded) on the resource, one request per invocation, a short timeout: tracing never holds a step up for long, and a failed export is only a warning.
package struct OTLPHTTPExporter: SpanExporter {
    package let endpoint: AWSEndpoint
    package let path: String
    package let headers: [(String, String)]
    package let service: String
    /// `OTEL_RESOURCE_ATTRIBUTES`: Phoenix's `openinference.project.name`, a `deployment.environment.name`, …
    package let resource: [(String, String)]
    package let transport: any HTTPTransport
    package let timeout: Duration

    /// The exporter the environment configures; nil when no endpoint is set.
    package init?(environment: FunctionEnvironment, service: String, transport: any HTTPTransport = SocketTransport()) throws {
        let traces = environment["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"].flatMap { $0.isEmpty ? nil : $0 }
        let base = environment["OTEL_EXPORTER_OTLP_ENDPOINT"].flatMap { $0.isEmpty ? nil : $0 }
        guard let url = traces ?? base.map({ ($0.hasSuffix("/") ? String($0.dropLast()) : $0) + "/v1/traces" }) else { return nil }
        let afterScheme = url.hasPrefix("https://") ? 8 : url.hasPrefix("http://") ? 7 : 0
        guard afterScheme > 0, let slash = url.dropFirst(afterScheme).firstIndex(of: "/") else {
            throw AnalemmaError(
                .invalidConfiguration, "OTEL_EXPORTER_OTLP_ENDPOINT \(url.prefix(200).debugDescription) is not an http(s) URL")
        }
        endpoint = try AWSEndpoint(url: String(url[..<slash]), source: "OTEL_EXPORTER_OTLP_ENDPOINT")
        path = String(url[slash...])
        headers = Self.pairs(environment["OTEL_EXPORTER_OTLP_HEADERS"])
        resource = Self.pairs(environment["OTEL_RESOURCE_ATTRIBUTES"]).map { ($0, Self.percentDecoded($1)) }
        // https://opentelemetry.io/docs/specs/otel/configuration/sdk-environment-variables/: OTEL_SERVICE_NAME wins
        self.service =
            environment["OTEL_SERVICE_NAME"].flatMap { $0.isEmpty ? nil : $0 }
            ?? resource.last { $0.0 == "service.name" && !$0.1.isEmpty }?.1 ?? service
        self.transport = transport
        timeout = .seconds(try environment.integer("OTEL_EXPORTER_OTLP_TIMEOUT_SECONDS", default: 3))
    }

    /// `k=v,k2=v2` as the OTel variables write lists; a pair without `=` or with an empty key is left out.
    static func pairs(_ list: String?) -> [(String, String)] {
        (list ?? "").split(separator: ",").compactMap { pair in
            guard let eq = pair.firstIndex(of: "=") else { return nil }
            let key = pair[..<eq].trimmingSpaces
            let value = pair[pair.index(after: eq)...].trimmingSpaces
            return key.isEmpty ? nil : (key, value)
        }
    }

    /// `%XX` sequences decoded (the W3C Baggage encoding the variable uses); a malformed one, or bytes that are not UTF-8, leave the text as given.
    static func percentDecoded(_ text: String) -> String {
        guard text.contains("%") else { return text }
        var bytes: [UInt8] = []
        var utf8 = text.utf8[...]
        while let byte = utf8.popFirst() {
            guard byte == UInt8(ascii: "%") else {
                bytes.append(byte)
                continue
            }
            let digits = utf8.prefix(2)
            guard digits.count == 2,
                digits.allSatisfy({ UInt8(ascii: "0")...UInt8(ascii: "9") ~= $0 || UInt8(ascii: "a")...UInt8(ascii: "f") ~= $0 | 0x20 }),
                let value = UInt8(String(decoding: digits, as: UTF8.self), radix: 16)
            else { return text }
            bytes.append(value)
            utf8 = utf8.dropFirst(2)
        }
        return String(validating: bytes, as: UTF8.self) ?? text
    }

    package func export(_ spans: [Span]) async throws {
        guard !spans.isEmpty else { return }
        let body = Data(OTLP.request(spans, service: service, resource: resource))
        let request = HTTPRequest(
            method: "POST", scheme: endpoint.scheme, host: endpoint.host, port: endpoint.port, path: path,
            headers: [("Content-Type", "application/x-protobuf")] + headers, body: body)
        let response = try await transport.send(request, timeout: timeout)
        guard (200..<300).contains(response.status) else {
            throw AnalemmaError(
                .transient, "OTLP export answered \(response.status): \(String(decoding: response.body.prefix(200), as: UTF8.self))")
        }
    }
}

extension Substring {
    var trimmingSpaces: String { String(drop { $0 == " " }.reversed().drop { $0 == " " }.reversed()) }
}
