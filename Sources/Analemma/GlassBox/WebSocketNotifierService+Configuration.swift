/// Building the notifier from its function environment (`Functions/websocket-notifier/function.json`).
extension WebSocketNotifierService {
    /// Builds the function on the system's sockets (HTTP, TLS); the settings are those of the next initialiser.
    public init(environment: FunctionEnvironment, logger: Logger) throws {
        try self.init(environment: environment, logger: logger, transport: SocketTransport())
    }

    /// Reads `STATE_BUCKET`, `MANIFEST_TABLE`, `CONNECTIONS_TABLE`, `WEBSOCKET_CALLBACK_URL`, `CONNECT_TOKEN_SECRET` (at
    /// least 16 bytes) and `WORKFLOW_STATE_MACHINE_ARN` (optional: the viewer's forks); a missing or bad value is
    /// `Analemma.InvalidConfiguration`.
    package init(environment: FunctionEnvironment, logger: Logger, transport: any HTTPTransport) throws {
        let client = try AWSClient(environment: environment, transport: transport)
        let db = try DynamoDB(client: client)
        let bucket = try environment.require("STATE_BUCKET", "the state bucket")
        let s3 = try S3(client: client)
        let hydrator = StateHydrator(store: S3BlockStore(s3: s3, bucket: bucket))
        let stepFunctions = try StepFunctions(client: client)
        let manifests = ManifestStore(db: db, table: try environment.require("MANIFEST_TABLE", "the manifest table"))
        let management = try APIGatewayManagement(
            client: client, callbackURL: try environment.require("WEBSOCKET_CALLBACK_URL", "the WebSocket API's connection URL"))
        try self.init(
            registry: ConnectionRegistry(db: db, table: try environment.require("CONNECTIONS_TABLE", "the WebSocket connections table")),
            manifests: manifests,
            eventLog: EventLog(s3: s3, bucket: bucket),
            connections: management, probe: management,
            answers: HumanAnswers(hydrator: hydrator, stepFunctions: stepFunctions),
            graphs: WorkflowGraphs(hydrator: hydrator, workflows: WorkflowStore(s3: s3, bucket: bucket)),
            timeTravel: environment["WORKFLOW_STATE_MACHINE_ARN"].flatMap { $0.isEmpty ? nil : $0 }.map { arn in
                ViewerTimeTravel(
                    history: ExecutionHistory(manifests: manifests, hydrator: hydrator), stepFunctions: stepFunctions, stateMachineARN: arn)
            },
            secret: try environment.require("CONNECT_TOKEN_SECRET", "the connect token secret"), logger: logger)
    }
}
