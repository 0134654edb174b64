#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// One invocation as delivered by `GET /2018-06-01/runtime/invocation/next`.
///
/// https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html#runtimes-api-next
package struct Invocation: Sendable, Equatable {
    package var requestID: String
    /// `Lambda-Runtime-Deadline-Ms`: milliseconds since the Unix epoch.
    package var deadlineMillis: Int64
    package var invokedFunctionARN: String
    package var traceID: String?
    package var clientContext: String?
    package var cognitoIdentity: String?
    package var tenantID: String?
    package var payload: Data

    package init(
        requestID: String, deadlineMillis: Int64, invokedFunctionARN: String = "", traceID: String? = nil,
        clientContext: String? = nil, cognitoIdentity: String? = nil, tenantID: String? = nil, payload: Data
    ) {
        self.requestID = requestID
        self.deadlineMillis = deadlineMillis
        self.invokedFunctionARN = invokedFunctionARN
        self.traceID = traceID
        self.clientContext = clientContext
        self.cognitoIdentity = cognitoIdentity
        self.tenantID = tenantID
        self.payload = payload
    }
}

/// The error document the Runtime API accepts: `{"errorMessage","errorType","stackTrace"}`.
///
/// https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html#runtimes-api-invokeerror
package struct RuntimeErrorPayload: Sendable, Equatable, Codable {
    package var errorMessage: String
    package var errorType: String
    package var stackTrace: [String]

    package init(errorType: String, errorMessage: String, stackTrace: [String] = []) {
        self.errorType = errorType
        self.errorMessage = errorMessage
        self.stackTrace = stackTrace
    }

    /// Maps any thrown error to a payload: a ``CodedError`` keeps its code, anything else is `Analemma.Unhandled`.
    package init(_ error: any Error) {
        if let coded = error as? any CodedError {
            self.init(errorType: coded.errorType, errorMessage: coded.errorMessage)
        } else {
            self.init(
                errorType: ErrorCode.unhandled.rawValue,
                errorMessage: "\(type(of: error)): \(String(describing: error))")
        }
    }

    /// Compact JSON for the wire (keys sorted, so the bytes are stable).
    package func jsonBytes() -> Data {
        return (try? CanonicalJSON.encode(self))
            ?? Data(#"{"errorMessage":"unencodable","errorType":"Analemma.Unhandled","stackTrace":[]}"#.utf8)
    }
}
