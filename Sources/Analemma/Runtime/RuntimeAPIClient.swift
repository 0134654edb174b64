#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// The Runtime API over HTTP (``SocketHTTPClient``), at `AWS_LAMBDA_RUNTIME_API`. An event is received in place
/// into the `Data` the handler gets, and a response is written from the handler's own buffer: no copy either way.
///
/// https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html
package final class RuntimeAPIClient: RuntimeAPI {
    private let http: SocketHTTPClient
    private static let base = "/2018-06-01/runtime"

    package init(endpoint: String) throws {
        self.http = try SocketHTTPClient(endpoint: endpoint)
    }

    package func send(_ request: RuntimeRequest) async throws -> RuntimeReply {
        switch request {
        case .next:
            let (r, event) = try http.receive(method: "GET", path: Self.base + "/invocation/next")
            guard r.status == 200 else {
                throw RuntimeAPIError("GET /invocation/next answered \(r.status): \(String(decoding: event.prefix(300), as: UTF8.self))")
            }
            return .invocation(try Self.invocation(from: r, payload: event))
        case .response(let id, let body):
            let path = Self.base + "/invocation/" + id + "/response"
            return acknowledged(try body.withUnsafeBytes { try http.send(method: "POST", path: path, body: $0) })
        case .error(let id, let payload):
            return acknowledged(
                try http.send(
                    method: "POST", path: "\(Self.base)/invocation/\(id)/error",
                    headers: [("Lambda-Runtime-Function-Error-Type", payload.errorType)], body: Array(payload.jsonBytes())))
        case .initError(let payload):
            return acknowledged(
                try http.send(
                    method: "POST", path: Self.base + "/init/error",
                    headers: [("Lambda-Runtime-Function-Error-Type", payload.errorType)], body: Array(payload.jsonBytes())))
        }
    }

    private func acknowledged(_ r: HTTPResponseMessage) -> RuntimeReply {
        .accepted(status: r.status, body: String(decoding: r.body.prefix(1000), as: UTF8.self))
    }

    /// Reads the invocation headers of a `/next` answer; the event is `payload` (received in place), else its body.
    static func invocation(from r: HTTPResponseMessage, payload: Data? = nil) throws -> Invocation {
        guard let id = r.value(lowercased: "lambda-runtime-aws-request-id"), !id.isEmpty else {
            throw RuntimeAPIError("/invocation/next answer has no Lambda-Runtime-Aws-Request-Id")
        }
        guard let deadline = r.value(lowercased: "lambda-runtime-deadline-ms").flatMap({ Int64($0) }) else {
            throw RuntimeAPIError("/invocation/next answer for \(id) has no numeric Lambda-Runtime-Deadline-Ms")
        }
        return Invocation(
            requestID: id, deadlineMillis: deadline,
            invokedFunctionARN: r.value(lowercased: "lambda-runtime-invoked-function-arn") ?? "",
            traceID: r.value(lowercased: "lambda-runtime-trace-id"),
            clientContext: r.value(lowercased: "lambda-runtime-client-context"),
            cognitoIdentity: r.value(lowercased: "lambda-runtime-cognito-identity"),
            tenantID: r.value(lowercased: "lambda-runtime-aws-tenant-id"),
            payload: payload ?? Data(r.body))
    }
}
