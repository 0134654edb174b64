import Glibc

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// Receiving a large body in place: straight from the socket into the buffer the caller keeps.
extension SocketHTTPClient {
    /// Reads a `length`-byte body that starts at `start` in the inbox (whatever of it already arrived is moved out
    /// of the inbox; the rest is received directly into the buffer) and hands the buffer over as `Data`.
    func receiveBody(_ length: Int, at start: Int) throws -> Data {
        guard let buffer = malloc(max(length, 1)) else {
            close()
            throw SocketError("cannot allocate \(length) bytes for a response body from \(hostHeader)", phase: .receive)
        }
        let arrived = min(length, max(0, inbox.count - start))
        inbox.withUnsafeBytes { bytes in
            if arrived > 0, let base = bytes.baseAddress { memcpy(buffer, base + start, arrived) }
        }
        inbox.removeFirst(min(inbox.count, start + arrived))
        var filled = arrived
        while filled < length {
            let n = read(into: UnsafeMutableRawBufferPointer(start: buffer + filled, count: length - filled))
            if n > 0 {
                filled += n
            } else if n < 0 && errno == EINTR {
                continue
            } else {
                let what = n == 0 ? "connection closed" : String(cString: strerror(errno))
                free(buffer)
                close()
                throw SocketError("recv from \(hostHeader): \(what) after \(filled) of \(length) body bytes", phase: .receive)
            }
        }
        return Data(bytesNoCopy: buffer, count: length, deallocator: .free)
    }
}

extension HTTPResponseParser.Head {
    /// The response has a body framed by Content-Length alone (not chunked, not a status without a body).
    var carriesLengthFramedBody: Bool {
        contentLength != nil && !chunked && status >= 200 && status != 204 && status != 304
    }
}
