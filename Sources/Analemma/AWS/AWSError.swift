#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// An error answered by an AWS service: code (`__type` after `#` for JSON services, `<Code>` for S3), message,
/// HTTP status and request id; the raw body is kept when it cannot be parsed.
package struct AWSError: Error, Sendable, Equatable, CustomStringConvertible {
    package var service: String
    package var code: String
    package var message: String
    package var status: Int
    package var requestID: String?
    package var rawBody: String?
    /// DynamoDB `TransactionCanceledException`: one reason per action, in request order (`"None"` when it passed).
    package var cancellationReasons: [CancellationReason]
    /// DynamoDB `ConditionalCheckFailedException` with `ReturnValuesOnConditionCheckFailure`: the item as it was.
    package var item: DynamoItem?
    /// How long the service asked callers to wait (`Retry-After`, whole seconds, 0–3,600).
    package var retryAfter: Duration?

    package struct CancellationReason: Sendable, Equatable, Codable {
        package var code: String?
        package var message: String?
        /// The item as it was, for a failed condition (`ReturnValuesOnConditionCheckFailure: ALL_OLD`).
        package var item: DynamoItem?
        enum CodingKeys: String, CodingKey {
            case code = "Code"
            case message = "Message"
            case item = "Item"
        }
    }

    package var description: String {
        "\(service) \(status) \(code): \(message)\(requestID.map { " (request id \($0))" } ?? "")"
    }

    static let throttlingCodes: Set<String> = [
        "Throttling", "ThrottlingException", "ThrottledException", "RequestThrottledException", "TooManyRequestsException",
        "ProvisionedThroughputExceededException", "TransactionInProgressException", "RequestLimitExceeded",
        "BandwidthLimitExceeded", "LimitExceededException", "RequestThrottled", "SlowDown", "PriorRequestNotComplete",
        "EC2ThrottledException",
    ]

    /// The service did not process the request (429, or a throttling code): always safe to retry.
    package var isThrottling: Bool { status == 429 || Self.throttlingCodes.contains(code) }

    /// A write that lost a race and was applied to nothing, so retrying it is safe whatever the call:
    /// DynamoDB's `TransactionConflictException`, a transaction cancelled only for conflicts (or throttling) of its
    /// items, and S3's `409 ConditionalRequestConflict` for concurrent conditional writes of one key ("retry").
    /// https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_TransactWriteItems.html
    /// https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-requests.html
    package var isConflict: Bool {
        if code == "TransactionConflictException" { return true }
        if status == 409 && code == "ConditionalRequestConflict" { return true }
        guard code == "TransactionCanceledException", !cancellationReasons.isEmpty else { return false }
        let codes = cancellationReasons.map { $0.code ?? "None" }
        return codes.contains("TransactionConflict")
            && codes.allSatisfy { ["None", "TransactionConflict", "ThrottlingError"].contains($0) }
    }

    /// A server-side failure (5xx): the request may or may not have been applied.
    package var isServerError: Bool { status >= 500 }

    /// Decodes an error response of a JSON (awsJSON 1.0, REST-JSON) or XML (S3) service.
    package static func decode(service: String, response: HTTPResponse) -> AWSError {
        let requestID = response.header("x-amzn-RequestId") ?? response.header("x-amz-request-id")
        var error = AWSError(
            service: service, code: "HTTP\(response.status)", message: "", status: response.status, requestID: requestID,
            rawBody: nil, cancellationReasons: [])
        if let typeHeader = response.header("x-amzn-ErrorType") {
            error.code = String(typeHeader.split(separator: ":").first ?? Substring(typeHeader))
        }
        let text = String(decoding: response.body, as: UTF8.self)
        if response.body.first == UInt8(ascii: "{"), let json = try? JSONDecoder().decode(JSONErrorBody.self, from: response.body) {
            if let type = json.__type ?? json.code ?? json.Code {
                error.code = String(type.split(separator: "#").last ?? Substring(type))
            }
            error.message = json.message ?? json.Message ?? ""
            error.cancellationReasons = json.CancellationReasons ?? []
            error.item = json.Item
        } else if let code = XMLScanner.firstText(of: "Code", in: text) {
            error.code = code
            error.message = XMLScanner.firstText(of: "Message", in: text) ?? ""
            error.requestID = XMLScanner.firstText(of: "RequestId", in: text) ?? error.requestID
        } else {
            if !text.isEmpty { error.rawBody = text }
            switch response.status {  // bodiless answers (HEAD) still get a useful code
            case 304: error.code = "NotModified"
            case 404: error.code = "NotFound"
            case 412: error.code = "PreconditionFailed"
            case 410: error.code = "GoneException"
            default: break
            }
        }
        if error.message.isEmpty { error.message = error.rawBody.map { String($0.prefix(500)) } ?? "HTTP \(response.status)" }
        if let seconds = response.header("Retry-After").flatMap(Int.init), (0...3600).contains(seconds) {
            error.retryAfter = .seconds(seconds)
        }
        return error
    }
}

/// The fields JSON services put in an error body.
private struct JSONErrorBody: Decodable {
    var __type: String?
    var code: String?
    var Code: String?
    var message: String?
    var Message: String?
    var CancellationReasons: [AWSError.CancellationReason]?
    var Item: DynamoItem?
}

/// A non-idempotent call failed after it may have reached the service (timeout, dropped connection, 5xx).
/// It was not retried blindly: the caller decides (read back, or retry with an idempotency token).
package struct AmbiguousFailure: Error, Sendable, CustomStringConvertible {
    package let operation: String
    package let underlying: String
    package var description: String { "\(operation) may or may not have been applied: \(underlying)" }
}
