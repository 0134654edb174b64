import Glibc

/// A parsed HTTP/1.1 response: status, headers (names lower-cased) and the de-framed body.
package struct HTTPResponseMessage: Sendable, Equatable {
    package var status: Int
    package var headers: [(name: String, value: String)]
    package var body: [UInt8]
    /// The server asked to close the connection (`Connection: close` or HTTP/1.0).
    package var closesConnection: Bool

    package init(status: Int, headers: [(name: String, value: String)], body: [UInt8], closesConnection: Bool = false) {
        self.status = status
        self.headers = headers
        self.body = body
        self.closesConnection = closesConnection
    }

    /// The first value of a header, by case-insensitive name.
    package func header(_ name: String) -> String? {
        value(lowercased: name.utf8.contains { $0 >= 65 && $0 <= 90 } ? name.lowercased() : name)
    }

    /// The first value of a header whose lower-case name is given (no case folding: the hot path).
    func value(lowercased name: String) -> String? {
        headers.first { $0.name == name }?.value
    }

    package static func == (a: Self, b: Self) -> Bool {
        a.status == b.status && a.body == b.body && a.closesConnection == b.closesConnection
            && a.headers.elementsEqual(b.headers) { $0.name == $1.name && $0.value == $1.value }
    }
}

/// A response the parser cannot make sense of.
package struct HTTPParseError: Error, Equatable, CustomStringConvertible {
    package let message: String
    package var description: String { "malformed HTTP response: \(message)" }
}

