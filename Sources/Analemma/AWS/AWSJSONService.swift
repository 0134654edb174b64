#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// The awsJSON 1.0 protocol shared by DynamoDB, SQS and Step Functions: `POST /`,
/// `X-Amz-Target: <prefix>.<Action>`, JSON in and out.
///
/// https://smithy.io/2.0/aws/protocols/aws-json-1_0-protocol.html
package struct AWSJSONService: Sendable {
    package let client: AWSClient
    package let signingName: String
    package let targetPrefix: String
    package let endpoint: AWSEndpoint

    package init(client: AWSClient, serviceID: String, signingName: String, endpointPrefix: String, targetPrefix: String) throws {
        self.client = client
        self.signingName = signingName
        self.targetPrefix = targetPrefix
        self.endpoint = try client.endpoint(serviceID: serviceID, prefix: endpointPrefix)
    }

    /// Calls `action` with `input`; `idempotent` says whether an ambiguous failure may be retried.
    package func call<Input: Encodable, Output: Decodable>(
        _ action: String, _ input: Input, idempotent: Bool, deadlineMillis: Int64? = nil, as: Output.Type = Output.self
    ) async throws -> Output {
        let request = HTTPRequest(
            method: "POST", scheme: endpoint.scheme, host: endpoint.host, port: endpoint.port, path: "/",
            headers: [("Content-Type", "application/x-amz-json-1.0"), ("X-Amz-Target", "\(targetPrefix).\(action)")],
            body: try CanonicalJSON.encode(input))
        let response = try await client.send(
            request, signingName: signingName, operation: "\(signingName):\(action)", idempotent: idempotent, deadlineMillis: deadlineMillis
        )
        if Output.self == Empty.self, let empty = Empty() as? Output { return empty }
        do {
            return try JSONDecoder().decode(Output.self, from: response.body.isEmpty ? Data("{}".utf8) : response.body)
        } catch {
            throw AWSError(
                service: signingName, code: "InvalidResponse", message: "\(action) answer is not a valid \(Output.self): \(error)",
                status: response.status, requestID: response.header("x-amzn-RequestId"),
                rawBody: String(decoding: response.body.prefix(2000), as: UTF8.self), cancellationReasons: [])
        }
    }
}

/// An operation with no interesting output.
package struct Empty: Codable, Sendable, Equatable {
    package init() {}
}
