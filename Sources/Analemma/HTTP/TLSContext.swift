import CCrypto
import Glibc

/// TLS for the socket client through OpenSSL libssl (linked statically, so bundles need no host OpenSSL):
/// TLS 1.2+, SNI, certificate and host-name verification against a CA bundle.
///
/// The bundle is `SSL_CERT_FILE` if set, else the first that exists of Amazon Linux's and Debian's paths.
package final class TLSContext: @unchecked Sendable {
    static let bundlePaths = [
        "/etc/pki/tls/certs/ca-bundle.crt",  // Amazon Linux 2 / 2023 (Lambda provided.al2, provided.al2023)
        "/etc/ssl/certs/ca-certificates.crt",  // Debian, Ubuntu
        "/etc/ssl/cert.pem",
    ]

    let ctx: OpaquePointer

    /// - Parameter caFile: a PEM bundle; nil picks `SSL_CERT_FILE` or a known system path.
    package init(caFile: String? = nil) throws {
        // `SSL_write` writes with write(2), which raises SIGPIPE when the peer has closed (an idle pooled
        // connection the server dropped): ignored, so the write fails with EPIPE and the request is retried
        // instead of the process dying (the plain path sends with MSG_NOSIGNAL).
        signal(SIGPIPE, SIG_IGN)
        guard let ctx = SSL_CTX_new(TLS_client_method()) else { throw SocketError("TLS: SSL_CTX_new failed: \(TLSContext.lastError())") }
        self.ctx = ctx
        _ = SSL_CTX_ctrl(ctx, SSL_CTRL_SET_MIN_PROTO_VERSION, Int(TLS1_2_VERSION), nil)
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nil)
        let environment = getenv("SSL_CERT_FILE").map { String(cString: $0) }
        guard let bundle = caFile ?? environment ?? Self.bundlePaths.first(where: { access($0, R_OK) == 0 }) else {
            throw SocketError("TLS: no CA bundle found (looked at \(Self.bundlePaths.joined(separator: ", "))); set SSL_CERT_FILE")
        }
        guard SSL_CTX_load_verify_locations(ctx, bundle, nil) == 1 else {
            throw SocketError("TLS: cannot load CA bundle \(bundle): \(TLSContext.lastError())")
        }
    }

    deinit { SSL_CTX_free(ctx) }

    /// Starts a verified TLS session for `host` on a connected socket.
    func connect(fd: Int32, host: String) throws -> OpaquePointer {
        guard let ssl = SSL_new(ctx) else { throw SocketError("TLS: SSL_new failed: \(TLSContext.lastError())", phase: .connect) }
        SSL_set_fd(ssl, fd)
        _ = host.withCString {
            SSL_ctrl(ssl, SSL_CTRL_SET_TLSEXT_HOSTNAME, Int(TLSEXT_NAMETYPE_host_name), UnsafeMutableRawPointer(mutating: $0))
        }
        let isIP = host.contains(":") || host.allSatisfy { $0.isNumber || $0 == "." }
        if isIP {
            _ = X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host)
        } else {
            _ = SSL_set1_host(ssl, host)
        }
        guard SSL_connect(ssl) == 1 else {
            let verify = SSL_get_verify_result(ssl)
            let reason = verify != X509_V_OK ? String(cString: X509_verify_cert_error_string(verify)) : TLSContext.lastError()
            SSL_free(ssl)
            throw SocketError("TLS handshake with \(host) failed: \(reason)", phase: .handshake)
        }
        return ssl
    }

    static func lastError() -> String {
        let code = ERR_get_error()
        guard code != 0 else { return "unknown error" }
        var buffer = [CChar](repeating: 0, count: 256)
        ERR_error_string_n(code, &buffer, buffer.count)
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
