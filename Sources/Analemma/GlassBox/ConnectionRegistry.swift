#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// WebSocket connections and their subscriptions in one DynamoDB table (`pk`, `sk`, TTL attribute `expires_at`):
///
/// - `CONN#<connection>` / `META`: the owner the connection proved at `$connect`;
/// - `CONN#<connection>` / `SUB#<execution>` and `SUB#<execution>` / `CONN#<connection>`: a subscription, both ways
///   (one Query finds an execution's connections, another a connection's subscriptions).
///
/// Items expire with the connect token (TTL), so connections AWS never reported closed do not pile up.
package struct ConnectionRegistry: Sendable {
    package let db: DynamoDB
    package let table: String

    package init(db: DynamoDB, table: String) {
        self.db = db
        self.table = table
    }

    /// Records a connection and its owner. A connection already registered to another owner stays theirs
    /// (`Analemma.Forbidden`): a forged `$connect` cannot take over a live connection.
    package func register(connectionID: String, ownerID: String, expiresAt: Int64, now: Int64) async throws {
        do {
            try await db.putItem(
                table: table,
                item: [
                    "pk": .s("CONN#\(connectionID)"), "sk": .s("META"), "owner_id": .s(ownerID), "connected_at": .int(now),
                    "expires_at": .int(expiresAt),
                ],
                .init(condition: "attribute_not_exists(pk) OR owner_id = :o", values: [":o": .s(ownerID)]))
        } catch let e as AWSError where e.code == "ConditionalCheckFailedException" {
            throw AnalemmaError(.forbidden, "connection \(connectionID.prefix(80).debugDescription) belongs to another owner")
        }
    }

    /// The owner a connection proved, or nil for an unknown (or already removed) connection.
    package func owner(of connectionID: String) async throws -> (ownerID: String, expiresAt: Int64)? {
        guard let item = try await db.getItem(table: table, key: ["pk": .s("CONN#\(connectionID)"), "sk": .s("META")]),
            let owner = item["owner_id"]?.string
        else { return nil }
        return (owner, item["expires_at"]?.int.map(Int64.init) ?? 0)
    }

    /// Subscribes a connection to an execution (both index items, same expiry as the connection).
    package func subscribe(connectionID: String, executionID: String, ownerID: String, expiresAt: Int64) async throws {
        let common: DynamoItem = ["owner_id": .s(ownerID), "expires_at": .int(expiresAt)]
        try await db.batchWrite(
            table: table,
            [
                .put(common.merging(["pk": .s("SUB#\(executionID)"), "sk": .s("CONN#\(connectionID)")]) { a, _ in a }),
                .put(common.merging(["pk": .s("CONN#\(connectionID)"), "sk": .s("SUB#\(executionID)")]) { a, _ in a }),
            ])
    }

    /// The connections subscribed to an execution, with the owner each subscribed as and when its token expires
    /// (epoch seconds; DynamoDB's TTL deletes expired items only eventually, so readers compare it themselves).
    package func subscribers(of executionID: String) async throws -> [(connectionID: String, ownerID: String, expiresAt: Int64)] {
        try await db.query(
            table: table, keyCondition: "pk = :pk", .init(values: [":pk": .s("SUB#\(executionID)")])
        ).compactMap { item in
            guard let sk = item["sk"]?.string, sk.hasPrefix("CONN#"), let owner = item["owner_id"]?.string else { return nil }
            return (String(sk.dropFirst(5)), owner, item["expires_at"]?.int.map(Int64.init) ?? 0)
        }
    }

    /// Removes a connection and every subscription it had (`$disconnect`, or a 410 Gone when posting). Idempotent.
    package func remove(connectionID: String) async throws {
        let items = try await db.query(table: table, keyCondition: "pk = :pk", .init(values: [":pk": .s("CONN#\(connectionID)")]))
        var deletes: [DynamoDB.BatchWrite] = []
        for item in items {
            guard let sk = item["sk"]?.string else { continue }
            deletes.append(.delete(key: ["pk": .s("CONN#\(connectionID)"), "sk": .s(sk)]))
            if sk.hasPrefix("SUB#") { deletes.append(.delete(key: ["pk": .s(sk), "sk": .s("CONN#\(connectionID)")])) }
        }
        try await db.batchWrite(table: table, deletes)
    }
}
