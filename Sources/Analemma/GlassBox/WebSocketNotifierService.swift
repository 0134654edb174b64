#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// The WebSocket notifier (Tiny Handler `websocket-notifier`): API Gateway WebSocket routes (`$connect` with an
/// owner token, `subscribe`, `$disconnect`, `$default`) and shard announcements from the events queue (SQS, pointer
/// only), which it turns into pruned messages posted to the execution's subscribers.
///
/// Event and response shapes: `Functions/websocket-notifier/README.md`.
public struct WebSocketNotifierService: LambdaHandler {
    package let registry: ConnectionRegistry
    package let manifests: ManifestStore
    package let eventLog: EventLog
    /// Posts to connections (`WEBSOCKET_CALLBACK_URL`): `https://{api-id}.execute-api.{region}.amazonaws.com/{stage}`.
    package let connections: any ConnectionPoster
    /// Whether API Gateway still holds a connection (GetConnection), so a forged `$disconnect` is told apart.
    package let probe: any ConnectionProbe
    /// Answers a pending human question from a WebSocket client (`answer` route); nil turns the route off.
    package let answers: HumanAnswers?
    /// Sends a subscriber the execution's workflow graph; nil sends none.
    package let graphs: WorkflowGraphs?
    /// The checkpoint history and forks the viewer asks for; nil turns those routes off.
    package let timeTravel: ViewerTimeTravel?
    package let secret: String
    package let clock: any WallClock
    package let logger: Logger
    package var pruner = MessagePruner()
    /// The most shards a new subscriber is sent from an execution's past.
    package var backlogShards = 500

    package init(
        registry: ConnectionRegistry, manifests: ManifestStore, eventLog: EventLog, connections: any ConnectionPoster,
        probe: any ConnectionProbe, answers: HumanAnswers? = nil, graphs: WorkflowGraphs? = nil, timeTravel: ViewerTimeTravel? = nil,
        secret: String,
        clock: any WallClock = SystemWallClock(), logger: Logger
    ) throws {
        try ConnectToken.checkSecret(secret)
        self.registry = registry
        self.manifests = manifests
        self.eventLog = eventLog
        self.connections = connections
        self.probe = probe
        self.answers = answers
        self.graphs = graphs
        self.timeTravel = timeTravel
        self.secret = secret
        self.clock = clock
        self.logger = logger
    }

    public func handle(_ event: Data, context: LambdaContext) async throws -> Data {
        guard let members = JSONScanner.object(event) else {
            throw AnalemmaError(.invalidEvent, "websocket-notifier event must be a JSON object (a WebSocket route or an SQS event)")
        }
        if members["requestContext"] != nil { return try await route(event) }
        if members["Records"] != nil { return try await notifyBatch(event) }
        throw AnalemmaError(
            .invalidEvent, "websocket-notifier event has neither requestContext (a WebSocket route) nor Records (the events queue)")
    }

    /// A message for one connection (`subscribed`, `error`).
    static func control(_ type: String, _ fields: [String: String]) -> Data {
        JSONValue.object(fields.mapValues { .string($0) }.merging(["type": .string(type)]) { a, _ in a }).jsonData()
    }

    static func response(_ status: Int, _ body: String = "", headers: [String: String] = [:]) -> Data {
        var doc: [String: JSONValue] = ["statusCode": .number(Double(status)), "body": .string(body)]
        if !headers.isEmpty { doc["headers"] = .object(headers.mapValues { .string($0) }) }
        return JSONValue.object(doc).jsonData()
    }

    /// The WebSocket subprotocol a client offers with its connect token as the second (`new WebSocket(url,
    /// ["analemma.v1", token])`); the notifier selects it.
    package static let subprotocol = "analemma.v1"
}

/// Sends a human's answer to the execution's waiting `.waitForTaskToken` state.
package struct HumanAnswers: Sendable {
    package let hydrator: StateHydrator
    package let stepFunctions: StepFunctions
    package init(hydrator: StateHydrator, stepFunctions: StepFunctions) {
        self.hydrator = hydrator
        self.stepFunctions = stepFunctions
    }

    /// The pending question at `manifest`, answered with `answer` (a JSON object); returns the node asked.
    /// The segment runner's `resume` checks the answer (only the node's writes, never a protected field).
    /// What became of an answer sent over the socket.
    package enum AnswerOutcome: Sendable, Equatable {
        /// Handed to Step Functions for the pending question of `node`.
        case accepted(node: String)
        /// Not sent: the check every answer passes (``PendingHuman/fields(of:node:expects:)``) refused it.
        case refused(node: String, reason: String)
        /// The question was already answered (or timed out): its task token is spent.
        case alreadyAnswered
    }

    /// Checks the answer as `resume` will, then sends it with the task token stored in the owner's own pending step.
    package func answer(at manifest: Manifest, with answer: JSONValue) async throws -> AnswerOutcome {
        guard let raw = try await hydrator.hydrate(manifest, present: ["pending_human"]).fields["pending_human"],
            let pending = try? JSONDecoder().decode(PendingHuman.self, from: raw)
        else { return .alreadyAnswered }
        do { _ = try PendingHuman.fields(of: answer.jsonData(), node: pending.node, expects: pending.expects) } catch let e as AnalemmaError
        {
            return .refused(node: pending.node, reason: e.message)
        }
        do {
            try await stepFunctions.sendTaskSuccess(token: pending.taskToken, output: String(decoding: answer.jsonData(), as: UTF8.self))
        } catch let e as AWSError where ["TaskTimedOut", "InvalidToken", "TaskDoesNotExist"].contains(e.code) {
            return .alreadyAnswered
        }
        return .accepted(node: pending.node)
    }
}

/// Posts to WebSocket connections: one method (the API Gateway Management API in production).
package protocol ConnectionPoster: Sendable {
    /// Throws ``APIGatewayManagement/ConnectionGone`` when the connection no longer exists (410).
    func post(to connectionID: String, data: Data) async throws
}

/// Tells whether a connection is gone (one method: GetConnection in production).
package protocol ConnectionProbe: Sendable {
    /// True when API Gateway answers 410 Gone for the connection.
    func isGone(_ connectionID: String) async throws -> Bool
}

extension APIGatewayManagement: ConnectionPoster, ConnectionProbe {
    package func isGone(_ connectionID: String) async throws -> Bool {
        do {
            _ = try await get(connectionID)
            return false
        } catch is ConnectionGone { return true }
    }
}
