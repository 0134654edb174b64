/// A parsed HTTP/1.1 response: status, headers (names lower-cased) and the de-framed body.
public struct HTTPResponseMessage: Sendable, Equatable {
    public var status: Int
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]
    /// The server asked to close the connection (`Connection: close` or HTTP/1.0).
    public var closesConnection: Bool

    public init(status: Int, headers: [(name: String, value: String)], body: [UInt8], closesConnection: Bool = false) {
        self.status = status
        self.headers = headers
        self.body = body
        self.closesConnection = closesConnection
    }

    /// The first value of a header, by case-insensitive name.
    public func header(_ name: String) -> String? {
        let lowered = name.lowercased()
        return headers.first { $0.name == lowered }?.value
    }

    public static func == (a: Self, b: Self) -> Bool {
        a.status == b.status && a.body == b.body && a.closesConnection == b.closesConnection
            && a.headers.elementsEqual(b.headers) { $0.name == $1.name && $0.value == $1.value }
    }
}

/// A response the parser cannot make sense of.
public struct HTTPParseError: Error, Equatable, CustomStringConvertible {
    public let message: String
    public var description: String { "malformed HTTP response: \(message)" }
}

/// Incremental HTTP/1.1 response parser over a byte buffer (Content-Length, chunked, or read-to-close).
///
/// `parse` returns nil until a whole response is present, then the response and how many bytes it used.
/// https://www.rfc-editor.org/rfc/rfc9112
public enum HTTPResponseParser {
    private static let crlfcrlf: [UInt8] = [13, 10, 13, 10]

    public static func parse(_ buf: [UInt8], from start: Int = 0, atEOF: Bool = false) throws -> (HTTPResponseMessage, Int)? {
        guard let headEnd = find(crlfcrlf, in: buf, from: start) else {
            if atEOF && buf.count > start { throw HTTPParseError(message: "connection closed inside the header") }
            return nil
        }
        var lines = split(buf[start..<headEnd])
        guard !lines.isEmpty else { throw HTTPParseError(message: "empty status line") }
        let statusLine = lines.removeFirst()
        let parts = statusLine.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: true)
        guard parts.count >= 2, parts[0].hasPrefix("HTTP/1."), let status = Int(parts[1]), (100...599).contains(status) else {
            throw HTTPParseError(message: "bad status line \(statusLine.prefix(80).debugDescription)")
        }
        var headers: [(name: String, value: String)] = []
        headers.reserveCapacity(lines.count)
        var contentLength: Int?
        var chunked = false
        var closes = parts[0] == "HTTP/1.0"
        for line in lines {
            guard let colon = line.firstIndex(of: ":") else {
                throw HTTPParseError(message: "header line without colon \(line.prefix(80).debugDescription)")
            }
            let name = line[..<colon].lowercased()
            let value = line[line.index(after: colon)...].trimmedSpaces()
            headers.append((name, value))
            switch name {
            case "content-length":
                guard let n = Int(value), n >= 0 else { throw HTTPParseError(message: "bad content-length \(value)") }
                contentLength = n
            case "transfer-encoding": chunked = value.lowercased().contains("chunked")
            case "connection": closes = closes || value.lowercased() == "close"
            default: break
            }
        }
        let bodyStart = headEnd + 4
        func message(_ body: [UInt8]) -> HTTPResponseMessage {
            HTTPResponseMessage(status: status, headers: headers, body: body, closesConnection: closes)
        }
        if status == 204 || status == 304 || (100..<200).contains(status) { return (message([]), bodyStart - start) }
        if chunked {
            guard let (body, end) = try dechunk(buf, from: bodyStart) else {
                if atEOF { throw HTTPParseError(message: "connection closed inside a chunked body") }
                return nil
            }
            return (message(body), end - start)
        }
        if let length = contentLength {
            guard buf.count - bodyStart >= length else {
                if atEOF { throw HTTPParseError(message: "connection closed after \(buf.count - bodyStart) of \(length) body bytes") }
                return nil
            }
            return (message(Array(buf[bodyStart..<bodyStart + length])), bodyStart + length - start)
        }
        guard atEOF else { return nil }  // no framing: the body runs to the end of the connection
        var response = message(Array(buf[bodyStart...]))
        response.closesConnection = true
        return (response, buf.count - start)
    }

    /// The number of body bytes still expected, when the head is complete and the body is Content-Length framed.
    public static func remainingBodyBytes(_ buf: [UInt8], from start: Int = 0) -> Int? {
        guard let headEnd = find(crlfcrlf, in: buf, from: start) else { return nil }
        for line in split(buf[start..<headEnd]).dropFirst() {
            guard let colon = line.firstIndex(of: ":"), line[..<colon].lowercased() == "content-length",
                let n = Int(line[line.index(after: colon)...].trimmedSpaces())
            else { continue }
            return max(0, n - (buf.count - headEnd - 4))
        }
        return nil
    }

    private static func dechunk(_ buf: [UInt8], from start: Int) throws -> ([UInt8], Int)? {
        var body: [UInt8] = []
        var i = start
        while true {
            guard let lineEnd = find([13, 10], in: buf, from: i) else { return nil }
            let sizeText = String(decoding: buf[i..<lineEnd], as: UTF8.self).split(separator: ";").first ?? ""
            guard let size = Int(sizeText.trimmedSpaces(), radix: 16), size >= 0 else {
                throw HTTPParseError(message: "bad chunk size \(sizeText.prefix(20).debugDescription)")
            }
            let dataStart = lineEnd + 2
            if size == 0 {  // skip trailers up to the blank line
                guard let end = find(crlfcrlf, in: buf, from: lineEnd) else { return nil }
                return (body, end + 4)
            }
            guard buf.count >= dataStart + size + 2 else { return nil }
            body.append(contentsOf: buf[dataStart..<dataStart + size])
            i = dataStart + size + 2
        }
    }

    private static func split(_ head: ArraySlice<UInt8>) -> [String] {
        var lines: [String] = []
        var lineStart = head.startIndex
        var i = head.startIndex
        while i < head.endIndex {
            if head[i] == 13, i + 1 < head.endIndex, head[i + 1] == 10 {
                if i > lineStart { lines.append(String(decoding: head[lineStart..<i], as: UTF8.self)) }
                i += 2
                lineStart = i
            } else {
                i += 1
            }
        }
        if lineStart < head.endIndex { lines.append(String(decoding: head[lineStart...], as: UTF8.self)) }
        return lines
    }

    static func find(_ needle: [UInt8], in buf: [UInt8], from start: Int) -> Int? {
        guard buf.count >= needle.count, start <= buf.count - needle.count else { return nil }
        return buf.withUnsafeBufferPointer { p -> Int? in
            var i = start
            let last = p.count - needle.count
            while i <= last {
                if p[i] == needle[0] {
                    var k = 1
                    while k < needle.count && p[i + k] == needle[k] { k += 1 }
                    if k == needle.count { return i }
                }
                i += 1
            }
            return nil
        }
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
