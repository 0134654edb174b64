#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// A JSON encoder for handler responses that writes the same bytes as ``CanonicalJSON`` (compact, keys sorted,
/// slashes unescaped) and writes strings eight bytes at a time: Foundation's writer escapes byte by byte, which
/// made a 1 MB string response cost more than the whole runtime loop. Held to Foundation's output by
/// `ResponseJSONEncoderTests`; hashed bytes still come from ``CanonicalJSON``.
package enum ResponseJSONEncoder {
    /// Encodes `value`; a non-finite number is refused as `JSONEncoder` refuses it (`EncodingError.invalidValue`).
    package static func encode<T: Encodable>(_ value: T) throws -> Data {
        let node = try JSONNode.make(value, codingPath: [])
        var out: [UInt8] = []
        out.reserveCapacity(node.sizeHint)
        node.write(to: &out)
        return Data(out)
    }
}

/// One encoded value; containers are boxes so that nested containers can fill them after they were placed.
enum JSONNode {
    case literal([UInt8])
    case string(String)
    case array(ArrayBox)
    case object(ObjectBox)
    /// A super encoder's value, known once it has encoded.
    case pending(Slot)

    final class ArrayBox { var items: [JSONNode] = [] }
    final class ObjectBox { var members: [String: JSONNode] = [:] }
    final class Slot { var node: JSONNode? }

    /// What a value that encoded nothing writes (`{}`, as `JSONEncoder`).
    static var emptyObject: JSONNode { .literal(Array("{}".utf8)) }

    /// The node of `value`: scalars directly, Foundation's special types as `JSONEncoder`'s default strategies write
    /// them, everything else through its own `encode(to:)`.
    static func make<T: Encodable>(_ value: T, codingPath: [any CodingKey]) throws -> JSONNode {
        switch value {
        case let s as String: return .string(s)
        case let b as Bool: return .literal(b ? Array("true".utf8) : Array("false".utf8))
        case let d as Double: return try number(d, codingPath)
        case let f as Float: return try number(f, codingPath)
        case let i as Int: return .literal(Array(String(i).utf8))
        case let i as Int64: return .literal(Array(String(i).utf8))
        case let i as UInt64: return .literal(Array(String(i).utf8))
        case let data as Data: return .string(data.base64EncodedString())
        case let url as URL: return .string(url.absoluteString)
        case let decimal as Decimal: return .literal(Array(decimal.description.utf8))
        default:
            let slot = Slot()
            try value.encode(to: NodeEncoder(slot: slot, codingPath: codingPath))
            return slot.node ?? emptyObject
        }
    }

    /// A floating-point number as `JSONEncoder` writes it (`1` for 1.0, `1e+300`); infinities and NaN refused.
    static func number<F: BinaryFloatingPoint & LosslessStringConvertible>(_ value: F, _ codingPath: [any CodingKey]) throws -> JSONNode {
        guard value.isFinite else {
            throw EncodingError.invalidValue(
                value, .init(codingPath: codingPath, debugDescription: "Unable to encode \(value) directly in JSON."))
        }
        var text = value.description
        if text.hasSuffix(".0") { text.removeLast(2) }
        return .literal(Array(text.utf8))
    }

    /// Bytes to reserve: exact for strings and literals, a guess for containers.
    var sizeHint: Int {
        switch self {
        case .literal(let bytes): bytes.count
        case .string(let s): s.utf8.count + 2
        case .array(let box): box.items.reduce(2) { $0 + $1.sizeHint + 1 }
        case .object(let box): box.members.reduce(2) { $0 + $1.key.utf8.count + 4 + $1.value.sizeHint }
        case .pending(let slot): slot.node?.sizeHint ?? 2
        }
    }

    func write(to out: inout [UInt8]) {
        switch self {
        case .literal(let bytes): out.append(contentsOf: bytes)
        case .string(let s): JSONStringWriter.write(s, to: &out)
        case .array(let box):
            out.append(UInt8(ascii: "["))
            for (i, item) in box.items.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                item.write(to: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let box):
            out.append(UInt8(ascii: "{"))
            for (i, key) in box.members.keys.sorted(by: JSONStringWriter.precedes).enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                JSONStringWriter.write(key, to: &out)
                out.append(UInt8(ascii: ":"))
                box.members[key]?.write(to: &out)
            }
            out.append(UInt8(ascii: "}"))
        case .pending(let slot): (slot.node ?? Self.emptyObject).write(to: &out)
        }
    }
}
