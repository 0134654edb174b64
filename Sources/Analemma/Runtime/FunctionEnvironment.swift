import Glibc

/// The process environment as a value, so configuration reading is testable.
public struct FunctionEnvironment: Sendable {
    public let values: [String: String]

    public init(_ values: [String: String]) { self.values = values }

    /// The current process environment.
    public static func current() -> FunctionEnvironment {
        var values: [String: String] = [:]
        var p = environ
        while let entry = p.pointee {
            let s = String(cString: entry)
            if let eq = s.firstIndex(of: "=") { values[String(s[..<eq])] = String(s[s.index(after: eq)...]) }
            p += 1
        }
        return FunctionEnvironment(values)
    }

    public subscript(_ name: String) -> String? { values[name] }

    /// A required, non-empty variable, or an `Analemma.InvalidConfiguration` error naming it.
    public func require(_ name: String, _ purpose: String = "") throws -> String {
        guard let v = values[name], !v.isEmpty else {
            throw AnalemmaError(
                .invalidConfiguration,
                "environment variable \(name) is required\(purpose.isEmpty ? "" : " (\(purpose))") but is not set")
        }
        return v
    }

    /// An integer variable with a default; a present but non-numeric value is an error naming it.
    public func integer(_ name: String, default fallback: Int) throws -> Int {
        guard let raw = values[name], !raw.isEmpty else { return fallback }
        guard let v = Int(raw) else {
            throw AnalemmaError(.invalidConfiguration, "environment variable \(name)=\(raw.debugDescription) is not an integer")
        }
        return v
    }
}

/// Wall-clock time in milliseconds since the Unix epoch (one method, so deadlines are testable).
public protocol WallClock: Sendable {
    func nowMillis() -> Int64
}

/// `CLOCK_REALTIME`, the clock Lambda's `Lambda-Runtime-Deadline-Ms` is expressed in.
public struct SystemWallClock: WallClock {
    public init() {}
    public func nowMillis() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
    }
}
