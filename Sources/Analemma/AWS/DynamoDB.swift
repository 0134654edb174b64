/// Amazon DynamoDB over awsJSON 1.0 (`DynamoDB_20120810.*`).
///
/// https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_Operations_Amazon_DynamoDB.html
package struct DynamoDB: Sendable {
    package let service: AWSJSONService

    package init(client: AWSClient) throws {
        service = try AWSJSONService(
            client: client, serviceID: "DynamoDB", signingName: "dynamodb", endpointPrefix: "dynamodb", targetPrefix: "DynamoDB_20120810")
    }

    /// Condition and expression parts shared by writes.
    package struct Expression: Sendable, Encodable {
        package var condition: String?
        package var names: [String: String]?
        package var values: DynamoItem?
        package init(condition: String? = nil, names: [String: String]? = nil, values: DynamoItem? = nil) {
            self.condition = condition
            self.names = names
            self.values = values
        }
    }

    struct ItemOutput: Decodable { var Item: DynamoItem? }
    struct AttributesOutput: Decodable { var Attributes: DynamoItem? }

    struct KeyInput: Encodable {
        var TableName: String
        var Key: DynamoItem
        var ConsistentRead: Bool?
        var ProjectionExpression: String?
        var ExpressionAttributeNames: [String: String]?
    }

    /// GetItem; nil when there is no such item.
    package func getItem(
        table: String, key: DynamoItem, consistentRead: Bool = true, projection: String? = nil, names: [String: String]? = nil
    )
        async throws -> DynamoItem?
    {
        let input = KeyInput(
            TableName: table, Key: key, ConsistentRead: consistentRead, ProjectionExpression: projection, ExpressionAttributeNames: names)
        return try await service.call("GetItem", input, idempotent: true, as: ItemOutput.self).Item
    }

    struct WriteInput: Encodable {
        var TableName: String
        var Item: DynamoItem?
        var Key: DynamoItem?
        var UpdateExpression: String?
        var ConditionExpression: String?
        var ExpressionAttributeNames: [String: String]?
        var ExpressionAttributeValues: DynamoItem?
        var ReturnValues: String?
        var ReturnValuesOnConditionCheckFailure: String?

        /// A write of `item` or at `key`; a conditional one returns the item as it was when its condition failed.
        init(
            _ table: String, item: DynamoItem? = nil, key: DynamoItem? = nil, update: String? = nil, _ e: Expression,
            returnNew: Bool = false
        ) {
            TableName = table
            Item = item
            Key = key
            UpdateExpression = update
            ConditionExpression = e.condition
            ExpressionAttributeNames = e.names
            ExpressionAttributeValues = e.values
            ReturnValues = returnNew ? "ALL_NEW" : nil
            ReturnValuesOnConditionCheckFailure = e.condition == nil ? nil : "ALL_OLD"
        }
    }

    /// PutItem. A conditional put is idempotent for retries (a replay fails its condition instead of writing twice).
    /// On `ConditionalCheckFailedException` the existing item is in the error's raw body (`ALL_OLD`).
    package func putItem(table: String, item: DynamoItem, _ expression: Expression = Expression()) async throws {
        let _: Empty = try await service.call("PutItem", WriteInput(table, item: item, expression), idempotent: true)
    }

    /// UpdateItem, returning the item's new attributes. Unconditional updates (e.g. `ADD`) are not retried after
    /// an ambiguous failure; give a condition to make them retryable.
    package func updateItem(table: String, key: DynamoItem, update: String, _ expression: Expression = Expression()) async throws
        -> DynamoItem
    {
        let input = WriteInput(table, key: key, update: update, expression, returnNew: true)
        return try await service.call("UpdateItem", input, idempotent: expression.condition != nil, as: AttributesOutput.self).Attributes
            ?? [:]
    }

    /// DeleteItem (idempotent: deleting twice leaves the same state).
    package func deleteItem(table: String, key: DynamoItem, _ expression: Expression = Expression()) async throws {
        let _: Empty = try await service.call("DeleteItem", WriteInput(table, key: key, expression), idempotent: true)
    }

    struct QueryInput: Encodable {
        var TableName: String
        var IndexName: String?
        var KeyConditionExpression: String
        var FilterExpression: String?
        var ExpressionAttributeNames: [String: String]?
        var ExpressionAttributeValues: DynamoItem?
        var ExclusiveStartKey: DynamoItem?
        var Limit: Int?
        var ScanIndexForward: Bool?
        var ConsistentRead: Bool?
    }
    struct QueryOutput: Decodable {
        var Items: [DynamoItem]?
        var LastEvaluatedKey: DynamoItem?
    }

    /// Query, following `LastEvaluatedKey` until every page is read (or `maxItems`).
    package func query(
        table: String, index: String? = nil, keyCondition: String, filter: String? = nil, _ expression: Expression = Expression(),
        pageSize: Int? = nil, ascending: Bool = true, maxItems: Int = .max
    ) async throws -> [DynamoItem] {
        var items: [DynamoItem] = []
        var start: DynamoItem?
        repeat {
            let input = QueryInput(
                TableName: table, IndexName: index, KeyConditionExpression: keyCondition, FilterExpression: filter,
                ExpressionAttributeNames: expression.names, ExpressionAttributeValues: expression.values, ExclusiveStartKey: start,
                Limit: pageSize, ScanIndexForward: ascending, ConsistentRead: index == nil ? true : nil)
            let page = try await service.call("Query", input, idempotent: true, as: QueryOutput.self)
            items += page.Items ?? []
            start = page.LastEvaluatedKey
        } while start != nil && items.count < maxItems
        return Array(items.prefix(maxItems))
    }

    struct ScanInput: Encodable {
        var TableName: String
        var FilterExpression: String?
        var ExpressionAttributeNames: [String: String]?
        var ExpressionAttributeValues: DynamoItem?
        var ExclusiveStartKey: DynamoItem?
        var Limit: Int?
        var ConsistentRead: Bool?
    }

    /// Scan, following `LastEvaluatedKey` until every page is read (the sweeper's full pass).
    /// https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_Scan.html
    package func scan(table: String, filter: String? = nil, _ expression: Expression = Expression(), pageSize: Int? = nil) async throws
        -> [DynamoItem]
    {
        var items: [DynamoItem] = []
        var start: DynamoItem?
        repeat {
            let input = ScanInput(
                TableName: table, FilterExpression: filter, ExpressionAttributeNames: expression.names,
                ExpressionAttributeValues: expression.values, ExclusiveStartKey: start, Limit: pageSize, ConsistentRead: true)
            let page = try await service.call("Scan", input, idempotent: true, as: QueryOutput.self)
            items += page.Items ?? []
            start = page.LastEvaluatedKey
        } while start != nil
        return items
    }
}
