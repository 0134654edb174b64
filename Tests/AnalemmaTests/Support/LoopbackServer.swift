import Foundation
import Glibc

/// A one-thread HTTP peer on 127.0.0.1 for transport tests: answers each request from a script and counts
/// connections. `closeAfter` closes the connection after that many requests on it.
final class LoopbackServer: @unchecked Sendable {
    let port: UInt16
    private let listener: Int32
    private let lock = NSLock()
    private var _connections = 0
    private var _requests: [String] = []
    private var _heads: [String] = []
    private let reply: @Sendable (String) -> String
    private let closeAfter: Int

    init(closeAfter: Int = .max, reply: @escaping @Sendable (String) -> String) throws {
        self.reply = reply
        self.closeAfter = closeAfter
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        self.listener = listener
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = 0
        var one: Int32 = 1
        setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        let bound = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(listener, 8) == 0 else { throw POSIXError(.EADDRINUSE) }
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &len) } }
        port = UInt16(bigEndian: addr.sin_port)
        Thread.detachNewThread { [self] in serve() }
    }

    var connections: Int { lock.withLock { _connections } }
    var requests: [String] { lock.withLock { _requests } }
    /// Whole request heads (request line and headers).
    var heads: [String] { lock.withLock { _heads } }

    private func serve() {
        while true {
            let fd = accept(listener, nil, nil)
            if fd < 0 {
                close(listener)
                stopped.signal()
                return
            }
            lock.withLock { _connections += 1 }
            var buffer: [UInt8] = []
            var served = 0
            var chunk = [UInt8](repeating: 0, count: 65536)
            connection: while served < closeAfter {
                // Read one request head (+ Content-Length body).
                while true {
                    if let end = buffer.firstRange(of: Array("\r\n\r\n".utf8)) {
                        let head = String(decoding: buffer[..<end.lowerBound], as: UTF8.self)
                        let length =
                            head.split(separator: "\r\n").first { $0.lowercased().hasPrefix("content-length:") }
                            .flatMap { Int($0.split(separator: ":")[1].trimmingCharacters(in: .whitespaces)) } ?? 0
                        if buffer.count >= end.upperBound + length {
                            let body = String(decoding: buffer[end.upperBound..<end.upperBound + length], as: UTF8.self)
                            buffer.removeFirst(end.upperBound + length)
                            let request = head.split(separator: "\r\n").first.map(String.init) ?? ""
                            lock.withLock {
                                _requests.append(request + (body.isEmpty ? "" : " " + body))
                                _heads.append(head)
                            }
                            let answer = Array(reply(request).utf8)
                            _ = answer.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                            served += 1
                            continue connection
                        }
                    }
                    let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
                    if n <= 0 { break connection }
                    buffer.append(contentsOf: chunk[0..<n])
                }
            }
            close(fd)
        }
    }

    private let stopped = DispatchSemaphore(value: 0)

    /// Stops accepting and waits until the listener is closed: afterwards nothing listens on `port`.
    /// Only the accept thread closes the descriptor, so it can never accept on a number reused by another socket.
    func stop() {
        shutdown(listener, Int32(SHUT_RDWR))
        stopped.wait()
    }
}