/// Incremental HTTP/1.1 response parser over a byte buffer (Content-Length, chunked, or read-to-close).
///
/// `parse` returns nil until a whole response is present, then the response and how many bytes it used.
/// Works on bytes (no `Character` processing): this is the runtime loop's hot path.
/// https://www.rfc-editor.org/rfc/rfc9112
package enum HTTPResponseParser {
    /// The parsed status line and header block.
    struct Head {
        var status: Int
        var headers: [(name: String, value: String)]
        var contentLength: Int?
        var chunked: Bool
        var closes: Bool
        var bodyStart: Int
    }

    /// - Parameter bodiless: the request was HEAD: no body follows whatever Content-Length says (RFC 9110 §9.3.2).
    package static func parse(_ buf: [UInt8], from start: Int = 0, atEOF: Bool = false, bodiless: Bool = false) throws -> (
        HTTPResponseMessage, Int
    )? {
        guard let head = try parseHead(buf, from: start) else {
            if atEOF && buf.count > start { throw HTTPParseError(message: "connection closed inside the header") }
            return nil
        }
        func message(_ body: [UInt8], closes: Bool = head.closes) -> HTTPResponseMessage {
            HTTPResponseMessage(status: head.status, headers: head.headers, body: body, closesConnection: closes)
        }
        let bodyStart = head.bodyStart
        if bodiless || head.status == 204 || head.status == 304 || (100..<200).contains(head.status) {
            return (message([]), bodyStart - start)
        }
        if head.chunked {
            guard let (body, end) = try dechunk(buf, from: bodyStart) else {
                if atEOF { throw HTTPParseError(message: "connection closed inside a chunked body") }
                return nil
            }
            return (message(body), end - start)
        }
        if let length = head.contentLength {
            guard buf.count - bodyStart >= length else {
                if atEOF { throw HTTPParseError(message: "connection closed after \(buf.count - bodyStart) of \(length) body bytes") }
                return nil
            }
            return (message(Array(buf[bodyStart..<bodyStart + length])), bodyStart + length - start)
        }
        guard atEOF else { return nil }  // no framing: the body runs to the end of the connection
        return (message(Array(buf[bodyStart...]), closes: true), buf.count - start)
    }

    /// Body bytes still expected for a Content-Length framed response whose head is complete (nil otherwise).
    package static func remainingBodyBytes(_ buf: [UInt8], from start: Int = 0) -> Int? {
        guard let head = try? parseHead(buf, from: start), let length = head.contentLength else { return nil }
        return max(0, length - (buf.count - head.bodyStart))
    }

    static func parseHead(_ buf: [UInt8], from start: Int) throws -> Head? {
        try buf.withUnsafeBufferPointer { p -> Head? in
            guard let headEnd = find(crlfcrlf, in: p, from: start) else { return nil }
            var lineStart = start
            var lineEnd = find(crlf, in: p, from: start) ?? headEnd
            // Status line: HTTP/1.x SP 3DIGIT SP reason
            let statusLine = UnsafeBufferPointer(rebasing: p[lineStart..<lineEnd])
            guard statusLine.count >= 12, statusLine.starts(with: httpSlash1), statusLine[8] == 32,
                let status = digits(statusLine[9..<12]), (100...599).contains(status),
                statusLine.count == 12 || statusLine[12] == 32
            else {
                throw HTTPParseError(message: "bad status line \(String(decoding: statusLine.prefix(80), as: UTF8.self).debugDescription)")
            }
            var head = Head(
                status: status, headers: [], contentLength: nil, chunked: false, closes: statusLine[7] == 48, bodyStart: headEnd + 4)
            head.headers.reserveCapacity(8)
            while lineEnd < headEnd {
                lineStart = lineEnd + 2
                lineEnd = find(crlf, in: p, from: lineStart) ?? headEnd
                if lineEnd > headEnd { lineEnd = headEnd }
                let line = UnsafeBufferPointer(rebasing: p[lineStart..<lineEnd])
                guard let colon = line.firstIndex(of: 58) else {
                    throw HTTPParseError(
                        message: "header line without colon \(String(decoding: line.prefix(80), as: UTF8.self).debugDescription)")
                }
                let name = String(unsafeUninitializedCapacity: colon) { out in
                    for i in 0..<colon { out[i] = line[i] | (line[i] >= 65 && line[i] <= 90 ? 0x20 : 0) }
                    return colon
                }
                var v0 = colon + 1
                var v1 = line.count
                while v0 < v1, line[v0] == 32 || line[v0] == 9 { v0 += 1 }
                while v1 > v0, line[v1 - 1] == 32 || line[v1 - 1] == 9 { v1 -= 1 }
                let value = String(decoding: UnsafeBufferPointer(rebasing: line[v0..<v1]), as: UTF8.self)
                switch name {
                case "content-length":
                    guard let n = Int(value), n >= 0 else { throw HTTPParseError(message: "bad content-length \(value)") }
                    head.contentLength = n
                case "transfer-encoding": head.chunked = value.lowercased().contains("chunked")
                case "connection": head.closes = head.closes || value.lowercased() == "close"
                default: break
                }
                head.headers.append((name, value))
            }
            return head
        }
    }

    private static func dechunk(_ buf: [UInt8], from start: Int) throws -> ([UInt8], Int)? {
        try buf.withUnsafeBufferPointer { p -> ([UInt8], Int)? in
            var body: [UInt8] = []
            var i = start
            while true {
                guard let lineEnd = find(crlf, in: p, from: i) else { return nil }
                let sizeText =
                    String(decoding: UnsafeBufferPointer(rebasing: p[i..<lineEnd]), as: UTF8.self)
                    .split(separator: ";").first ?? ""
                guard let size = Int(sizeText.trimmedSpaces(), radix: 16), size >= 0 else {
                    throw HTTPParseError(message: "bad chunk size \(sizeText.prefix(20).debugDescription)")
                }
                let dataStart = lineEnd + 2
                if size == 0 {  // skip trailers up to the blank line
                    guard let end = find(crlfcrlf, in: p, from: lineEnd) else { return nil }
                    return (body, end + 4)
                }
                guard p.count >= dataStart + size + 2 else { return nil }
                body.append(contentsOf: UnsafeBufferPointer(rebasing: p[dataStart..<dataStart + size]))
                i = dataStart + size + 2
            }
        }
    }

    private static let crlf: [UInt8] = [13, 10]
    private static let crlfcrlf: [UInt8] = [13, 10, 13, 10]
    private static let httpSlash1: [UInt8] = Array("HTTP/1.".utf8)

    private static func digits(_ bytes: Slice<UnsafeBufferPointer<UInt8>>) -> Int? {
        var n = 0
        for b in bytes {
            guard b >= 48 && b <= 57 else { return nil }
            n = n * 10 + Int(b - 48)
        }
        return n
    }

    /// First index of `needle` in `p` at or after `start` (memchr for the first byte, then compare).
    static func find(_ needle: [UInt8], in p: UnsafeBufferPointer<UInt8>, from start: Int) -> Int? {
        guard let base = p.baseAddress, let first = needle.first else { return nil }
        var i = start
        while p.count - i >= needle.count {
            guard let hit = memchr(base + i, Int32(first), p.count - i - needle.count + 1) else { return nil }
            let at = base.distance(to: hit.assumingMemoryBound(to: UInt8.self))
            var k = 1
            while k < needle.count && p[at + k] == needle[k] { k += 1 }
            if k == needle.count { return at }
            i = at + 1
        }
        return nil
    }
}

extension StringProtocol {
    /// The text without leading and trailing spaces and tabs (HTTP optional white space).
    func trimmedSpaces() -> String {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\t" { s.removeFirst() }
        while let l = s.last, l == " " || l == "\t" { s.removeLast() }
        return String(s)
    }
}
