#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// The WebSocket API's routes.
/// https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-websocket-api-route-keys-connect-disconnect.html
extension WebSocketNotifierService {
    struct RouteEvent: Decodable {
        struct Context: Decodable {
            var routeKey: String
            var connectionId: String
        }
        var requestContext: Context
        var queryStringParameters: [String: String]?
        var headers: [String: String]?
        var body: String?

        /// The connect token: offered as a WebSocket subprotocol beside ``WebSocketNotifierService/subprotocol``
        /// (kept out of URLs, which end up in access logs), else the `token` query parameter (older clients).
        var connectToken: (token: String, subprotocol: Bool) {
            let offered = headers?.first { $0.key.lowercased() == "sec-websocket-protocol" }?.value ?? ""
            let protocols = offered.split(separator: ",").map(\.trimmingSpaces)
            if protocols.contains(WebSocketNotifierService.subprotocol),
                let token = protocols.first(where: { $0 != WebSocketNotifierService.subprotocol })
            {
                return (token, true)
            }
            return (queryStringParameters?["token"] ?? "", false)
        }
    }

    /// A client message. `token` is the connect token the client connected with: every message carries it, so an
    /// event forged by a direct Invoke with another client's `connectionId` is refused (the token is the proof).
    struct Request: Decodable {
        var action: String?
        var execution_id: String?
        var answer: JSONValue?
        var token: String?
        /// `fork`: the checkpoint (manifest id), the fields to change, the node to run from.
        var at: String?
        var set: JSONValue?
        var from: String?
    }

    /// The actions a client may send.
    static let actions = ["subscribe", "answer", "history", "fork"]

    func route(_ event: Data) async throws -> Data {
        let e: RouteEvent
        do { e = try JSONDecoder().decode(RouteEvent.self, from: event) } catch {
            throw AnalemmaError(.invalidEvent, "WebSocket route event needs requestContext {routeKey, connectionId}: \(error)")
        }
        let connection = e.requestContext.connectionId
        switch e.requestContext.routeKey {
        case "$connect":
            do {
                let offered = e.connectToken
                let token = try ConnectToken.verify(offered.token, secret: secret, nowSeconds: clock.nowMillis() / 1000)
                try await registry.register(
                    connectionID: connection, ownerID: token.ownerID, expiresAt: token.expiresAt, now: clock.nowMillis())
                // (a forged $connect naming another owner's live connection is refused by the registry: forbidden)
                logger.info("connected", ["connection": connection, "owner_id": token.ownerID])
                // the subprotocol the client offered must come back, or the browser closes the connection
                return offered.subprotocol ? Self.response(200, headers: ["Sec-WebSocket-Protocol": Self.subprotocol]) : Self.response(200)
            } catch let error as AnalemmaError where error.code == .forbidden {
                logger.warn("connection refused", ["connection": connection, "why": error.message])
                return Self.response(401, error.message)
            }
        case "$disconnect":
            // API Gateway runs $disconnect after the connection closed; one it still reports open is a forged event.
            guard try await probe.isGone(connection) else {
                logger.warn("forged $disconnect refused", ["connection": connection])
                return Self.response(403, "connection \(connection.debugDescription) is still open")
            }
            try await registry.remove(connectionID: connection)
            return Self.response(200)
        default:
            let request = e.body.flatMap { try? JSONDecoder().decode(Request.self, from: Data($0.utf8)) }
            guard let request, Self.actions.contains(request.action ?? ""), let execution = request.execution_id,
                !execution.isEmpty
            else {
                try? await post(
                    connection,
                    Self.control(
                        "error",
                        [
                            "code": ErrorCode.invalidEvent.rawValue,
                            "message":
                                "send {\"action\": \"subscribe\" | \"history\", \"execution_id\": …}, {\"action\": \"answer\", …, \"answer\": {…}} "
                                + "or {\"action\": \"fork\", …, \"at\": MANIFEST_ID, \"set\": {…}, \"from\": NODE}",
                        ]))
                return Self.response(400, "unknown action")
            }
            do {
                switch request.action {
                case "answer":
                    return try await answer(connection, execution: execution, with: request.answer ?? .null, token: request.token)
                case "history", "fork": return try await travel(connection, request, execution: execution)
                default: break
                }
                return try await subscribe(connection, to: execution, token: request.token)
            } catch let refusal as Refusal {
                return refusal.response
            }
        }
    }

