#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// AWS Signature Version 4, as a pure function of (request, credentials, region, service, time).
///
/// https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html
package enum SigV4 {
    /// How the payload enters the signature.
    package enum Payload: Sendable {
        /// SHA-256 of the body (every service).
        case signed
        /// `UNSIGNED-PAYLOAD` (S3 only; over TLS the body is still integrity-protected).
        case unsigned
    }

    /// Headers never signed: proxies and transports may add or change them.
    static let unsignedHeaders: Set<String> = [
        "authorization", "user-agent", "expect", "x-amzn-trace-id", "connection", "content-length", "transfer-encoding",
    ]

    /// Returns `request` with `X-Amz-Date`, `X-Amz-Security-Token`, `x-amz-content-sha256` (S3) and `Authorization`.
    package static func sign(
        _ request: HTTPRequest, credentials: AWSCredentials, region: String, service: String, unixTime: Int64,
        payload: Payload = .signed
    ) -> HTTPRequest {
        var signed = request
        let (amzDate, day) = timestamps(unixTime)
        signed.setHeader("X-Amz-Date", amzDate)
        if signed.header("host") == nil { signed.setHeader("Host", request.hostHeader) }
        if let token = credentials.sessionToken { signed.setHeader("X-Amz-Security-Token", token) }
        let payloadHash = payload == .unsigned ? "UNSIGNED-PAYLOAD" : Digest.hex(Digest.sha256(request.body))
        if service == "s3" { signed.setHeader("x-amz-content-sha256", payloadHash) }
        let (canonical, signedHeaders) = canonicalRequest(signed, service: service, payloadHash: payloadHash)
        let scope = "\(day)/\(region)/\(service)/aws4_request"
        let toSign = "AWS4-HMAC-SHA256\n\(amzDate)\n\(scope)\n\(Digest.hex(Digest.sha256(Array(canonical.utf8))))"
        var key = Digest.hmacSHA256(key: Array("AWS4\(credentials.secretAccessKey)".utf8), Array(day.utf8))
        for part in [region, service, "aws4_request"] { key = Digest.hmacSHA256(key: key, Array(part.utf8)) }
        let signature = Digest.hex(Digest.hmacSHA256(key: key, Array(toSign.utf8)))
        signed.setHeader(
            "Authorization",
            "AWS4-HMAC-SHA256 Credential=\(credentials.accessKeyID)/\(scope), SignedHeaders=\(signedHeaders), Signature=\(signature)")
        return signed
    }

    /// The canonical request and its signed-header list.
    package static func canonicalRequest(_ request: HTTPRequest, service: String, payloadHash: String) -> (String, String) {
        var headers: [String: [String]] = [:]
        for (name, value) in request.headers {
            let lowered = name.lowercased()
            guard !unsignedHeaders.contains(lowered) else { continue }
            headers[lowered, default: []].append(collapseSpaces(value))
        }
        let names = headers.keys.sorted()
        let canonicalHeaders = names.map { "\($0):\(headers[$0]!.joined(separator: ","))\n" }.joined()
        let signedHeaders = names.joined(separator: ";")
        let encoded: [(String, String)] = request.query.map { (URIEncoding.encode($0.0), URIEncoding.encode($0.1)) }
        let sorted = encoded.sorted { (a: (String, String), b: (String, String)) -> Bool in a.0 == b.0 ? a.1 < b.1 : a.0 < b.0 }
        let query = sorted.map { (pair: (String, String)) -> String in pair.0 + "=" + pair.1 }.joined(separator: "&")
        let canonical = [request.method, canonicalURI(request.path, service: service), query, canonicalHeaders, signedHeaders, payloadHash]
            .joined(separator: "\n")
        return (canonical, signedHeaders)
    }

    /// S3 signs the path as sent; every other service normalises it and encodes it once more.
    static func canonicalURI(_ path: String, service: String) -> String {
        if path.isEmpty { return "/" }
        if service == "s3" { return path }
        var segments: [Substring] = []
        for segment in path.split(separator: "/", omittingEmptySubsequences: true) {
            if segment == "." { continue }
            if segment == ".." {
                _ = segments.popLast()
                continue
            }
            segments.append(segment)
        }
        let trailing = path.hasSuffix("/") && !segments.isEmpty ? "/" : ""
        return "/" + segments.map { URIEncoding.encode(String($0)) }.joined(separator: "/") + trailing
    }

    static func collapseSpaces(_ value: String) -> String {
        var out = ""
        var lastSpace = false
        for c in value.trimmedSpaces() {
            if c == " " {
                if !lastSpace { out.append(c) }
                lastSpace = true
            } else {
                out.append(c)
                lastSpace = false
            }
        }
        return out
    }

    /// `YYYYMMDD'T'HHMMSS'Z'` and `YYYYMMDD` for a Unix time.
    static func timestamps(_ unixTime: Int64) -> (String, String) {
        let days = Int(unixTime >= 0 ? unixTime / 86_400 : (unixTime - 86_399) / 86_400)
        let secs = Int(unixTime - Int64(days) * 86_400)
        // Civil-from-days (Howard Hinnant's algorithm).
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        let y = yoe + era * 400 + (m <= 2 ? 1 : 0)
        func two(_ v: Int) -> String { v < 10 ? "0\(v)" : "\(v)" }
        let day = "\(y)\(two(m))\(two(d))"
        return ("\(day)T\(two(secs / 3600))\(two(secs / 60 % 60))\(two(secs % 60))Z", day)
    }
}
