#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// One call to the Lambda Runtime API.
public enum RuntimeRequest: Sendable, Equatable {
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
public enum RuntimeReply: Sendable, Equatable {
    /// The next invocation (answer to ``RuntimeRequest/next``).
    case invocation(Invocation)
    /// An acknowledgement with its HTTP status (202 expected; 413 for an oversized response, 4xx/5xx otherwise).
    case accepted(status: Int, body: String)
}

/// The Lambda Runtime API as one method, so the loop is testable without a network.
///
/// https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html
public protocol RuntimeAPI {
    func send(_ request: RuntimeRequest) async throws -> RuntimeReply
}

/// The Runtime API answered in a way the loop cannot continue from.
public struct RuntimeAPIError: Error, Equatable, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { "Runtime API: \(message)" }
}
