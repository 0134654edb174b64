#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// The `Encoder` that fills one ``JSONNode/Slot``.
struct NodeEncoder: Encoder {
    let slot: JSONNode.Slot
    let codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        if case .object(let box)? = slot.node { return KeyedEncodingContainer(KeyedNodeContainer(box: box, codingPath: codingPath)) }
        let box = JSONNode.ObjectBox()
        slot.node = .object(box)
        return KeyedEncodingContainer(KeyedNodeContainer(box: box, codingPath: codingPath))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        if case .array(let box)? = slot.node { return UnkeyedNodeContainer(box: box, codingPath: codingPath) }
        let box = JSONNode.ArrayBox()
        slot.node = .array(box)
        return UnkeyedNodeContainer(box: box, codingPath: codingPath)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer { SingleNodeContainer(slot: slot, codingPath: codingPath) }
}

/// A key as `JSONEncoder` names a super encoder's.
struct SuperKey: CodingKey {
    var stringValue: String { "super" }
    var intValue: Int? { nil }
    init() {}
    init?(stringValue: String) {}
    init?(intValue: Int) { nil }
}

/// An array position in a coding path.
struct IndexKey: CodingKey {
    let intValue: Int?
    var stringValue: String { intValue.map { "Index \($0)" } ?? "" }
    init(_ index: Int) { intValue = index }
    init?(stringValue: String) { nil }
    init?(intValue: Int) { self.intValue = intValue }
}

struct KeyedNodeContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let box: JSONNode.ObjectBox
    let codingPath: [any CodingKey]

    mutating func encodeNil(forKey key: Key) throws { box.members[key.stringValue] = .literal(Array("null".utf8)) }
    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        box.members[key.stringValue] = try JSONNode.make(value, codingPath: codingPath + [key])
    }
    @available(macOS 15.0, iOS 18.0, watchOS 11.0, tvOS 18.0, visionOS 2.0, *)
    mutating func encode(_ value: Int128, forKey key: Key) throws { box.members[key.stringValue] = .literal(Array(String(value).utf8)) }
    @available(macOS 15.0, iOS 18.0, watchOS 11.0, tvOS 18.0, visionOS 2.0, *)
    mutating func encode(_ value: UInt128, forKey key: Key) throws { box.members[key.stringValue] = .literal(Array(String(value).utf8)) }
    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key) -> KeyedEncodingContainer<
        NestedKey
    > {
        let nested = JSONNode.ObjectBox()
        box.members[key.stringValue] = .object(nested)
        return KeyedEncodingContainer(KeyedNodeContainer<NestedKey>(box: nested, codingPath: codingPath + [key]))
    }
    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        let nested = JSONNode.ArrayBox()
        box.members[key.stringValue] = .array(nested)
        return UnkeyedNodeContainer(box: nested, codingPath: codingPath + [key])
    }
    mutating func superEncoder() -> any Encoder { superEncoder(named: "super", key: SuperKey()) }
    mutating func superEncoder(forKey key: Key) -> any Encoder { superEncoder(named: key.stringValue, key: key) }
    private func superEncoder(named name: String, key: any CodingKey) -> any Encoder {
        let slot = JSONNode.Slot()
        box.members[name] = .pending(slot)
        return NodeEncoder(slot: slot, codingPath: codingPath + [key])
    }
}

struct UnkeyedNodeContainer: UnkeyedEncodingContainer {
    let box: JSONNode.ArrayBox
    let codingPath: [any CodingKey]
    var count: Int { box.items.count }

    mutating func encodeNil() throws { box.items.append(.literal(Array("null".utf8))) }
    mutating func encode<T: Encodable>(_ value: T) throws {
        box.items.append(try JSONNode.make(value, codingPath: codingPath + [IndexKey(count)]))
    }
    @available(macOS 15.0, iOS 18.0, watchOS 11.0, tvOS 18.0, visionOS 2.0, *)
    mutating func encode(_ value: Int128) throws { box.items.append(.literal(Array(String(value).utf8))) }
    @available(macOS 15.0, iOS 18.0, watchOS 11.0, tvOS 18.0, visionOS 2.0, *)
    mutating func encode(_ value: UInt128) throws { box.items.append(.literal(Array(String(value).utf8))) }
    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
        let nested = JSONNode.ObjectBox()
        let path = codingPath + [IndexKey(count)]
        box.items.append(.object(nested))
        return KeyedEncodingContainer(KeyedNodeContainer<NestedKey>(box: nested, codingPath: path))
    }
    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
        let nested = JSONNode.ArrayBox()
        let path = codingPath + [IndexKey(count)]
        box.items.append(.array(nested))
        return UnkeyedNodeContainer(box: nested, codingPath: path)
    }
    mutating func superEncoder() -> any Encoder {
        let slot = JSONNode.Slot()
        let path = codingPath + [IndexKey(count)]
        box.items.append(.pending(slot))
        return NodeEncoder(slot: slot, codingPath: path)
    }
}

struct SingleNodeContainer: SingleValueEncodingContainer {
    let slot: JSONNode.Slot
    let codingPath: [any CodingKey]

    mutating func encodeNil() throws { slot.node = .literal(Array("null".utf8)) }
    mutating func encode<T: Encodable>(_ value: T) throws { slot.node = try JSONNode.make(value, codingPath: codingPath) }
    mutating func encode(_ value: Int8) throws { slot.node = .literal(Array(String(value).utf8)) }
    mutating func encode(_ value: Int16) throws { slot.node = .literal(Array(String(value).utf8)) }
    mutating func encode(_ value: Int32) throws { slot.node = .literal(Array(String(value).utf8)) }
    mutating func encode(_ value: UInt) throws { slot.node = .literal(Array(String(value).utf8)) }
    mutating func encode(_ value: UInt8) throws { slot.node = .literal(Array(String(value).utf8)) }
    mutating func encode(_ value: UInt16) throws { slot.node = .literal(Array(String(value).utf8)) }
    mutating func encode(_ value: UInt32) throws { slot.node = .literal(Array(String(value).utf8)) }
    // 128-bit integers are numbers, as JSONEncoder writes them (each container spells them out: the standard
    // library's default refuses them, and the generic `encode` would recurse through their own `encode(to:)`).
    @available(macOS 15.0, iOS 18.0, watchOS 11.0, tvOS 18.0, visionOS 2.0, *)
    mutating func encode(_ value: Int128) throws { slot.node = .literal(Array(String(value).utf8)) }
    @available(macOS 15.0, iOS 18.0, watchOS 11.0, tvOS 18.0, visionOS 2.0, *)
    mutating func encode(_ value: UInt128) throws { slot.node = .literal(Array(String(value).utf8)) }
}
