/// Who holds a block, in DynamoDB (`BLOCK_REFERENCES_TABLE`, keys `pk`/`sk`), and the GC handshake.
///
/// Per block (`pk = BLK#<owner>#<hash>`): one `sk = REF#<execution>` item per execution whose manifests use it
/// (taking a reference twice is a no-op: the item's existence is the idempotency record), and `sk = META` with
/// `refs` (how many REF items), `condemned_at` (GC marked it), `claimed_at` (GC is deleting it) and
/// `deleted_at` (GC deleted the object). A reference is taken in one transaction with `ADD refs 1 REMOVE
/// condemned_at` on the condition that GC has not claimed the block: so GC can claim only a block nobody
/// referenced since it was condemned, and a writer can never reference an object GC is deleting. A block GC
/// deleted can be revived by uploading it again (``revive``).
package struct BlockReferences: Sendable {
    package let db: DynamoDB
    package let table: String

    package init(db: DynamoDB, table: String) {
        self.db = db
        self.table = table
    }

    /// The block is being (or was) deleted by GC: upload it again and ``revive`` it before referencing it.
    package struct BlockCollected: Error, Sendable, Equatable, CustomStringConvertible {
        package let hash: String
        package let deleted: Bool
        package init(hash: String, deleted: Bool) {
            self.hash = hash
            self.deleted = deleted
        }
        package var description: String { "block \(hash.prefix(12)) is \(deleted ? "deleted" : "being deleted") by GC" }
    }

    static func pk(_ owner: String, _ hash: String) -> AttributeValue { .s("BLK#\(owner)#\(hash)") }

    /// Takes references of `execution` on `hashes`, each exactly once, 50 blocks (100 actions) per transaction.
    /// Already-held references are skipped; a block GC has claimed throws ``BlockCollected``.
    package func take(owner: String, execution: String, hashes: [String]) async throws {
        var pending = Array(Set(hashes)).sorted()
        while !pending.isEmpty {
            var batch = Array(pending.prefix(DynamoDB.maxTransactionActions / 2))
            pending.removeFirst(batch.count)
            while !batch.isEmpty {
                var actions: [DynamoDB.TransactWrite] = []
                for hash in batch {
                    actions.append(
                        .put(
                            table: table, item: ["pk": Self.pk(owner, hash), "sk": .s("REF#\(execution)")],
                            .init(condition: "attribute_not_exists(pk)")))
                    actions.append(
                        .update(
                            table: table, key: ["pk": Self.pk(owner, hash), "sk": .s("META")], update: "ADD refs :one REMOVE condemned_at",
                            .init(condition: "attribute_not_exists(claimed_at)", values: [":one": .int(1)])))
                }
                do {
                    try await db.transactWrite(actions)
                    break
                } catch let e as AWSError where e.code == "TransactionCanceledException" && e.cancellationReasons.count == actions.count {
                    // Conflicts only (the client already retried them with backoff): transient, never a loop here.
                    guard e.cancellationReasons.contains(where: { $0.code == "ConditionalCheckFailed" }) else { throw e }
                    var retry: [String] = []
                    for (i, hash) in batch.enumerated() {
                        let refFailed = e.cancellationReasons[2 * i].code == "ConditionalCheckFailed"
                        let metaFailed = e.cancellationReasons[2 * i + 1].code == "ConditionalCheckFailed"
                        if metaFailed {
                            throw BlockCollected(hash: hash, deleted: e.cancellationReasons[2 * i + 1].item?["deleted_at"] != nil)
                        }
                        if !refFailed { retry.append(hash) }  // held already: done; otherwise retry without the held ones
                    }
                    batch = retry
                }
            }
        }
    }

    /// The reference count of a block (0 when unknown).
    package func count(owner: String, hash: String) async throws -> Int {
        try await db.getItem(table: table, key: ["pk": Self.pk(owner, hash), "sk": .s("META")])?["refs"]?.int ?? 0
    }

    /// Whether `execution` holds a reference on the block.
    package func holds(owner: String, execution: String, hash: String) async throws -> Bool {
        try await db.getItem(table: table, key: ["pk": Self.pk(owner, hash), "sk": .s("REF#\(execution)")]) != nil
    }

    /// Releases `execution`'s reference (retention, or an aborted fork); when the count reaches zero the block is
    /// condemned in the same transaction. Releasing twice is a no-op. Returns whether the block is now condemned.
    @discardableResult
    package func release(owner: String, execution: String, hash: String, now: Int64) async throws -> Bool {
        do {
            try await db.transactWrite([
                .delete(
                    table: table, key: ["pk": Self.pk(owner, hash), "sk": .s("REF#\(execution)")], .init(condition: "attribute_exists(pk)")),
                .update(
                    table: table, key: ["pk": Self.pk(owner, hash), "sk": .s("META")], update: "ADD refs :minus",
                    .init(values: [":minus": .int(-1)])),
            ])
        } catch let e as AWSError
            where e.code == "TransactionCanceledException" && e.cancellationReasons.first?.code == "ConditionalCheckFailed"
        {
            return false
        }
        return try await condemn(owner: owner, hash: hash, now: now)
    }

    /// The block's GC marks (`META`), nil when the block was never referenced nor condemned.
    package struct Marks: Sendable, Equatable {
        package var refs: Int
        package var condemnedAt: Int64?
        package var claimedAt: Int64?
        package var deletedAt: Int64?
    }

    /// Reads the block's `META` item (consistent read).
    package func marks(owner: String, hash: String) async throws -> Marks? {
        guard let item = try await db.getItem(table: table, key: ["pk": Self.pk(owner, hash), "sk": .s("META")]) else { return nil }
        return Marks(
            refs: item["refs"]?.int ?? 0, condemnedAt: item["condemned_at"]?.int.map(Int64.init),
            claimedAt: item["claimed_at"]?.int.map(Int64.init), deletedAt: item["deleted_at"]?.int.map(Int64.init))
    }

    /// GC step 1: marks an unreferenced block condemned (also a block no one ever referenced, e.g. the upload of
    /// a crashed commit). False when it is referenced.
    package func condemn(owner: String, hash: String, now: Int64) async throws -> Bool {
        do {
            _ = try await db.updateItem(
                table: table, key: ["pk": Self.pk(owner, hash), "sk": .s("META")], update: "SET condemned_at = :now",
                .init(
                    condition: "(attribute_not_exists(refs) OR refs = :zero) AND attribute_not_exists(claimed_at)",
                    values: [":now": .int(now), ":zero": .int(0)]))
            return true
        } catch let e as AWSError where e.code == "ConditionalCheckFailedException" {
            return false
        }
    }

    /// GC step 2, after the grace delay: claims the block for deletion if it is still condemned at `condemnedAt`
    /// and unreferenced. From then on references fail; the caller deletes the object, then calls ``markDeleted``.
    package func claim(owner: String, hash: String, condemnedAt: Int64, now: Int64) async throws -> Bool {
        do {
            _ = try await db.updateItem(
                table: table, key: ["pk": Self.pk(owner, hash), "sk": .s("META")], update: "SET claimed_at = :now",
                .init(
                    condition: "condemned_at = :c AND (attribute_not_exists(refs) OR refs = :zero)",
                    values: [":now": .int(now), ":c": .int(condemnedAt), ":zero": .int(0)]))
            return true
        } catch let e as AWSError where e.code == "ConditionalCheckFailedException" {
            return false
        }
    }

    /// GC step 3: records that the object is gone (a writer may now ``revive`` it).
    package func markDeleted(owner: String, hash: String, now: Int64) async throws {
        _ = try await db.updateItem(
            table: table, key: ["pk": Self.pk(owner, hash), "sk": .s("META")], update: "SET deleted_at = :now",
            .init(condition: "attribute_exists(claimed_at)", values: [":now": .int(now)]))
    }

    /// After GC deleted a block and the writer uploaded it again: clears the GC marks so it can be referenced.
    package func revive(owner: String, hash: String) async throws {
        _ = try await db.updateItem(
            table: table, key: ["pk": Self.pk(owner, hash), "sk": .s("META")], update: "REMOVE claimed_at, deleted_at, condemned_at",
            .init(condition: "attribute_exists(deleted_at)"))
    }
}
