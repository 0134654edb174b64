#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// API Gateway Management API for WebSocket APIs (`@connections`): post to, inspect and drop connections.
///
/// https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-how-to-call-websocket-api-connections.html
package struct APIGatewayManagement: Sendable {
    package let client: AWSClient
    package let endpoint: AWSEndpoint
    /// The stage path (`/production`), from the callback URL.
    package let stagePath: String

    /// `callbackURL` is `https://{api-id}.execute-api.{region}.amazonaws.com/{stage}` (or a local endpoint).
    package init(client: AWSClient, callbackURL: String) throws {
        self.client = client
        endpoint = try AWSEndpoint(url: callbackURL, source: "callback URL")
        let afterScheme = callbackURL.split(separator: "://", maxSplits: 1).last.map(String.init) ?? ""
        let path = afterScheme.firstIndex(of: "/").map { String(afterScheme[$0...]) } ?? ""
        stagePath = path.hasSuffix("/") ? String(path.dropLast()) : path
    }

    /// The connection is gone (410): drop it from the registry.
    package struct ConnectionGone: Error, Sendable, Equatable {
        package let connectionID: String
        package init(connectionID: String) { self.connectionID = connectionID }
    }

    func call(_ method: String, _ connectionID: String, body: Data = Data(), operation: String) async throws -> HTTPResponse {
        let request = HTTPRequest(
            method: method, scheme: endpoint.scheme, host: endpoint.host, port: endpoint.port,
            path: "\(stagePath)/@connections/\(URIEncoding.encode(connectionID))", body: body)
        do {
            return try await client.send(request, signingName: "execute-api", operation: operation, idempotent: method != "POST")
        } catch let e as AWSError where e.status == 410 || e.code == "GoneException" {
            throw ConnectionGone(connectionID: connectionID)
        }
    }

    /// PostToConnection (API Gateway's limit: 128 KB per message).
    package func post(to connectionID: String, data: Data) async throws {
        _ = try await call("POST", connectionID, body: data, operation: "execute-api:PostToConnection")
    }

    /// DeleteConnection.
    package func delete(_ connectionID: String) async throws {
        _ = try await call("DELETE", connectionID, operation: "execute-api:DeleteConnection")
    }

    /// GetConnection: the raw JSON description (`connectedAt`, `identity`, `lastActiveAt`).
    package func get(_ connectionID: String) async throws -> Data {
        try await call("GET", connectionID, operation: "execute-api:GetConnection").body
    }
}
