#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// Packs event records into WebSocket messages that fit API Gateway's 128 KB message limit.
///
/// Records keep their order and none is dropped: they are spread over as many messages as needed. A record too big
/// for one message on its own is cut: long attribute and body values end in ``marker``, the record gets `"truncated": true`
/// and `"full"` — the pointer of the log shard that holds it whole (`<shard>#seq=<n>`).
/// https://docs.aws.amazon.com/apigateway/latest/developerguide/limits.html
package struct MessagePruner: Sendable {
    /// API Gateway WebSocket message payload limit (carried in frames of at most 32 KB).
    package static let apiGatewayLimit = 128 * 1024
    package static let marker = "…[truncated]"

    package var limit: Int
    package init(limit: Int = MessagePruner.apiGatewayLimit) { self.limit = limit }

    /// The messages for `records` of one shard: each `{"events": [...], "execution_id", "shard", "trace_id", "type": "events"}`.
    package func messages(records: [JSONValue], executionID: String, traceID: String, shard: String) -> [Data] {
        let tailValue = JSONValue.object([
            "execution_id": .string(executionID), "trace_id": .string(traceID), "shard": .string(shard), "type": .string("events"),
        ])
        let head = Data("{\"events\":[".utf8)
        var tail = Data("],".utf8)
        tail.append(tailValue.jsonData().dropFirst())
        let budget = limit - head.count - tail.count
        var messages: [Data] = []
        var current = Data()
        func close() {
            guard !current.isEmpty else { return }
            messages.append(head + current + tail)
            current = Data()
        }
        for record in records {
            let bytes = fit(record, budget: budget, shard: shard)
            if !current.isEmpty, current.count + 1 + bytes.count > budget { close() }
            if !current.isEmpty { current.append(UInt8(ascii: ",")) }
            current.append(bytes)
        }
        close()
        return messages
    }

    /// The record's bytes, cut until they fit `budget`.
    func fit(_ record: JSONValue, budget: Int, shard: String) -> Data {
        let whole = record.jsonData()
        guard whole.count > budget, case .object(var object) = record else { return whole }
        let seq = object["seq"].map { $0.text } ?? "?"
        object["truncated"] = .bool(true)
        object["full"] = .string("\(shard)#seq=\(seq)")
        var maps: [String: [String: JSONValue]] = [:]
        for key in ["attributes", "bodies"] { if case .object(let a)? = object[key] { maps[key] = a } }
        for cap in [16384, 4096, 1024, 256, 64] {
            for (key, map) in maps { object[key] = .object(map.mapValues { Self.cut($0, to: cap) }) }
            let bytes = JSONValue.object(object).jsonData()
            if bytes.count <= budget { return bytes }
        }
        object["attributes"] = .object([:])
        object["bodies"] = nil
        for key in object.keys
        where !["event", "seq", "time_ms", "execution_id", "trace_id", "owner_id", "truncated", "full"].contains(key) {
            object[key] = nil
        }
        for key in ["execution_id", "trace_id", "owner_id", "full"] {
            if case .string(let s)? = object[key] { object[key] = .string(String(s.prefix(512))) }
        }
        return JSONValue.object(object).jsonData()
    }

    static func cut(_ value: JSONValue, to cap: Int) -> JSONValue {
        let text = value.text
        guard text.count > cap else { return value }
        return .string(String(text.prefix(cap)) + marker)
    }
}
