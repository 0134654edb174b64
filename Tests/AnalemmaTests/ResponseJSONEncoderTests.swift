import Analemma
import Foundation
import Testing

/// Nested values of the shapes handlers return.
private struct Reply: Codable {
    var name: String
    var count: Int
    var ratio: Double?
    var tags: [String]
    var missing: String?
    var nested: [String: [Int?]]
    var flag: Bool
}

private class Base: Encodable {
    var a = 1
    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: Keys.self)
        try c.encode(a, forKey: .a)
    }
    enum Keys: String, CodingKey { case a, b }
}

private final class Derived: Base {
    var b = "two"
    override func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: Keys.self)
        try c.encode(b, forKey: .b)
        try super.encode(to: c.superEncoder())
    }
}

private struct Empty: Encodable {}

/// A 128-bit member.
private struct Wide: Encodable {
    var n = Int128.min
    var u = UInt128.max
    var list: [Int128] = [0, -1]
}

/// Every integer width at an extreme.
private struct Widths: Encodable {
    var a = Int8.min, b = Int16.max, c = Int32.min, d = Int64.max, e = UInt.max, f = UInt8.max, g = UInt16.max
    var h = UInt32.max, i = UInt64.max
}

@Suite("The response encoder writes Foundation's canonical bytes")
struct ResponseJSONEncoderTests {
    /// Both encoders' bytes for `value`, as text.
    func both<T: Encodable>(_ value: T) throws -> (ours: String, foundation: String) {
        (
            String(decoding: try ResponseJSONEncoder.encode(value), as: UTF8.self),
            String(decoding: try CanonicalJSON.encode(value), as: UTF8.self)
        )
    }

    @Test(
        "strings: every ASCII byte, escapes at each offset of an 8-byte word, UTF-8 beyond ASCII",
        arguments: Array(0..<128) + [0xE9, 0x2028, 0x1F600])
    func strings(scalar: Int) throws {
        let c = String(UnicodeScalar(UInt32(scalar)).map(Character.init) ?? "?")
        for offset in 0..<17 {
            let s = String(repeating: "x", count: offset) + c + String(repeating: "y/", count: offset)
            let (ours, foundation) = try both(s)
            #expect(ours == foundation, "scalar \(scalar) at offset \(offset)")
        }
    }

    @Test(
        "numbers as JSONEncoder writes them",
        arguments: [0.0, -0.0, 1.0, -1.5, 0.1, 1e300, -1e-300, 5e-324, 1.7976931348623157e308, 123456789.125, 1e15, 1e16, 1e21, 3.0e-7])
    func doubles(value: Double) throws {
        let (ours, foundation) = try both([value, Double(Float(value).isFinite ? Double(Float(value)) : 0)])
        #expect(ours == foundation)
        let (f1, f2) = try both(Float(value).isFinite ? Float(value) : 0)
        #expect(f1 == f2)
    }

    @Test("random doubles and every integer width's extremes")
    func randomNumbers() throws {
        var rng = SystemRandomNumberGenerator()
        let doubles = (0..<2000).map { _ in Double(bitPattern: rng.next()) }.filter(\.isFinite)
        let (ours, foundation) = try both(doubles)
        #expect(ours == foundation)
        let ints = try both([Int.min, Int.max, 0, -1])
        #expect(ints.ours == ints.foundation)
        let widths = try both(Widths())
        #expect(widths.ours == widths.foundation)
    }

    @Test("nested values, optionals, key order (case, digits, non-ASCII), dictionaries with integer keys")
    func structures() throws {
        let reply = Reply(
            name: "n\"a\\me\n", count: -3, ratio: 2.5, tags: ["b", "", "ü"], missing: nil,
            nested: ["b": [1, nil], "a": [], "B": [3], "10": [], "9": [], "é": [], "e": [], "_": [], "": [], "aa": []], flag: true)
        let (ours, foundation) = try both(reply)
        #expect(ours == foundation)
        let intKeys = try both([3: "c", 1: "a", 20: "b"])
        #expect(intKeys.ours == intKeys.foundation)
        let values = try both(JSONValue.object(["z": .array([.null, .bool(false), .number(4), .string("s")]), "a": .object([:])]))
        #expect(values.ours == values.foundation)
    }

    @Test("Foundation's types with JSONEncoder's default strategies; super encoders; a value that encodes nothing")
    func foundationTypes() throws {
        let data = try both(["d": Data([0, 1, 2, 250, 255])])
        #expect(data.ours == data.foundation)
        let url = try both(["u": URL(string: "https://example.com/a?b=c")])
        #expect(url.ours == url.foundation)
        let date = try both([Date(timeIntervalSinceReferenceDate: 12.5)])
        #expect(date.ours == date.foundation)
        let decimal = try both([Decimal(string: "12.340") ?? 0])
        #expect(decimal.ours == decimal.foundation)
        let derived = try both(Derived())
        #expect(derived.ours == derived.foundation)
        let empty = try both([Empty()])
        #expect(empty.ours == empty.foundation)
    }

    @Test("a non-finite number is refused, as JSONEncoder refuses it", arguments: [Double.infinity, -Double.infinity, Double.nan])
    func nonFinite(value: Double) {
        #expect(throws: EncodingError.self) { try ResponseJSONEncoder.encode(["x": value]) }
        #expect(throws: EncodingError.self) { try CanonicalJSON.encode(["x": value]) }
    }

    @Test("128-bit integers are numbers in every container, as JSONEncoder writes them (never a recursion)")
    func wideIntegers() throws {
        let listed = try both(["x": [Int128.min, Int128.max]])
        #expect(listed.ours == listed.foundation)
        let unsigned = try both([UInt128.max])
        #expect(unsigned.ours == unsigned.foundation)
        let member = try both(Wide())
        #expect(member.ours == member.foundation)
    }

    @Test("a 1 MB string with escapes scattered through it")
    func largeString() throws {
        var s = String(repeating: "abcdefg/", count: 131_072)
        s.insert("\"", at: s.index(s.startIndex, offsetBy: 4097))
        s += "\u{1}\t€"
        let (ours, foundation) = try both(["data": s])
        #expect(ours == foundation)
    }
}
