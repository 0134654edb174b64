/// Where a service is reached: the SDK convention `AWS_ENDPOINT_URL_<SERVICE>`, then `AWS_ENDPOINT_URL`, then AWS.
///
/// https://docs.aws.amazon.com/sdkref/latest/guide/feature-ss-endpoints.html
package struct AWSEndpoint: Sendable, Equatable {
    package var scheme: String
    package var host: String
    package var port: Int?
    /// True for a custom endpoint (local stack, VPC endpoint): S3 then uses path-style addressing.
    package var isCustom: Bool

    package init(scheme: String, host: String, port: Int? = nil, isCustom: Bool) {
        self.scheme = scheme
        self.host = host
        self.port = port
        self.isCustom = isCustom
    }

    /// Parses `http(s)://host[:port][/]`; anything else is an `Analemma.InvalidConfiguration` error naming `source`.
    package init(url: String, source: String) throws {
        let parts = url.split(separator: "://", maxSplits: 1)
        guard parts.count == 2, parts[0] == "http" || parts[0] == "https" else {
            throw AnalemmaError(.invalidConfiguration, "\(source)=\(url.debugDescription) is not an http(s):// URL")
        }
        let authority = parts[1].split(separator: "/", maxSplits: 1).first.map(String.init) ?? ""
        var host = authority
        var port: Int?
        if let colon = authority.lastIndex(of: ":"), !authority.hasSuffix("]") {
            guard let p = Int(authority[authority.index(after: colon)...]), (1...65535).contains(p) else {
                throw AnalemmaError(.invalidConfiguration, "\(source)=\(url.debugDescription) has a bad port")
            }
            host = String(authority[..<colon])
            port = p
        }
        guard !host.isEmpty else { throw AnalemmaError(.invalidConfiguration, "\(source)=\(url.debugDescription) has no host") }
        self.init(scheme: String(parts[0]), host: host, port: port, isCustom: true)
    }

    /// Resolves `service` (its SDK id, e.g. `S3`, `DynamoDB`, `SQS`, `SFN`) with endpoint prefix `prefix`.
    package static func resolve(serviceID: String, prefix: String, region: String, environment: FunctionEnvironment) throws -> AWSEndpoint {
        let specific = "AWS_ENDPOINT_URL_" + serviceID.uppercased().replacing(" ", with: "_")
        if let url = environment[specific], !url.isEmpty { return try AWSEndpoint(url: url, source: specific) }
        if let url = environment["AWS_ENDPOINT_URL"], !url.isEmpty { return try AWSEndpoint(url: url, source: "AWS_ENDPOINT_URL") }
        let suffix = region.hasPrefix("cn-") ? "amazonaws.com.cn" : "amazonaws.com"
        return AWSEndpoint(scheme: "https", host: "\(prefix).\(region).\(suffix)", isCustom: false)
    }
}
