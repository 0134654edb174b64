import Synchronization

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// A transport that counts, as AWS bills them, the requests it carries (``Usage``); the segment runner's clients
/// send through one, and ``UsageLedger`` attributes its readings to executions.
///
/// The service is the one the request was signed for (SigV4's credential scope). A request that got no response, a
/// 5xx or a throttling refusal is not billed and not counted; S3 DELETE is free.
package final class MeteredTransport: HTTPTransport {
    private let inner: any HTTPTransport
    private let counted = Mutex(Usage())

    package init(_ inner: any HTTPTransport) { self.inner = inner }

    /// Everything counted since this transport was made (a reading; subtract two to get what happened between).
    package var total: Usage { counted.withLock { $0 } }

    package func send(_ request: HTTPRequest, timeout: Duration) async throws -> HTTPResponse {
        let response = try await inner.send(request, timeout: timeout)
        let usage = Self.usage(of: request, response: response)
        if !usage.isEmpty { counted.withLock { $0 = $0 + usage } }
        return response
    }

    /// What one exchange is billed as (nothing for a service the kernel does not price).
    package static func usage(of request: HTTPRequest, response: HTTPResponse) -> Usage {
        var usage = Usage()
        guard response.status < 500, !isThrottled(response) else { return usage }
        func chunks(_ bytes: Int, of size: Int) -> Int { max(1, (bytes + size - 1) / size) }
        switch service(of: request) {
        case "s3":
            switch request.method {
            case "DELETE": break
            case "GET" where isList(request): usage.s3Writes = 1
            case "GET", "HEAD": usage.s3Reads = 1
            case "PUT", "POST": usage.s3Writes = 1
            default: usage.s3Reads = 1
            }
        case "dynamodb":
            let operation = request.header("X-Amz-Target")?.split(separator: ".").last.map(String.init) ?? ""
            usage.dynamoWriteUnits = DynamoDBUnits.writes(operation, request: request.body)
            usage.dynamoReadUnits = DynamoDBUnits.reads(operation, request: request.body, response: response.body)
        // https://aws.amazon.com/sqs/pricing/ (each 64 KB chunk of a payload is billed as one request)
        case "sqs": usage.sqsRequests = chunks(request.body.count, of: 65_536)
        // https://aws.amazon.com/api-gateway/pricing/ (WebSocket messages are metered in 32 KB increments)
        case "execute-api": usage.webSocketMessages = chunks(request.body.count, of: 32_768)
        case "states": usage.stepFunctionsRequests = 1
        default: break
        }
        return usage
    }

    /// The service in the request's SigV4 credential scope (`Credential=<key>/<date>/<region>/<service>/aws4_request`).
    static func service(of request: HTTPRequest) -> String? {
        guard let authorization = request.header("Authorization"),
            let credential = authorization.split(separator: " ").first(where: { $0.hasPrefix("Credential=") })
        else { return nil }
        let scope = credential.dropFirst("Credential=".count).prefix { $0 != "," }.split(separator: "/")
        return scope.count == 5 ? String(scope[3]) : nil
    }

    /// A GET of a bucket rather than of an object (ListObjectsV2 and the like: billed in the PUT tier). The kernel's
    /// client lists with `list-type=2`; a GET of `/` (a virtual-hosted bucket) is a list too.
    static func isList(_ request: HTTPRequest) -> Bool {
        let listing: Set<String> = ["list-type", "uploads", "versions", "prefix", "delimiter"]
        return request.query.contains { listing.contains($0.0) } || request.path.split(separator: "/").isEmpty
    }

    /// A refusal AWS does not bill: throttling and provisioned-throughput errors.
    static func isThrottled(_ response: HTTPResponse) -> Bool {
        guard response.status == 400 || response.status == 429 else { return false }
        if response.status == 429 { return true }
        let body = String(decoding: response.body.prefix(512), as: UTF8.self)
        return body.contains("Throttl") || body.contains("ProvisionedThroughputExceeded") || body.contains("RequestLimitExceeded")
    }
}
