#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// Manifests and each execution's head pointer in DynamoDB (`MANIFEST_TABLE`, keys `pk`/`sk`).
///
/// A manifest item's commit state (`state` in DynamoDB): written PREPARED, then COMMITTED with the head move, or
/// ABORTED by recovery (never both).
package enum ManifestState: String, Sendable, Codable {
    case prepared = "PREPARED"
    case committed = "COMMITTED"
    case aborted = "ABORTED"
}

/// Items: `pk = EXEC#<execution>`; `sk = M#<manifest_id>` holds a manifest (its JSON, `state` PREPARED or
/// COMMITTED); `sk = HEAD` holds the committed head (`manifest_id`, `version`). A manifest is written PREPARED
/// (after its blocks are durable), then one transaction marks it COMMITTED and moves the head on the condition
/// that the head is still at the version the writer read: of two concurrent writers one wins, the other gets
/// ``HeadConflict`` and nothing of its is visible. Readers follow the head, so they only ever see committed state.
package struct ManifestStore: Sendable {
    package let db: DynamoDB
    package let table: String

    package init(db: DynamoDB, table: String) {
        self.db = db
        self.table = table
    }

    /// Another writer moved the head first.
    package struct HeadConflict: Error, Sendable, Equatable, CustomStringConvertible {
        package let executionID: String
        package let expectedVersion: Int
        package var description: String { "head of execution \(executionID) moved past version \(expectedVersion) (concurrent writer)" }
    }

    /// The head of an execution: the committed manifest id and its version (0 before the first commit).
    package struct Head: Sendable, Equatable {
        package var manifestID: String?
        package var version: Int
        /// Before the first commit.
        package static let empty = Head(manifestID: nil, version: 0)
        package init(manifestID: String?, version: Int) {
            self.manifestID = manifestID
            self.version = version
        }
    }

    static func pk(_ execution: String) -> AttributeValue { .s("EXEC#\(execution)") }

    package func head(executionID: String) async throws -> Head {
        guard let item = try await db.getItem(table: table, key: ["pk": Self.pk(executionID), "sk": .s("HEAD")]) else {
            return Head(manifestID: nil, version: 0)
        }
        return Head(manifestID: item["manifest_id"]?.string, version: item["version"]?.int ?? 0)
    }

    /// Phase 1: the manifest, PREPARED, with the references its commit takes (idempotent: writing the same
    /// manifest again is a no-op).
    package func prepare(
        _ manifest: Manifest, took: TakenReferences = TakenReferences([], reachable: true), now: Int64 = SystemWallClock().nowMillis()
    )
        async throws
    {
        let body = String(decoding: manifest.canonicalBytes(), as: UTF8.self)
        var item: DynamoItem = [
            "pk": Self.pk(manifest.executionID), "sk": .s("M#\(manifest.manifestID)"), "body": .s(body),
            "state": .s(ManifestState.prepared.rawValue),
            "owner_id": .s(manifest.ownerID), "segment_index": .int(manifest.segmentIndex), "prepared_at": .int(now),
            "trace_id": .s(manifest.traceID ?? ""),
        ]
        item["took"] = .s(took.hashes.joined(separator: " "))
        if took.reachable { item["took_reachable"] = .int(1) }
        do {
            try await db.putItem(table: table, item: item, .init(condition: "attribute_not_exists(pk)"))
        } catch let e as AWSError where e.code == "ConditionalCheckFailedException" {
            guard e.item?["body"]?.string == body else {
                throw AnalemmaError(.invalidState, "manifest \(manifest.manifestID.prefix(12)) exists with different content")
            }
            // The same manifest again (content-addressed): a retry, or a re-run after recovery aborted it.
            if e.item?["state"]?.string == ManifestState.aborted.rawValue {
                _ = try await db.updateItem(
                    table: table, key: ["pk": Self.pk(manifest.executionID), "sk": .s("M#\(manifest.manifestID)")],
                    update: "SET #s = :prepared, prepared_at = :now",
                    .init(
                        condition: "#s = :aborted", names: ["#s": "state"],
                        values: [
                            ":prepared": .s(ManifestState.prepared.rawValue), ":aborted": .s(ManifestState.aborted.rawValue),
                            ":now": .int(now),
                        ]))
            }
        }
    }

    /// Phase 2: marks the manifest COMMITTED and moves the head from `expected` in one transaction.
    /// Retrying after an ambiguous failure is safe: a commit that already happened is recognised, not repeated.
    package func commit(_ manifest: Manifest, expected: Head) async throws {
        let pk = Self.pk(manifest.executionID)
        let headUpdate: DynamoDB.TransactWrite =
            expected.version == 0
            ? .put(
                table: table, item: ["pk": pk, "sk": .s("HEAD"), "manifest_id": .s(manifest.manifestID), "version": .int(1)],
                .init(condition: "attribute_not_exists(pk)"))
            : .update(
                table: table, key: ["pk": pk, "sk": .s("HEAD")], update: "SET manifest_id = :m, version = :next",
                .init(
                    condition: "version = :expected",
                    values: [":m": .s(manifest.manifestID), ":next": .int(expected.version + 1), ":expected": .int(expected.version)]))
        do {
            try await db.transactWrite([
                .update(
                    table: table, key: ["pk": pk, "sk": .s("M#\(manifest.manifestID)")], update: "SET #s = :committed",
                    .init(
                        condition: "#s = :prepared", names: ["#s": "state"],
                        values: [":committed": .s(ManifestState.committed.rawValue), ":prepared": .s(ManifestState.prepared.rawValue)])),
                headUpdate,
            ])
        } catch let e as AWSError where e.code == "TransactionCanceledException" {
            let current = try await head(executionID: manifest.executionID)
            if current.manifestID == manifest.manifestID { return }  // our earlier attempt landed
            if e.cancellationReasons.count == 2, e.cancellationReasons[1].code == "ConditionalCheckFailed" {
                throw HeadConflict(executionID: manifest.executionID, expectedVersion: expected.version)
            }
            throw e
        }
    }

    /// Manifests of an execution still PREPARED (never committed) since before `olderThan` (epoch ms).
    package func prepared(executionID: String, olderThan: Int64) async throws -> [Manifest] {
        let items = try await db.query(
            table: table, keyCondition: "pk = :pk AND begins_with(sk, :m)", filter: "#s = :prepared AND prepared_at <= :t",
            .init(
                names: ["#s": "state"],
                values: [
                    ":pk": Self.pk(executionID), ":m": .s("M#"), ":prepared": .s(ManifestState.prepared.rawValue), ":t": .int(olderThan),
                ]))
        return try Self.decode(items)
    }

    /// The block references a commit takes: the listed hashes (what it uploaded or newly uses), and with
    /// `reachable` everything its manifest reaches (a fork's first manifest, and every manifest written before the
    /// list was recorded).
    package struct TakenReferences: Sendable, Equatable {
        package var hashes: [String]
        package var reachable: Bool
        /// Most hashes a record lists (65 bytes each: well inside DynamoDB's 400 KB item).
        package static let listLimit = 1_000

        package init(_ hashes: some Sequence<String>, reachable: Bool = false) {
            self.hashes = Set(hashes).sorted()
            self.reachable = reachable
        }

        init(_ item: DynamoItem) {
            guard let took = item["took"]?.string else {
                self.init([], reachable: true)
                return
            }
            self.init(took.split(separator: " ").map(String.init), reachable: item["took_reachable"] != nil)
        }
    }

    /// One stored manifest with its commit state (`PREPARED`, `COMMITTED`, `ABORTED`), when it was prepared and
    /// which references its commit took.
    package struct Record: Sendable {
        package var manifest: Manifest
        /// Nil for a stored state this version does not know (treated as neither live nor abortable).
        package var state: ManifestState?
        package var preparedAt: Int64
        package var took: TakenReferences
    }

    /// Every manifest record of an execution (recovery decides from their states and ages).
    package func records(executionID: String) async throws -> [Record] {
        let items = try await db.query(
            table: table, keyCondition: "pk = :pk AND begins_with(sk, :m)", .init(values: [":pk": Self.pk(executionID), ":m": .s("M#")]))
        return try items.compactMap { item in
            guard let manifest = try Self.decode([item]).first else { return nil }
            return Record(
                manifest: manifest, state: item["state"]?.string.flatMap(ManifestState.init(rawValue:)),
                preparedAt: Int64(item["prepared_at"]?.int ?? 0), took: TakenReferences(item))
        }
    }

    /// Deletes an ABORTED manifest record once recovery released what it held (idempotent).
    package func forgetAborted(_ manifest: Manifest) async throws {
        do {
            try await db.deleteItem(
                table: table, key: ["pk": Self.pk(manifest.executionID), "sk": .s("M#\(manifest.manifestID)")],
                .init(condition: "#s = :aborted", names: ["#s": "state"], values: [":aborted": .s(ManifestState.aborted.rawValue)]))
        } catch let e as AWSError where e.code == "ConditionalCheckFailedException" {}
    }

    /// Deletes an execution's head and manifests (after its block references were released). Idempotent.
    package func deleteExecution(_ executionID: String, manifests: [Manifest]) async throws {
        try await db.batchWrite(
            table: table,
            [.delete(key: ["pk": Self.pk(executionID), "sk": .s("HEAD")])]
                + manifests.map { .delete(key: ["pk": Self.pk(executionID), "sk": .s("M#\($0.manifestID)")]) })
    }

    /// The manifests of scanned or queried items (not verified: a reader of one manifest goes through
    /// ``manifest(executionID:manifestID:)``, which checks it against its id).
    static func decode(_ items: [DynamoItem]) throws -> [Manifest] {
        try items.compactMap { item in
            guard let body = item["body"]?.string else { return nil }
            return try JSONDecoder().decode(Manifest.self, from: Data(body.utf8))
        }
    }

    /// Marks a never-committed manifest ABORTED (false if it was committed or aborted meanwhile).
    package func abort(_ manifest: Manifest) async throws -> Bool {
        do {
            _ = try await db.updateItem(
                table: table, key: ["pk": Self.pk(manifest.executionID), "sk": .s("M#\(manifest.manifestID)")], update: "SET #s = :aborted",
                .init(
                    condition: "#s = :prepared", names: ["#s": "state"],
                    values: [":aborted": .s(ManifestState.aborted.rawValue), ":prepared": .s(ManifestState.prepared.rawValue)]))
            return true
        } catch let e as AWSError where e.code == "ConditionalCheckFailedException" {
            return false
        }
    }

    /// A stored manifest, verified against its id; nil when absent.
    package func manifest(executionID: String, manifestID: String) async throws -> Manifest? {
        guard let item = try await db.getItem(table: table, key: ["pk": Self.pk(executionID), "sk": .s("M#\(manifestID)")]),
            let body = item["body"]?.string
        else { return nil }
        let manifest = try JSONDecoder().decode(Manifest.self, from: Data(body.utf8))
        guard manifest.isIntact, manifest.manifestID == manifestID else {
            throw AnalemmaError(.invalidState, "stored manifest \(manifestID.prefix(12)) does not match its id")
        }
        return manifest
    }
}
