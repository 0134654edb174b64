import Glibc

/// Log severity, ordered; names as Lambda's advanced logging controls spell them.
public enum LogLevel: Int, Comparable, Sendable, CaseIterable {
    case trace, debug, info, warn, error, fatal

    /// Parses `TRACE`, `debug`, `WARNING`, ... (case-insensitive); nil when unknown.
    public init?(name: String) {
        switch name.uppercased() {
        case "TRACE": self = .trace
        case "DEBUG": self = .debug
        case "INFO": self = .info
        case "WARN", "WARNING": self = .warn
        case "ERROR": self = .error
        case "FATAL", "CRITICAL": self = .fatal
        default: return nil
        }
    }

    public var name: String { ["TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"][rawValue] }
    public static func < (a: Self, b: Self) -> Bool { a.rawValue < b.rawValue }
}

/// Where log lines go (one method, so tests can capture them).
public protocol LogSink: Sendable {
    func write(_ line: String)
}

/// Writes each line with one `write(2)` to standard output, which Lambda forwards to CloudWatch Logs.
public struct StandardOutputSink: LogSink {
    public init() {}
    public func write(_ line: String) {
        var bytes = Array(line.utf8)
        bytes.append(10)
        bytes.withUnsafeBytes { p in
            var off = 0
            while off < p.count {
                let n = Glibc.write(1, p.baseAddress! + off, p.count - off)
                if n <= 0 { break }
                off += n
            }
        }
    }
}

/// Structured logger honouring `AWS_LAMBDA_LOG_FORMAT` (Text/JSON) and `AWS_LAMBDA_LOG_LEVEL` / `LOG_LEVEL`.
///
/// https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs-advanced.html
public struct Logger: Sendable {
    public enum Format: Sendable { case text, json }

    public var level: LogLevel
    public var format: Format
    /// Emitted as `requestId` (and `function_request_id`); the invocation's ``LogContext`` when not set.
    public var requestID: String?
    /// The function-wide keys every JSON line carries (`service`, `function_name`, `function_memory_size`).
    public var service: LogService?
    let sink: any LogSink

    public init(
        level: LogLevel = .info, format: Format = .text, requestID: String? = nil, service: LogService? = nil,
        sink: any LogSink = StandardOutputSink()
    ) {
        self.level = level
        self.format = format
        self.requestID = requestID
        self.service = service
        self.sink = sink
    }

    /// A logger configured from the Lambda environment variables.
    public init(environment: FunctionEnvironment, sink: any LogSink = StandardOutputSink()) {
        let format: Format = environment["AWS_LAMBDA_LOG_FORMAT"]?.uppercased() == "JSON" ? .json : .text
        let level = (environment["AWS_LAMBDA_LOG_LEVEL"] ?? environment["LOG_LEVEL"]).flatMap(LogLevel.init(name:)) ?? .info
        self.init(level: level, format: format, service: LogService(environment: environment), sink: sink)
    }

    /// Writes `line` as it is (an Embedded Metric Format document, ``MetricLine``), whatever the level.
    public func raw(_ line: String) { sink.write(line) }

    public func isEnabled(_ level: LogLevel) -> Bool { level >= self.level }

    /// Emits one line when `level` is enabled; `fields` become JSON keys (or `key=value` in text).
    public func log(_ level: LogLevel, _ message: @autoclosure () -> String, _ fields: KeyValuePairs<String, String> = [:]) {
        guard isEnabled(level) else { return }
        log(level, message(), pairs: fields.map { ($0.key, $0.value) })
    }

    /// Like ``log(_:_:_:)`` with fields built at run time.
    public func log(_ level: LogLevel, _ text: String, pairs fields: [(String, String)]) {
        guard isEnabled(level) else { return }
        switch format {
        case .json:
            let context = LogContext.current
            let request = requestID ?? context?.requestID
            var line = #"{"timestamp":"\#(Self.timestamp())","level":"\#(level.name)","message":"#
            line += JSONText.quoted(text)
            if let request { line += #","requestId":"# + JSONText.quoted(request) }
            for (k, v) in powertoolsKeys(context, request: request) { line += "," + JSONText.quoted(k) + ":" + v }
            for (k, v) in fields { line += "," + JSONText.quoted(k) + ":" + JSONText.quoted(v) }
            line += "}"
            sink.write(line)
        case .text:
            var line = "\(Self.timestamp())\t\(level.name)\t\(requestID ?? LogContext.current?.requestID ?? "-")\t\(text)"
            for (k, v) in fields { line += " \(k)=\(v)" }
            sink.write(line)
        }
    }

    /// The Powertools keys (values as JSON) this line carries: the service's, then the invocation's.
    func powertoolsKeys(_ context: LogContext?, request: String?) -> [(String, String)] {
        guard let service else { return [] }
        var keys = [("service", JSONText.quoted(service.service))]
        if let context { keys.append(("cold_start", context.coldStart ? "true" : "false")) }
        if let name = service.functionName { keys.append(("function_name", JSONText.quoted(name))) }
        if let memory = service.memorySize { keys.append(("function_memory_size", String(memory))) }
        if let arn = context?.functionARN { keys.append(("function_arn", JSONText.quoted(arn))) }
        if let request { keys.append(("function_request_id", JSONText.quoted(request))) }
        if let trace = context?.traceID { keys.append(("xray_trace_id", JSONText.quoted(trace))) }
        return keys
    }

    public func debug(_ m: @autoclosure () -> String, _ f: KeyValuePairs<String, String> = [:]) { log(.debug, m(), f) }
    public func info(_ m: @autoclosure () -> String, _ f: KeyValuePairs<String, String> = [:]) { log(.info, m(), f) }
    public func warn(_ m: @autoclosure () -> String, _ f: KeyValuePairs<String, String> = [:]) { log(.warn, m(), f) }
    public func error(_ m: @autoclosure () -> String, _ f: KeyValuePairs<String, String> = [:]) { log(.error, m(), f) }

    /// RFC 3339 UTC timestamp with milliseconds, e.g. `2026-11-25T15:33:53.123Z`.
    static func timestamp() -> String {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        var t = ts.tv_sec
        var parts = tm()
        gmtime_r(&t, &parts)
        func pad(_ v: Int32, _ width: Int) -> String {
            let s = String(v)
            return String(repeating: "0", count: max(0, width - s.count)) + s
        }
        return "\(pad(parts.tm_year + 1900, 4))-\(pad(parts.tm_mon + 1, 2))-\(pad(parts.tm_mday, 2))T"
            + "\(pad(parts.tm_hour, 2)):\(pad(parts.tm_min, 2)):\(pad(parts.tm_sec, 2)).\(pad(Int32(ts.tv_nsec / 1_000_000), 3))Z"
    }
}

/// Minimal JSON string quoting (RFC 8259 §7) for log lines.
public enum JSONText {
    public static func quoted(_ s: String) -> String {
        var out = "\""
        out.unicodeScalars.reserveCapacity(s.utf8.count + 2)
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where u.value < 0x20:
                let hex = String(u.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(u)
            }
        }
        return out + "\""
    }
}
