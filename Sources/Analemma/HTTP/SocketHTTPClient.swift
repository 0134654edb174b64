import CCrypto
import Glibc

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// A keep-alive HTTP/1.1 client over one blocking POSIX socket: the Runtime API transport.
///
/// Reads have no timeout (the `/next` long poll may wait for hours). Not thread-safe: one owner, one request at a
/// time, which is exactly the Lambda runtime loop. A request on a connection the peer closed while idle is retried
/// once on a fresh connection.
package final class SocketHTTPClient {
    package let host: String
    package let port: UInt16
    var fd: Int32 = -1
    /// Bytes received and not yet used; kept (with its capacity) from one response to the next.
    var inbox: [UInt8] = []
    private var readBuffer = [UInt8](repeating: 0, count: 64 * 1024)
    let hostHeader: String

    /// Per-read/write timeout; nil (the Runtime API default) waits forever, as the `/next` long poll must.
    package let timeout: Duration?

    /// TLS for `https` endpoints; nil speaks plain HTTP.
    private let tls: TLSContext?
    private var ssl: OpaquePointer?

    package init(host: String, port: UInt16, timeout: Duration? = nil, tls: TLSContext? = nil) {
        self.host = host
        self.port = port
        self.timeout = timeout
        self.tls = tls
        self.hostHeader = "\(host):\(port)"
    }

    /// Parses `host:port` as found in `AWS_LAMBDA_RUNTIME_API`.
    package convenience init(endpoint: String) throws {
        guard let colon = endpoint.lastIndex(of: ":"), let port = UInt16(endpoint[endpoint.index(after: colon)...]) else {
            throw SocketError("endpoint \(endpoint.debugDescription) is not host:port")
        }
        self.init(host: String(endpoint[..<colon]), port: port)
    }

    deinit { close() }

    /// Sends one request and reads its whole response.
    package func send(method: String, path: String, headers: [(String, String)] = [], body: [UInt8] = []) throws
        -> HTTPResponseMessage
    {
        try body.withUnsafeBytes { try send(method: method, path: path, headers: headers, body: $0) }
    }

    /// Sends one request whose body is borrowed (no copy) and reads its whole response.
    package func send(method: String, path: String, headers: [(String, String)] = [], body: UnsafeRawBufferPointer) throws
        -> HTTPResponseMessage
    {
        try request(method: method, path: path, headers: headers, body: body, intoData: false).0
    }

    /// Sends a request without a body and receives the response's body in place, into the `Data` returned (one
    /// allocation, no copy between the socket and the caller) when it is Content-Length framed; the message's own
    /// `body` is then empty. The Runtime API's events (up to 6 MB) arrive this way.
    package func receive(method: String, path: String, headers: [(String, String)] = []) throws -> (HTTPResponseMessage, Data) {
        let (message, data) = try request(
            method: method, path: path, headers: headers, body: UnsafeRawBufferPointer(start: nil, count: 0), intoData: true)
        return (message, data ?? Data(message.body))
    }

    private func request(method: String, path: String, headers: [(String, String)], body: UnsafeRawBufferPointer, intoData: Bool) throws
        -> (HTTPResponseMessage, Data?)
    {
        var headBytes: [UInt8] = []
        headBytes.reserveCapacity(128 + path.utf8.count)
        func add(_ s: String) { headBytes.append(contentsOf: s.utf8) }
        add(method)
        add(" ")
        add(path)
        add(" HTTP/1.1\r\n")
        if !headers.contains(where: { $0.0.lowercased() == "host" }) {  // a signed request carries its own
            add("Host: ")
            add(hostHeader)
            add("\r\n")
        }
        for (name, value) in headers {
            add(name)
            add(": ")
            add(value)
            add("\r\n")
        }
        if method != "GET" || !body.isEmpty {
            add("Content-Length: ")
            add(String(body.count))
            add("\r\n")
        }
        add("\r\n")
        let reused = fd >= 0
        do {
            return try exchange(headBytes, body, bodiless: method == "HEAD", intoData: intoData)
        } catch let error as SocketError where reused && error.beforeResponse {
            close()  // the idle keep-alive connection was closed by the peer: one fresh attempt
            return try exchange(headBytes, body, bodiless: method == "HEAD", intoData: intoData)
        }
    }

    package func close() {
        if let ssl { SSL_free(ssl) }
        ssl = nil
        if fd >= 0 { _ = Glibc.close(fd) }
        fd = -1
        inbox.removeAll(keepingCapacity: true)
    }

    private func exchange(_ head: [UInt8], _ body: UnsafeRawBufferPointer, bodiless: Bool, intoData: Bool) throws -> (
        HTTPResponseMessage, Data?
    ) {
        if fd < 0 { try connect() }
        try writeAll(head, body)
        while true {
            if intoData, !bodiless, let framed = try HTTPResponseParser.parseHead(inbox, from: 0), framed.carriesLengthFramedBody,
                let length = framed.contentLength
            {
                let data = try receiveBody(length, at: framed.bodyStart)
                if framed.closes { close() }
                return (
                    HTTPResponseMessage(status: framed.status, headers: framed.headers, body: [], closesConnection: framed.closes), data
                )
            }
            if let (response, used) = try HTTPResponseParser.parse(inbox, bodiless: bodiless) {
                inbox.removeFirst(used)
                if response.closesConnection { close() }
                return (response, nil)
            }
            let wasEmpty = inbox.isEmpty
            let n = readBuffer.withUnsafeMutableBytes { read(into: $0) }
            if n > 0 {
                inbox.append(contentsOf: readBuffer[0..<n])
                if n == readBuffer.count, let remaining = HTTPResponseParser.remainingBodyBytes(inbox), remaining > n {
                    inbox.reserveCapacity(inbox.count + remaining)  // a large body: grow once, not per read
                }
            } else if n == 0 {
                if let (response, _) = try HTTPResponseParser.parse(inbox, atEOF: true, bodiless: bodiless) {
                    close()
                    return (response, nil)
                }
                close()
                throw SocketError("connection closed by \(hostHeader) before a response", beforeResponse: wasEmpty, phase: .receive)
            } else if errno != EINTR {
                let code = errno
                close()
                let what = code == EAGAIN || code == EWOULDBLOCK ? "timed out waiting for a response" : String(cString: strerror(code))
                throw SocketError("recv from \(hostHeader): \(what)", beforeResponse: wasEmpty && code == ECONNRESET, phase: .receive)
            }
        }
    }

    /// One read from the socket (or TLS session): bytes read, 0 at end of stream, -1 with errno set.
    func read(into buffer: UnsafeMutableRawBufferPointer) -> Int {
        guard let ssl else { return recv(fd, buffer.baseAddress, buffer.count, 0) }
        let n = SSL_read(ssl, buffer.baseAddress, Int32(min(buffer.count, Int(Int32.max))))
        if n > 0 { return Int(n) }
        let error = SSL_get_error(ssl, n)
        if error == SSL_ERROR_ZERO_RETURN { return 0 }
        if error != SSL_ERROR_SYSCALL || errno == 0 { errno = ECONNRESET }
        return -1
    }

    /// Writes head and body with `sendmsg` (one syscall for both, no copy), resuming after partial writes;
    /// over TLS, with `SSL_write`.
    private func writeAll(_ head: [UInt8], _ body: UnsafeRawBufferPointer) throws {
        if let ssl {
            let wrote = head.withUnsafeBytes { SSL_write(ssl, $0.baseAddress, Int32($0.count)) > 0 }
            if !wrote || (!body.isEmpty && SSL_write(ssl, body.baseAddress, Int32(body.count)) <= 0) {
                close()
                throw SocketError("TLS write to \(hostHeader) failed: \(TLSContext.lastError())", beforeResponse: true, phase: .send)
            }
            return
        }
        var sent = 0
        let total = head.count + body.count
        while sent < total {
            let n: Int = head.withUnsafeBytes { h in
                var iov = (iovec(), iovec())
                var count = 0
                if sent < h.count {
                    iov.0 = iovec(iov_base: UnsafeMutableRawPointer(mutating: h.baseAddress! + sent), iov_len: h.count - sent)
                    count = 1
                }
                let bodyOffset = max(0, sent - h.count)
                if body.count > bodyOffset {
                    let part = iovec(
                        iov_base: UnsafeMutableRawPointer(mutating: body.baseAddress! + bodyOffset), iov_len: body.count - bodyOffset)
                    if count == 0 { iov.0 = part } else { iov.1 = part }
                    count += 1
                }
                return withUnsafeMutablePointer(to: &iov) { pair in
                    pair.withMemoryRebound(to: iovec.self, capacity: 2) { vector in
                        var msg = msghdr()
                        msg.msg_iov = vector
                        msg.msg_iovlen = count
                        return sendmsg(fd, &msg, Int32(MSG_NOSIGNAL))
                    }
                }
            }
            if n < 0 {
                if errno == EINTR { continue }
                let code = errno
                close()
                throw SocketError("send to \(hostHeader): \(String(cString: strerror(code)))", beforeResponse: true, phase: .send)
            }
            sent += n
        }
    }

    private func connect() throws {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        // Numeric hosts (Lambda's 127.0.0.1:9001) resolve without NSS, which a static binary cannot load
        // reliably on another glibc; names fall back to a full lookup.
        hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV
        var result: UnsafeMutablePointer<addrinfo>?
        var rc = getaddrinfo(host, String(port), &hints, &result)
        if rc == EAI_NONAME {
            hints.ai_flags = AI_NUMERICSERV
            rc = getaddrinfo(host, String(port), &hints, &result)
        }
        guard rc == 0, let first = result else {
            throw SocketError("cannot resolve \(host): \(String(cString: gai_strerror(rc)))", phase: .connect)
        }
        defer { freeaddrinfo(result) }
        var lastError: Int32 = 0
        var candidate: UnsafeMutablePointer<addrinfo>? = first
        while let ai = candidate {
            let s = socket(ai.pointee.ai_family, ai.pointee.ai_socktype | Int32(SOCK_CLOEXEC.rawValue), ai.pointee.ai_protocol)
            if s >= 0 {
                var one: Int32 = 1
                _ = setsockopt(s, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
                if let timeout {
                    let (seconds, attoseconds) = timeout.components
                    var tv = timeval(tv_sec: Int(seconds), tv_usec: Int(attoseconds / 1_000_000_000_000))
                    _ = setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
                    _ = setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
                }
                if Glibc.connect(s, ai.pointee.ai_addr, ai.pointee.ai_addrlen) == 0 {
                    fd = s
                    if let tls {
                        do { ssl = try tls.connect(fd: s, host: host) } catch {
                            close()
                            throw error
                        }
                    }
                    return
                }
                lastError = errno
                _ = Glibc.close(s)
            } else {
                lastError = errno
            }
            candidate = ai.pointee.ai_next
        }
        throw SocketError("connect to \(hostHeader): \(String(cString: strerror(lastError)))", phase: .connect)
    }
}

/// A socket-level failure talking to an HTTP peer.
package struct SocketError: Error, CustomStringConvertible {
    /// Where it failed: before anything was sent (`connect`, always safe to retry; `handshake`, TLS refused the
    /// peer, which a retry cannot fix) or after (`send`, `receive`).
    package enum Phase: Sendable { case connect, handshake, send, receive }
    package let message: String
    /// Nothing of a response arrived on a reused connection: the request may be retried on a new one.
    package let beforeResponse: Bool
    package let phase: Phase
    package init(_ message: String, beforeResponse: Bool = false, phase: Phase = .connect) {
        self.message = message
        self.beforeResponse = beforeResponse
        self.phase = phase
    }
    package var description: String { message }
}
