#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// A JSON value for configuration and conditions (small documents only: state values stay raw bytes).
public enum JSONValue: Codable, Sendable, Equatable {
    case string(String)
    case number(Double)
    case bool(Bool)
    case null
    case array([JSONValue])
    case object([String: JSONValue])

    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() {
            self = .null
        } else if let b = try? c.decode(Bool.self) {
            self = .bool(b)
        } else if let n = try? c.decode(Double.self) {
            self = .number(n)
        } else if let s = try? c.decode(String.self) {
            self = .string(s)
        } else if let a = try? c.decode([JSONValue].self) {
            self = .array(a)
        } else {
            self = .object(try c.decode([String: JSONValue].self))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .string(let s): try c.encode(s)
        case .number(let n):
            // Integral values print as integers (`3`, not `3.0`): what users wrote, and what JSON tools expect.
            if n.rounded() == n, abs(n) < 9.007_199_254_740_992e15 { try c.encode(Int64(n)) } else { try c.encode(n) }
        case .bool(let b): try c.encode(b)
        case .null: try c.encodeNil()
        case .array(let a): try c.encode(a)
        case .object(let o): try c.encode(o)
        }
    }
}

extension JSONValue {
    /// Decodes raw JSON bytes (a state field) into a value.
    public init(json: Data) throws {
        do { self = try JSONDecoder().decode(JSONValue.self, from: json) } catch {
            throw AnalemmaError(.invalidState, "not valid JSON: \(error)")
        }
    }

    /// Compact JSON bytes with sorted keys (stable).
    public func jsonData() -> Data {
        (try? CanonicalJSON.encode(self)) ?? Data("null".utf8)
    }

    /// The text a template inserts: a string as itself, anything else as compact JSON.
    public var text: String {
        if case .string(let s) = self { return s }
        return String(decoding: jsonData(), as: UTF8.self)
    }

    /// The value at a path such as `items[0].title` (empty path: the value itself); nil when absent.
    /// A malformed path is an `Analemma.InvalidWorkflow` error.
    public func value(at path: String) throws -> JSONValue? {
        var current: JSONValue? = self
        for step in try Self.steps(path) {
            switch (step, current) {
            case (.key(let k), .object(let o)?): current = o[k]
            case (.index(let i), .array(let a)?): current = a.indices.contains(i) ? a[i] : nil
            default: return nil
            }
        }
        return current
    }

    enum PathStep: Equatable {
        case key(String)
        case index(Int)
    }

    static func steps(_ path: String) throws -> [PathStep] {
        var steps: [PathStep] = []
        var rest = Substring(path)
        func bad(_ why: String) -> AnalemmaError { AnalemmaError(.invalidWorkflow, "path \(path.debugDescription): \(why)") }
        while !rest.isEmpty {
            if rest.first == "[" {
                guard let close = rest.firstIndex(of: "]"), let i = Int(rest[rest.index(after: rest.startIndex)..<close]), i >= 0 else {
                    throw bad("expected [<non-negative integer>]")
                }
                steps.append(.index(i))
                rest = rest[rest.index(after: close)...]
            } else {
                if rest.first == "." { rest = rest.dropFirst() }
                let end = rest.firstIndex { $0 == "." || $0 == "[" } ?? rest.endIndex
                guard end > rest.startIndex else { throw bad("empty key") }
                steps.append(.key(String(rest[..<end])))
                rest = rest[end...]
            }
        }
        return steps
    }
}
