#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// Validates JSON and finds top-level object members as byte ranges, without decoding values.
///
/// State fields stay raw JSON bytes end to end (hashed and stored as received); decoding them into a JSON
/// enum runs at ~4 MB/s here, so the kernel only scans. RFC 8259 syntax; depth limited to 512.
package enum JSONScanner {
    package struct Failure: Error, Equatable, CustomStringConvertible {
        package let offset: Int
        package let reason: String
        package var description: String { "invalid JSON at byte \(offset): \(reason)" }
    }

    /// Throws unless `bytes` is exactly one JSON value (surrounding white space allowed).
    package static func validate(_ bytes: Data) throws {
        try bytes.withUnsafeBytes { raw in
            var s = Scanner(p: raw.bindMemory(to: UInt8.self))
            s.skipSpace()
            try s.value(depth: 0)
            s.skipSpace()
            if s.i != s.p.count { throw s.fail("trailing characters after the value") }
        }
    }

    /// The members of a top-level JSON object: each key (unescaped) and the byte range of its raw value.
    /// Duplicate keys are an error (which one wins is undefined across parsers).
    package static func members(of bytes: Data) throws -> [(key: String, range: Range<Int>)] {
        try bytes.withUnsafeBytes { raw in
            var s = Scanner(p: raw.bindMemory(to: UInt8.self))
            var out: [(key: String, range: Range<Int>)] = []
            var seen = Set<String>()
            s.skipSpace()
            guard s.peek == UInt8(ascii: "{") else { throw s.fail("expected a JSON object") }
            try s.object(depth: 0, decodeKeys: true) { key, range in
                guard seen.insert(key).inserted else {
                    throw Failure(offset: range.lowerBound, reason: "duplicate key \(key.debugDescription)")
                }
                out.append((key, range))
            }
            s.skipSpace()
            if s.i != s.p.count { throw s.fail("trailing characters after the object") }
            return out
        }
    }

    /// A top-level object's members as raw bytes by key; throws when `bytes` is not one valid JSON object.
    package static func fields(of bytes: Data) throws -> [String: Data] {
        var out: [String: Data] = [:]
        for m in try members(of: bytes) { out[m.key] = bytes.subdata(in: m.range) }
        return out
    }

    /// ``fields(of:)``, or nil when `bytes` is not a JSON object.
    package static func object(_ bytes: Data) -> [String: Data]? { try? fields(of: bytes) }

    /// The byte ranges of a top-level JSON array's elements.
    package static func elements(of bytes: Data) throws -> [Range<Int>] {
        try bytes.withUnsafeBytes { raw in
            var s = Scanner(p: raw.bindMemory(to: UInt8.self))
            var out: [Range<Int>] = []
            s.skipSpace()
            guard s.peek == UInt8(ascii: "[") else { throw s.fail("expected a JSON array") }
            s.i += 1
            s.skipSpace()
            if s.peek == UInt8(ascii: "]") {
                s.i += 1
            } else {
                while true {
                    s.skipSpace()
                    let start = s.i
                    try s.value(depth: 1)
                    out.append(start..<s.i)
                    s.skipSpace()
                    if s.peek == UInt8(ascii: ",") {
                        s.i += 1
                        continue
                    }
                    guard s.peek == UInt8(ascii: "]") else { throw s.fail("expected ',' or ']' in array") }
                    s.i += 1
                    break
                }
            }
            s.skipSpace()
            if s.i != s.p.count { throw s.fail("trailing characters after the array") }
            return out
        }
    }

    struct Scanner {
        let p: UnsafeBufferPointer<UInt8>
        var i = 0

        var peek: UInt8? { i < p.count ? p[i] : nil }

        func fail(_ reason: String) -> Failure { Failure(offset: i, reason: reason) }

        mutating func skipSpace() {
            while i < p.count, p[i] == 0x20 || p[i] == 0x0A || p[i] == 0x0D || p[i] == 0x09 { i += 1 }
        }

        mutating func value(depth: Int) throws {
            guard depth < 512 else { throw fail("nesting deeper than 512") }
            guard let c = peek else { throw fail("unexpected end of input") }
            switch c {
            case UInt8(ascii: "{"):
                try object(depth: depth, decodeKeys: false) { _, _ in }
            case UInt8(ascii: "["):
                i += 1
                skipSpace()
                if peek == UInt8(ascii: "]") {
                    i += 1
                    return
                }
                while true {
                    skipSpace()
                    try value(depth: depth + 1)
                    skipSpace()
                    if peek == UInt8(ascii: ",") {
                        i += 1
                        continue
                    }
                    guard peek == UInt8(ascii: "]") else { throw fail("expected ',' or ']' in array") }
                    i += 1
                    return
                }
            case UInt8(ascii: "\""): _ = try string(decode: false)
            case UInt8(ascii: "t"): try literal("true")
            case UInt8(ascii: "f"): try literal("false")
            case UInt8(ascii: "n"): try literal("null")
            default: try number()
            }
        }

        /// Scans an object at `{`, reporting each member's key (unescaped when `decodeKeys`) and value range.
        mutating func object(depth: Int, decodeKeys: Bool, member: (String, Range<Int>) throws -> Void) throws {
            i += 1
            skipSpace()
            if peek == UInt8(ascii: "}") {
                i += 1
                return
            }
            while true {
                skipSpace()
                let key = try string(decode: decodeKeys)
                skipSpace()
                guard peek == UInt8(ascii: ":") else { throw fail("expected ':' after a key") }
                i += 1
                skipSpace()
                let start = i
                try value(depth: depth + 1)
                try member(key, start..<i)
                skipSpace()
                if peek == UInt8(ascii: ",") {
                    i += 1
                    continue
                }
                guard peek == UInt8(ascii: "}") else { throw fail("expected ',' or '}' in object") }
                i += 1
                return
            }
        }

        mutating func literal(_ word: StaticString) throws {
            let n = word.utf8CodeUnitCount
            guard i + n <= p.count else { throw fail("unexpected end of input") }
            for k in 0..<n where p[i + k] != word.utf8Start[k] { throw fail("invalid literal") }
            i += n
        }

        mutating func number() throws {
            let start = i
            if peek == UInt8(ascii: "-") { i += 1 }
            guard let first = peek, first >= 48, first <= 57 else { throw fail("invalid value") }
            if first == 48 { i += 1 } else { while let d = peek, d >= 48, d <= 57 { i += 1 } }
            if peek == UInt8(ascii: ".") {
                i += 1
                guard let d = peek, d >= 48, d <= 57 else { throw fail("digit expected after '.'") }
                while let d = peek, d >= 48, d <= 57 { i += 1 }
            }
            if peek == UInt8(ascii: "e") || peek == UInt8(ascii: "E") {
                i += 1
                if peek == UInt8(ascii: "+") || peek == UInt8(ascii: "-") { i += 1 }
                guard let d = peek, d >= 48, d <= 57 else { throw fail("digit expected in exponent") }
                while let d = peek, d >= 48, d <= 57 { i += 1 }
            }
            if i == start { throw fail("invalid value") }
        }

        /// Scans a string; returns its unescaped text when `decode` (keys), "" otherwise (values: validate only).
        mutating func string(decode: Bool = true) throws -> String {
            guard peek == UInt8(ascii: "\"") else { throw fail("expected a string") }
            i += 1
            let start = i
            var escaped = false
            while true {
                guard let c = peek else { throw fail("unterminated string") }
                if c == UInt8(ascii: "\"") { break }
                if c < 0x20 { throw fail("control character in string") }
                if c == UInt8(ascii: "\\") {
                    escaped = true
                    i += 1
                    guard let e = peek else { throw fail("unterminated escape") }
                    switch e {
                    case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"), UInt8(ascii: "n"),
                        UInt8(ascii: "r"), UInt8(ascii: "t"):
                        i += 1
                    case UInt8(ascii: "u"):
                        guard i + 4 < p.count, (1...4).allSatisfy({ isHex(p[i + $0]) }) else { throw fail("bad \\u escape") }
                        i += 5
                    default: throw fail("bad escape")
                    }
                    continue
                }
                i += 1
            }
            let end = i
            i += 1
            guard decode else { return "" }
            let raw = UnsafeBufferPointer(rebasing: p[start..<end])
            guard escaped else { return String(decoding: raw, as: UTF8.self) }
            // Rare: let JSONDecoder unescape the key.
            var quoted = Data([UInt8(ascii: "\"")])
            quoted.append(contentsOf: raw)
            quoted.append(UInt8(ascii: "\""))
            return try JSONDecoder().decode(String.self, from: quoted)
        }

        func isHex(_ b: UInt8) -> Bool { (48...57).contains(b) || (65...70).contains(b) || (97...102).contains(b) }
    }
}
