#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// One call to the Lambda Runtime API.
package enum RuntimeRequest: Sendable, Equatable {
    /// `GET /runtime/invocation/next`: long poll, no timeout.
    case next
    /// `POST /runtime/invocation/{id}/response`.
    case response(requestID: String, body: Data)
    /// `POST /runtime/invocation/{id}/error` with `Lambda-Runtime-Function-Error-Type`.
    case error(requestID: String, RuntimeErrorPayload)
    /// `POST /runtime/init/error`.
    case initError(RuntimeErrorPayload)
}

/// What the Runtime API answered.
package enum RuntimeReply: Sendable, Equatable {
    /// The next invocation (answer to ``RuntimeRequest/next``).
    case invocation(Invocation)
    /// An acknowledgement with its HTTP status (202 expected; 413 for an oversized response, 4xx/5xx otherwise).
    case accepted(status: Int, body: String)
}

/// The Lambda Runtime API as one method, so the loop is testable without a network.
///
/// https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html
package protocol RuntimeAPI {
    func send(_ request: RuntimeRequest) async throws -> RuntimeReply
}

/// The Runtime API answered in a way the loop cannot continue from.
package struct RuntimeAPIError: Error, Equatable, CustomStringConvertible {
    package let message: String
    package init(_ message: String) { self.message = message }
    package var description: String { "Runtime API: \(message)" }
}
