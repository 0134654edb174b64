/// Building the segment runner from its function environment (`Functions/segment-runner/function.json`).
extension SegmentRunnerService {
    /// Reads `STATE_BUCKET`, `MANIFEST_TABLE`, `BLOCK_REFERENCES_TABLE`, `GC_QUEUE_URL` (required),
    /// `GC_DELAY_SECONDS` (default 300), `HISTORY_EVENT_LIMIT` (default 25,000: when an execution continues as a new
    /// one; lowered only to test it), `SEGMENTS_PER_INVOCATION` (default 64, 1...256: segments one invocation runs in
    /// a row, ``SegmentRow``), `PRICE_TABLE` (``PriceTable``) and the model settings (`ModelConfiguration`: `MODEL_PROVIDER`, …).
    /// A missing or bad value is `Analemma.InvalidConfiguration` naming it, reported as an init error.
    /// Builds the runner on the system's sockets (HTTP, TLS) from the function environment, with `skills`.
    public init(environment: FunctionEnvironment, logger: Logger, skills: SkillRegistry = .standard) throws {
        try self.init(environment: environment, logger: logger, skills: skills, transport: SocketTransport())
    }

    /// The same over another transport (tests, benchmarks).
    package init(
        environment: FunctionEnvironment, logger: Logger, skills: SkillRegistry = .standard,
        transport: any HTTPTransport
    ) throws {
        let meter = MeteredTransport(transport)  // what the cost report counts (model calls are priced by llm_usage)
        let client = try AWSClient(environment: environment, transport: meter)
        let bucket = try environment.require("STATE_BUCKET", "the state bucket")
        let s3 = try S3(client: client)
        let db = try DynamoDB(client: client)
        let gc = SQSGCQueue(
            sqs: try SQS(client: client), queueURL: try environment.require("GC_QUEUE_URL", "the GC queue"),
            delaySeconds: try environment.integer("GC_DELAY_SECONDS", default: 300))
        let checkpoints = CheckpointWriter(
            blocks: S3BlockStore(s3: s3, bucket: bucket),
            manifests: ManifestStore(db: db, table: try environment.require("MANIFEST_TABLE", "the manifest table")),
            references: BlockReferences(db: db, table: try environment.require("BLOCK_REFERENCES_TABLE", "the block reference table")),
            gcQueue: gc)
        let model = try ModelConfiguration.languageModel(environment: environment, logger: logger, transport: transport)
        self.init(
            workflows: WorkflowStore(s3: s3, bucket: bucket), checkpoints: checkpoints,
            payloads: ZeroGravityPayload(s3: s3, bucket: bucket),
            executor: NodeExecutor(skills: skills, model: model),
            events: try EventRecorder(environment: environment, client: client, logger: logger), mapRuns: try StepFunctions(client: client))
        let historyLimit = try environment.integer("HISTORY_EVENT_LIMIT", default: 25_000)
        guard (100...25_000).contains(historyLimit) else {
            throw AnalemmaError(.invalidConfiguration, "HISTORY_EVENT_LIMIT must be between 100 and 25000 (Step Functions' limit)")
        }
        stepsPerExecution = Cursor.stepsPerExecution(historyLimit: historyLimit)
        let inRow = try environment.integer("SEGMENTS_PER_INVOCATION", default: SegmentRow().limit)
        guard (1...256).contains(inRow) else {
            throw AnalemmaError(.invalidConfiguration, "SEGMENTS_PER_INVOCATION must be between 1 and 256")
        }
        row.limit = inRow
        let memory = try environment.integer("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", default: 128)
        guard (128...10_240).contains(memory) else {
            throw AnalemmaError(.invalidConfiguration, "AWS_LAMBDA_FUNCTION_MEMORY_SIZE must be between 128 and 10240 (MB)")
        }
        ledger = UsageLedger(meter: meter, memoryMegabytes: memory)
        prices = try PriceTable(environment: environment)
    }
}
