#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// DynamoDB request units of one request as on-demand mode bills them, from the items it carries: a write unit per
/// KB of each item written (rounded up per item), a read unit per 4 KB of what a strongly consistent read returns
/// (half for an eventually consistent one), twice that inside a transaction (a `ConditionCheck` is billed as a
/// write).
///
/// https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/read-write-operations.html (item sizes, units)
/// https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/transaction-apis.html#transaction-capacity-handling
///
/// What a request does not show is estimated from what it does: an update or delete is billed on the stored item's
/// size, which the request does not carry (its key and new values stand in: exact for the kernel's small items).
enum DynamoDBUnits {
    /// Write request units of `operation` with request body `request`.
    static func writes(_ operation: String, request: Data) -> Int {
        guard ["PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"].contains(operation) else { return 0 }
        guard let body = try? JSONDecoder().decode(JSONValue.self, from: request) else { return 1 }
        switch operation {
        case "PutItem": return units(itemSize(body["Item"]), per: 1024)
        case "UpdateItem", "DeleteItem": return units(itemSize(body["Key"]) + valuesSize(body), per: 1024)
        case "BatchWriteItem":
            guard case .object(let tables)? = body["RequestItems"] else { return 1 }
            return tables.values.reduce(0) { sum, requests in
                requests.arrayItems.reduce(sum) { sum, request in
                    sum.saturatingAdd(units(itemSize(request["PutRequest"]?["Item"] ?? request["DeleteRequest"]?["Key"]), per: 1024))
                }
            }
        case "TransactWriteItems":
            return (body["TransactItems"]?.arrayItems ?? []).reduce(0) { sum, action in
                let size =
                    if let put = action["Put"] { itemSize(put["Item"]) } else {
                        ["Update", "Delete", "ConditionCheck"].lazy.compactMap { action[$0] }.first.map {
                            itemSize($0["Key"]) + valuesSize($0)
                        } ?? 0
                    }
                return sum.saturatingAdd(2 * units(size, per: 1024))
            }
        default: return 0
        }
    }

    /// Read request units of `operation` with request body `request` and its response body `response`.
    static func reads(_ operation: String, request: Data, response: Data) -> Int {
        guard ["GetItem", "Query", "Scan", "BatchGetItem", "TransactGetItems"].contains(operation) else { return 0 }
        guard let reply = try? JSONDecoder().decode(JSONValue.self, from: response) else { return 1 }
        let asked = try? JSONDecoder().decode(JSONValue.self, from: request)
        let consistent = asked?["ConsistentRead"] == .bool(true)
        func read(_ bytes: Int) -> Int { consistent ? units(bytes, per: 4096) : (units(bytes, per: 4096) + 1) / 2 }
        switch operation {
        case "GetItem": return read(itemSize(reply["Item"]))
        // One read over everything returned (Query and Scan are billed on the sum, not per item).
        case "Query", "Scan": return read((reply["Items"]?.arrayItems ?? []).reduce(0) { $0.saturatingAdd(itemSize($1)) })
        case "BatchGetItem":
            guard case .object(let tables)? = reply["Responses"] else { return 1 }
            return tables.values.reduce(0) { sum, items in items.arrayItems.reduce(sum) { $0.saturatingAdd(read(itemSize($1))) } }
        case "TransactGetItems":
            return (reply["Responses"]?.arrayItems ?? []).reduce(0) { $0.saturatingAdd(2 * units(itemSize($1["Item"]), per: 4096)) }
        default: return 0
        }
    }

    /// Whole units of `size` bytes, at least one.
    static func units(_ size: Int, per unit: Int) -> Int { max(1, size / unit + (size % unit == 0 ? 0 : 1)) }

    /// An item's size as DynamoDB counts it: each attribute's name (UTF-8) plus its value.
    static func itemSize(_ item: JSONValue?) -> Int {
        guard case .object(let attributes)? = item else { return 0 }
        return attributes.reduce(0) { $0.saturatingAdd($1.key.utf8.count).saturatingAdd(valueSize($1.value)) }
    }

    /// The values an update or condition names (`ExpressionAttributeValues`).
    static func valuesSize(_ action: JSONValue) -> Int {
        guard case .object(let values)? = action["ExpressionAttributeValues"] else { return 0 }
        return values.values.reduce(0) { $0.saturatingAdd(valueSize($1)) }
    }

    /// One typed attribute value (`{"S": ...}`, `{"N": ...}`, `{"M": {...}}`, ...).
    static func valueSize(_ value: JSONValue) -> Int {
        guard case .object(let typed) = value, let (type, content) = typed.first else { return 0 }
        switch (type, content) {
        case ("S", .string(let s)): return s.utf8.count
        case ("N", .string(let n)): return numberSize(n)
        case ("B", .string(let b)): return b.utf8.count * 3 / 4
        case ("BOOL", _), ("NULL", _): return 1
        case ("SS", .array(let xs)): return xs.reduce(0) { $0.saturatingAdd($1.stringValue?.utf8.count ?? 0) }
        case ("NS", .array(let xs)): return xs.reduce(0) { $0.saturatingAdd(numberSize($1.stringValue ?? "")) }
        case ("BS", .array(let xs)): return xs.reduce(0) { $0.saturatingAdd(($1.stringValue?.utf8.count ?? 0) * 3 / 4) }
        case ("L", .array(let xs)): return xs.reduce(3) { $0.saturatingAdd(valueSize($1)).saturatingAdd(1) }
        case ("M", .object(let m)):
            return m.reduce(3) { $0.saturatingAdd($1.key.utf8.count).saturatingAdd(valueSize($1.value)).saturatingAdd(1) }
        default: return 0
        }
    }

    /// A number's size: one byte per two significant digits, plus one.
    static func numberSize(_ n: String) -> Int {
        let digits = n.utf8.filter { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }.count
        return (digits + 1) / 2 + 1
    }
}

extension JSONValue {
    /// The member named `key` of an object (nil otherwise).
    fileprivate subscript(key: String) -> JSONValue? {
        if case .object(let o) = self { return o[key] }
        return nil
    }

    /// An array's elements (empty otherwise).
    fileprivate var arrayItems: [JSONValue] {
        if case .array(let a) = self { return a }
        return []
    }

    /// A string's value (nil otherwise).
    fileprivate var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }
}
