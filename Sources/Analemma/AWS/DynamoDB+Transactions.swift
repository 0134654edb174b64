/// DynamoDB transactions and batches.
extension DynamoDB {
    /// One action of a TransactWriteItems call.
    package enum TransactWrite: Sendable, Encodable {
        case put(table: String, item: DynamoItem, Expression = Expression())
        case update(table: String, key: DynamoItem, update: String, Expression = Expression())
        case delete(table: String, key: DynamoItem, Expression = Expression())
        case conditionCheck(table: String, key: DynamoItem, Expression)

        package func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: DynamicKey.self)
            switch self {
            case .put(let table, let item, let e): try c.encode(WriteInput(table, item: item, e), forKey: DynamicKey("Put"))
            case .update(let table, let key, let update, let e):
                try c.encode(WriteInput(table, key: key, update: update, e), forKey: DynamicKey("Update"))
            case .delete(let table, let key, let e): try c.encode(WriteInput(table, key: key, e), forKey: DynamicKey("Delete"))
            case .conditionCheck(let table, let key, let e):
                try c.encode(WriteInput(table, key: key, e), forKey: DynamicKey("ConditionCheck"))
            }
        }
    }

    /// The 100-action limit of one TransactWriteItems call.
    /// https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_TransactWriteItems.html
    package static let maxTransactionActions = 100

    struct TransactWriteInput: Encodable {
        var TransactItems: [TransactWrite]
        var ClientRequestToken: String?
    }

    /// TransactWriteItems. With a `clientRequestToken` (≤36 chars) the call is idempotent for 10 minutes and is
    /// retried after ambiguous failures; without one it is not. A cancelled transaction throws ``AWSError`` with
    /// `cancellationReasons` — one per action, in order — naming which condition failed.
    package func transactWrite(_ actions: [TransactWrite], clientRequestToken: String? = nil) async throws {
        guard !actions.isEmpty, actions.count <= Self.maxTransactionActions else {
            throw AWSError(
                service: "dynamodb", code: "ValidationException",
                message: "TransactWriteItems takes 1 to \(Self.maxTransactionActions) actions, got \(actions.count)", status: 400,
                requestID: nil, rawBody: nil, cancellationReasons: [])
        }
        let _: Empty = try await service.call(
            "TransactWriteItems", TransactWriteInput(TransactItems: actions, ClientRequestToken: clientRequestToken),
            idempotent: clientRequestToken != nil)
    }

    struct TransactGetInput: Encodable {
        struct Get: Encodable { var Get: KeyInput }
        var TransactItems: [Get]
    }
    struct TransactGetOutput: Decodable {
        struct Response: Decodable { var Item: DynamoItem? }
        var Responses: [Response]?
    }

    /// TransactGetItems: a consistent snapshot of up to 100 items (nil where absent), in request order.
    package func transactGet(_ keys: [(table: String, key: DynamoItem)]) async throws -> [DynamoItem?] {
        let input = TransactGetInput(TransactItems: keys.map { .init(Get: KeyInput(TableName: $0.table, Key: $0.key)) })
        let output = try await service.call("TransactGetItems", input, idempotent: true, as: TransactGetOutput.self)
        return (output.Responses ?? []).map(\.Item)
    }

    /// One BatchWriteItem request: a put or a delete.
    package enum BatchWrite: Sendable, Encodable, Equatable {
        case put(DynamoItem)
        case delete(key: DynamoItem)

        package func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: DynamicKey.self)
            switch self {
            case .put(let item): try c.encode(["Item": item], forKey: DynamicKey("PutRequest"))
            case .delete(let key): try c.encode(["Key": key], forKey: DynamicKey("DeleteRequest"))
            }
        }
    }
    struct BatchWriteInput: Encodable { var RequestItems: [String: [BatchWrite]] }
    struct BatchWriteOutput: Decodable {
        struct Request: Decodable {
            struct Put: Decodable { var Item: DynamoItem }
            struct Delete: Decodable { var Key: DynamoItem }
            var PutRequest: Put?
            var DeleteRequest: Delete?
        }
        var UnprocessedItems: [String: [Request]]?
    }

    /// BatchWriteItem in chunks of 25 (AWS's limit), re-sending `UnprocessedItems` through the client's retry policy
    /// (unprocessed items are throughput the table did not have: throttling) until none remain or the policy gives up,
    /// then the error names how many are left.
    /// https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_BatchWriteItem.html
    package func batchWrite(table: String, _ writes: [BatchWrite]) async throws {
        var pending = writes
        while !pending.isEmpty {
            var chunk = Array(pending.prefix(25))
            pending.removeFirst(chunk.count)
            let left = pending.count
            try await service.client.retrying(operation: "BatchWriteItem", idempotent: true) {
                let output = try await service.call(
                    "BatchWriteItem", BatchWriteInput(RequestItems: [table: chunk]), idempotent: true, as: BatchWriteOutput.self)
                chunk = (output.UnprocessedItems?[table] ?? []).compactMap { r in
                    r.PutRequest.map { .put($0.Item) } ?? r.DeleteRequest.map { .delete(key: $0.Key) }
                }
                guard chunk.isEmpty else {
                    throw AWSError(
                        service: "dynamodb", code: "ProvisionedThroughputExceededException",
                        message: "\(chunk.count + left) writes to \(table) still unprocessed (UnprocessedItems)", status: 200,
                        requestID: nil, rawBody: nil, cancellationReasons: [])
                }
            }
        }
    }
}

/// A coding key from a string (for union-shaped wire types).
struct DynamicKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(_ s: String) { stringValue = s }
    init?(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}
