#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// One HTTP request (to an AWS endpoint before or after signing, or to a model endpoint).
///
/// `path` is the request-line path as sent (already percent-encoded where the caller needed it);
/// `query` holds raw (unencoded) name/value pairs, encoded once on the wire and in the canonical request.
package struct HTTPRequest: Sendable, Equatable {
    package var method: String
    package var scheme: String
    package var host: String
    package var port: Int?
    package var path: String
    package var query: [(String, String)]
    package var headers: [(String, String)]
    package var body: Data

    package init(
        method: String, scheme: String = "https", host: String, port: Int? = nil, path: String = "/",
        query: [(String, String)] = [], headers: [(String, String)] = [], body: Data = Data()
    ) {
        self.method = method
        self.scheme = scheme
        self.host = host
        self.port = port
        self.path = path
        self.query = query
        self.headers = headers
        self.body = body
    }

    /// The `Host` header value: the host, with the port when it is not the scheme's default.
    package var hostHeader: String {
        guard let port, !(scheme == "https" && port == 443), !(scheme == "http" && port == 80) else { return host }
        return "\(host):\(port)"
    }

    /// Path plus encoded query, as it appears on the request line.
    package var target: String {
        guard !query.isEmpty else { return path }
        return path + "?" + query.map { URIEncoding.encode($0.0) + "=" + URIEncoding.encode($0.1) }.joined(separator: "&")
    }

    /// The first value of a header (case-insensitive).
    package func header(_ name: String) -> String? {
        let lowered = name.lowercased()
        return headers.first { $0.0.lowercased() == lowered }?.1
    }

    /// Sets a header, replacing any with the same name (case-insensitive).
    package mutating func setHeader(_ name: String, _ value: String) {
        let lowered = name.lowercased()
        headers.removeAll { $0.0.lowercased() == lowered }
        headers.append((name, value))
    }

    package static func == (a: Self, b: Self) -> Bool {
        a.method == b.method && a.scheme == b.scheme && a.host == b.host && a.port == b.port && a.path == b.path
            && a.query.elementsEqual(b.query, by: ==) && a.headers.elementsEqual(b.headers, by: ==) && a.body == b.body
    }
}

/// AWS's percent-encoding: RFC 3986 unreserved characters stay, every other byte becomes `%XX` (upper case).
///
/// https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html
package enum URIEncoding {
    private static let hex = Array("0123456789ABCDEF".utf8)

    package static func encode(_ s: String, keepSlash: Bool = false) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(s.utf8.count)
        for b in s.utf8 {
            switch b {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "~"):
                out.append(b)
            case UInt8(ascii: "/") where keepSlash:
                out.append(b)
            default:
                out.append(UInt8(ascii: "%"))
                out.append(hex[Int(b >> 4)])
                out.append(hex[Int(b & 0xF)])
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
