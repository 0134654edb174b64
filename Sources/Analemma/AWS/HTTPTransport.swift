import Dispatch
import Synchronization

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// An HTTP response from an AWS endpoint.
public struct HTTPResponse: Sendable {
    public var status: Int
    public var headers: [(String, String)]
    public var body: Data

    public init(status: Int, headers: [(String, String)] = [], body: Data = Data()) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    public func header(_ name: String) -> String? {
        let lowered = name.lowercased()
        return headers.first { $0.0.lowercased() == lowered }?.1
    }
}

/// Sends one request, returns its response (one method, so clients are testable with a recording transport).
public protocol HTTPTransport: Sendable {
    func send(_ request: AWSRequest, timeout: Duration) async throws -> HTTPResponse
}

/// The request failed in transit. `sent == false` means nothing reached the server (always safe to retry).
public struct TransportError: Error, Sendable, CustomStringConvertible {
    public let message: String
    public let sent: Bool
    public init(_ message: String, sent: Bool) {
        self.message = message
        self.sent = sent
    }
    public var description: String { message }
}

/// Plain-HTTP transport over pooled keep-alive ``SocketHTTPClient`` connections (local stack, VPC endpoints).
///
/// Blocking socket I/O runs on Dispatch's global queue, never on Swift's cooperative pool.
public final class SocketTransport: HTTPTransport {
    private let idle = Mutex<[String: [UncheckedBox<SocketHTTPClient>]]>([:])
    private let maxIdlePerHost: Int

    public init(maxIdlePerHost: Int = 16) { self.maxIdlePerHost = maxIdlePerHost }

    public func send(_ request: AWSRequest, timeout: Duration) async throws -> HTTPResponse {
        guard request.scheme == "http" else {
            throw TransportError(
                "SocketTransport speaks plain HTTP; \(request.scheme)://\(request.host) needs a TLS transport", sent: false)
        }
        let key = "\(request.host):\(request.port ?? 80)"
        let box =
            idle.withLock { $0[key]?.popLast() }
            ?? UncheckedBox(SocketHTTPClient(host: request.host, port: UInt16(request.port ?? 80), timeout: timeout))
        let response: HTTPResponseMessage = try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                do {
                    let r = try request.body.withUnsafeBytes { body in
                        try box.value.send(method: request.method, path: request.target, headers: request.headers, body: body)
                    }
                    continuation.resume(returning: r)
                } catch let error as SocketError {
                    continuation.resume(throwing: TransportError(error.message, sent: error.phase != .connect))
                } catch {
                    continuation.resume(throwing: TransportError("\(error)", sent: true))
                }
            }
        }
        if !response.closesConnection {
            idle.withLock { pool in
                if pool[key, default: []].count < maxIdlePerHost { pool[key, default: []].append(box) }
            }
        }
        return HTTPResponse(status: response.status, headers: response.headers.map { ($0.name, $0.value) }, body: Data(response.body))
    }
}

/// Moves a non-Sendable value into a Dispatch block that is its only user while it runs.
struct UncheckedBox<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}
