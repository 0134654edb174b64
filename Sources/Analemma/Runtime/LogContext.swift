/// What every log line of an invocation says about where it ran: the keys AWS Lambda Powertools users filter on
/// (`service`, `cold_start`, `function_name`, `function_memory_size`, `function_arn`, `function_request_id`,
/// `xray_trace_id`). The runtime loop sets it around each invocation (a task-local value: every line written while
/// the handler runs has it, whichever logger copy writes it).
/// https://docs.powertools.aws.dev/lambda/python/latest/core/logger/#standard-structured-keys
public struct LogContext: Sendable, Equatable {
    public var requestID: String
    public var functionARN: String?
    /// The invocation's `X-Amzn-Trace-Id` root (`1-…`), when tracing is on.
    public var traceID: String?
    /// Whether this is the first invocation of the instance.
    public var coldStart: Bool

    public init(requestID: String, functionARN: String? = nil, traceID: String? = nil, coldStart: Bool) {
        self.requestID = requestID
        self.functionARN = functionARN
        self.traceID = traceID
        self.coldStart = coldStart
    }

    /// The invocation being served by this task, if any.
    @TaskLocal public static var current: LogContext?

    /// The `Root=` of an `X-Amzn-Trace-Id` header (the whole header when it has none).
    public static func traceRoot(_ header: String?) -> String? {
        guard let header, !header.isEmpty else { return nil }
        let root = header.split(separator: ";").first { $0.hasPrefix("Root=") }
        return root.map { String($0.dropFirst(5)) } ?? header
    }
}

/// The function-wide Powertools keys, from the Lambda environment (`POWERTOOLS_SERVICE_NAME`, else the function's name).
public struct LogService: Sendable, Equatable {
    public var service: String
    public var functionName: String?
    public var memorySize: Int?

    public init(service: String, functionName: String? = nil, memorySize: Int? = nil) {
        self.service = service
        self.functionName = functionName
        self.memorySize = memorySize
    }

    public init(environment: FunctionEnvironment) {
        let name = environment["AWS_LAMBDA_FUNCTION_NAME"].flatMap { $0.isEmpty ? nil : $0 }
        self.init(
            service: environment["POWERTOOLS_SERVICE_NAME"].flatMap { $0.isEmpty ? nil : $0 } ?? name ?? "analemma", functionName: name,
            memorySize: environment["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"].flatMap { Int($0) })
    }
}