    /// The connection's owner and the execution's head manifest when the message carries that owner's connect token
    /// and the owner owns the execution; otherwise throws a ``Refusal`` carrying the route's response (a message
    /// without the connection's own token is refused before anything is read, written or posted).
    func owned(_ connection: String, _ executionID: String, token: String?) async throws
        -> (owner: String, expiresAt: Int64, manifest: Manifest)
    {
        // The signature is checked first (time aside): only then is the message known to come from a holder of the
        // owner's token, and only such a holder is ever told anything on the connection.
        guard let proof = try? ConnectToken.verify(token ?? "", secret: secret, nowSeconds: Int64.min),
            let (owner, expiresAt) = try await registry.owner(of: connection), owner == proof.ownerID
        else {
            logger.warn("message refused", ["connection": connection, "why": "no connect token of the connection's owner"])
            throw Refusal(response: Self.response(401, "every message carries the connection's own connect token"))
        }
        guard min(expiresAt, proof.expiresAt) > clock.nowMillis() / 1000 else {  // checked at $connect; it also ends there
            let message = "connect token expired: reconnect with a new token (analemma token OWNER)"
            try? await post(connection, Self.control("error", ["code": ErrorCode.forbidden.rawValue, "message": message]))
            throw Refusal(response: Self.response(401, message))
        }
        var manifest: Manifest?
        if let id = try await manifests.head(executionID: executionID).manifestID {
            manifest = try await manifests.manifest(executionID: executionID, manifestID: id)
        }
        guard let manifest, manifest.ownerID == owner else {
            let message =
                "execution \(String(executionID.prefix(300)).debugDescription) is not one of owner \(owner.debugDescription)'s executions"
            logger.warn("refused", ["connection": connection, "owner_id": owner, "execution_id": executionID])
            try? await post(connection, Self.control("error", ["code": ErrorCode.forbidden.rawValue, "message": message]))
            throw Refusal(response: Self.response(403, message))
        }
        return (owner, expiresAt, manifest)
    }

    struct Refusal: Error { var response: Data }

    /// Answers the execution's pending human question (the owner's own executions only).
    func answer(_ connection: String, execution executionID: String, with value: JSONValue, token: String?) async throws -> Data {
        guard let answers else { return Self.response(404, "answering is off") }
        let manifest = try await owned(connection, executionID, token: token).manifest
        do {
            switch try await answers.answer(at: manifest, with: value) {
            case .accepted(let node):
                try await post(connection, Self.control("answered", ["execution_id": executionID, "node": node, "status": "accepted"]))
                return Self.response(200)
            case .refused(let node, let reason):
                try await post(
                    connection,
                    Self.control("answer_refused", ["execution_id": executionID, "node": node, "status": "refused", "reason": reason]))
                return Self.response(400, reason)
            case .alreadyAnswered:
                try await post(connection, Self.control("already_answered", ["execution_id": executionID, "status": "already_answered"]))
                return Self.response(409, "this question was already answered")
            }
        } catch let error as AnalemmaError {
            try? await post(connection, Self.control("error", ["code": error.code.rawValue, "message": error.message]))
            return Self.response(400, error.message)
        }
    }

    /// Subscribes a connection to one of its owner's executions and sends what happened so far.
    func subscribe(_ connection: String, to executionID: String, token: String?) async throws -> Data {
        let (owner, expiresAt, manifest) = try await owned(connection, executionID, token: token)
        try await registry.subscribe(connectionID: connection, executionID: executionID, ownerID: owner, expiresAt: expiresAt)
        try await post(
            connection, Self.control("subscribed", ["execution_id": executionID, "trace_id": manifest.traceID ?? "", "owner_id": owner]))
        do {  // the graph is a picture: a workflow that cannot be read never stops the events
            if let graphs { try await post(connection, try await graphs.message(at: manifest)) }
        } catch let gone as APIGatewayManagement.ConnectionGone {
            throw gone
        } catch {
            logger.warn("workflow graph not sent", ["execution_id": executionID, "why": "\(error)"])
        }
        for shard in try await eventLog.shards(ownerID: owner, executionID: executionID, limit: backlogShards) {
            let records = try await eventLog.read(shard)
            for message in pruner.messages(
                records: records, executionID: executionID, traceID: manifest.traceID ?? "", shard: shard.description)
            {
                try await post(connection, message)
            }
        }
        return Self.response(200)
    }

    /// Posts, dropping the connection from the registry when API Gateway says it is gone (410).
    func post(_ connection: String, _ data: Data) async throws {
        do {
            try await connections.post(to: connection, data: data)
        } catch let gone as APIGatewayManagement.ConnectionGone {
            try await registry.remove(connectionID: connection)
            throw gone
        }
    }
}

extension WebSocketNotifierService {
    /// `history` (the execution's checkpoints) and `fork` (a new execution from one), for the owner's own executions.
    func travel(_ connection: String, _ request: Request, execution: String) async throws -> Data {
        guard let timeTravel else { return Self.response(404, "time travel is off (WORKFLOW_STATE_MACHINE_ARN is not set)") }
        let owner = try await owned(connection, execution, token: request.token).owner
        do {
            if request.action == "history" {
                try await post(connection, try await timeTravel.message(executionID: execution))
                return Self.response(200)
            }
            let started = try await timeTravel.fork(
                executionID: execution, ownerID: owner, at: request.at ?? "", set: request.set, from: request.from)
            logger.info("forked", ["connection": connection, "execution_id": execution, "fork": started])
            try await post(connection, Self.control("forked", ["execution_id": started, "forked_from": execution, "at": request.at ?? ""]))
            return Self.response(200)
        } catch let error as AnalemmaError {
            try? await post(connection, Self.control("error", ["code": error.code.rawValue, "message": error.message]))
            return Self.response(400, error.message)
        } catch let gone as APIGatewayManagement.ConnectionGone {
            throw gone
        } catch {  // an AWS refusal (StartExecution throttled, denied): the client hears of it
            try? await post(connection, Self.control("error", ["code": ErrorCode.transient.rawValue, "message": "\(error)"]))
            throw error
        }
    }
}
