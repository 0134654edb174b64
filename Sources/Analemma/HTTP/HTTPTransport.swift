import Dispatch
import Synchronization

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// An HTTP response from an AWS endpoint.
package struct HTTPResponse: Sendable {
    package var status: Int
    package var headers: [(String, String)]
    package var body: Data

    package init(status: Int, headers: [(String, String)] = [], body: Data = Data()) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    package func header(_ name: String) -> String? {
        let lowered = name.lowercased()
        return headers.first { $0.0.lowercased() == lowered }?.1
    }
}

/// Sends one request, returns its response (one method, so clients are testable with a recording transport).
package protocol HTTPTransport: Sendable {
    func send(_ request: HTTPRequest, timeout: Duration) async throws -> HTTPResponse
}

/// The request failed in transit. `sent == false` means nothing reached the server (always safe to retry);
/// `retryable == false` marks failures a retry cannot fix (an untrusted certificate, a missing CA bundle).
package struct TransportError: Error, Sendable, CustomStringConvertible {
    package let message: String
    package let sent: Bool
    package let retryable: Bool
    package init(_ message: String, sent: Bool, retryable: Bool = true) {
        self.message = message
        self.sent = sent
        self.retryable = retryable
    }
    package var description: String { message }
}

/// HTTP and HTTPS (OpenSSL, statically linked) over pooled keep-alive ``SocketHTTPClient`` connections.
///
/// Blocking socket I/O runs on Dispatch's global queue, never on Swift's cooperative pool. The TLS context
/// (CA bundle) is loaded on first HTTPS use; a missing bundle is an error naming where it looked.
package final class SocketTransport: HTTPTransport {
    private let idle = Mutex<[String: [UncheckedBox<SocketHTTPClient>]]>([:])
    private let tls = Mutex<TLSContext?>(nil)
    private let caFile: String?
    private let maxIdlePerHost: Int

    /// Idle connections kept per host by default; ``ConcurrentRequests`` keeps as many requests in flight.
    package static let defaultMaxIdlePerHost = 16

    /// - Parameter caFile: PEM bundle for HTTPS; nil uses `SSL_CERT_FILE` or the system's (see ``TLSContext``).
    package init(maxIdlePerHost: Int = SocketTransport.defaultMaxIdlePerHost, caFile: String? = nil) {
        self.maxIdlePerHost = maxIdlePerHost
        self.caFile = caFile
    }

    private func tlsContext() throws -> TLSContext {
        try tls.withLock { current in
            if let current { return current }
            let made = try TLSContext(caFile: caFile)
            current = made
            return made
        }
    }

    package func send(_ request: HTTPRequest, timeout: Duration) async throws -> HTTPResponse {
        let secure = request.scheme == "https"
        guard secure || request.scheme == "http" else {
            throw TransportError("unsupported scheme \(request.scheme)", sent: false, retryable: false)
        }
        let port = request.port ?? (secure ? 443 : 80)
        let key = "\(request.scheme)://\(request.host):\(port)"
        let context: TLSContext?
        do { context = secure ? try tlsContext() : nil } catch { throw TransportError("\(error)", sent: false, retryable: false) }
        let box =
            idle.withLock { $0[key]?.popLast() }
            ?? UncheckedBox(SocketHTTPClient(host: request.host, port: UInt16(port), timeout: timeout, tls: context))
        let response: HTTPResponseMessage = try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                do {
                    let r = try request.body.withUnsafeBytes { body in
                        try box.value.send(method: request.method, path: request.target, headers: request.headers, body: body)
                    }
                    continuation.resume(returning: r)
                } catch let error as SocketError {
                    continuation.resume(
                        throwing: TransportError(
                            error.message, sent: error.phase != .connect && error.phase != .handshake, retryable: error.phase != .handshake)
                    )
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
