#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// A DynamoDB attribute value, as the wire writes it (`{"S": "…"}`, `{"N": "1"}`, …).
///
/// https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_AttributeValue.html
package indirect enum AttributeValue: Codable, Sendable, Equatable, Hashable {
    case s(String)
    case n(String)
    case b(Data)
    case bool(Bool)
    case null
    case m([String: AttributeValue])
    case l([AttributeValue])
    case ss([String])
    case ns([String])
    case bs([Data])

    enum Key: String, CodingKey {
        case S, N, B, BOOL, NULL, M, L, SS, NS, BS
    }

    package init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: Key.self)
        guard let key = c.allKeys.first else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "attribute value with no type key"))
        }
        switch key {
        case .S: self = .s(try c.decode(String.self, forKey: .S))
        case .N: self = .n(try c.decode(String.self, forKey: .N))
        case .B: self = .b(try c.decode(Data.self, forKey: .B))
        case .BOOL: self = .bool(try c.decode(Bool.self, forKey: .BOOL))
        case .NULL: self = .null
        case .M: self = .m(try c.decode([String: AttributeValue].self, forKey: .M))
        case .L: self = .l(try c.decode([AttributeValue].self, forKey: .L))
        case .SS: self = .ss(try c.decode([String].self, forKey: .SS))
        case .NS: self = .ns(try c.decode([String].self, forKey: .NS))
        case .BS: self = .bs(try c.decode([Data].self, forKey: .BS))
        }
    }

    package func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: Key.self)
        switch self {
        case .s(let v): try c.encode(v, forKey: .S)
        case .n(let v): try c.encode(v, forKey: .N)
        case .b(let v): try c.encode(v, forKey: .B)
        case .bool(let v): try c.encode(v, forKey: .BOOL)
        case .null: try c.encode(true, forKey: .NULL)
        case .m(let v): try c.encode(v, forKey: .M)
        case .l(let v): try c.encode(v, forKey: .L)
        case .ss(let v): try c.encode(v, forKey: .SS)
        case .ns(let v): try c.encode(v, forKey: .NS)
        case .bs(let v): try c.encode(v, forKey: .BS)
        }
    }

    /// A number from an integer.
    package static func int<I: BinaryInteger>(_ v: I) -> AttributeValue { .n(String(v)) }

    package var string: String? { if case .s(let v) = self { v } else { nil } }
    package var int: Int? { if case .n(let v) = self { Int(v) } else { nil } }
}

/// An item: attribute name → value.
package typealias DynamoItem = [String: AttributeValue]
