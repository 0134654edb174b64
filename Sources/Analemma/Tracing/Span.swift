#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// One OpenTelemetry span as the kernel reports it: ids derived from the execution (so every invocation of a run,
/// a map's children and a continued execution agree on the trace and on each other's parents without talking).
package struct Span: Sendable, Equatable {
    package enum Kind: Int64, Sendable {
        case `internal` = 1
        case server = 2
        case client = 3
    }
    /// An attribute value as OTLP's `AnyValue` carries it.
    package enum Value: Sendable, Equatable {
        case string(String)
        case int(Int64)
        case double(Double)
        case bool(Bool)
        case strings([String])
    }

    package var traceID: [UInt8]
    package var spanID: [UInt8]
    package var parentID: [UInt8]?
    package var name: String
    package var kind: Kind = .internal
    package var startMillis: Int64
    package var endMillis: Int64
    package var attributes: [(String, Value)] = []
    /// An error span's message (status code ERROR); nil: unset.
    package var error: String?

    package static func == (a: Span, b: Span) -> Bool {
        a.traceID == b.traceID && a.spanID == b.spanID && a.parentID == b.parentID && a.name == b.name && a.startMillis == b.startMillis
            && a.endMillis == b.endMillis && a.error == b.error && a.attributes.map(\.0) == b.attributes.map(\.0)
            && a.attributes.map(\.1) == b.attributes.map(\.1)
    }

    /// The 16-byte trace id of a kernel trace id: an X-Ray root (`1-5759e988-bd862e3fe1be46a994272793`, its 32 hex
    /// digits, so the trace links to X-Ray's), the kernel's own (`analemma-<32 hex>`), else a hash of it.
    package static func traceID(_ kernel: String) -> [UInt8] {
        var hex = kernel
        if hex.hasPrefix("1-") { hex = String(hex.dropFirst(2).filter { $0 != "-" }) }
        if hex.hasPrefix("analemma-") { hex = String(hex.dropFirst(9)) }
        if hex.count == 32, let bytes = Self.bytes(hex: hex), bytes.contains(where: { $0 != 0 }) { return bytes }
        return Array(Digest.sha256(Data(kernel.utf8)).prefix(16))
    }

    /// A span id named by what it stands for (the same in every invocation that names it).
    package static func spanID(_ parts: String...) -> [UInt8] {
        Array(Digest.sha256(Data(parts.joined(separator: "\u{1F}").utf8)).prefix(8))
    }

    /// The execution's root span id.
    package static func rootID(_ executionID: String) -> [UInt8] { spanID("execution", executionID) }

    static func bytes(hex: String) -> [UInt8]? {
        var out: [UInt8] = []
        var chars = hex.utf8.makeIterator()
        while let hi = chars.next() {
            guard let lo = chars.next(), let h = nibble(hi), let l = nibble(lo) else { return nil }
            out.append(h << 4 | l)
        }
        return out
    }

    static func nibble(_ c: UInt8) -> UInt8? {
        switch c {
        case 48...57: c - 48
        case 97...102: c - 87
        case 65...70: c - 55
        default: nil
        }
    }
}
