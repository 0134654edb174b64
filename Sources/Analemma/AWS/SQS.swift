/// Amazon SQS over its awsJSON 1.0 protocol (`AmazonSQS.*`).
///
/// https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_Operations.html
package struct SQS: Sendable {
    package let service: AWSJSONService

    package init(client: AWSClient) throws {
        service = try AWSJSONService(client: client, serviceID: "SQS", signingName: "sqs", endpointPrefix: "sqs", targetPrefix: "AmazonSQS")
    }

    package struct Message: Decodable, Sendable, Equatable {
        package var MessageId: String
        package var ReceiptHandle: String
        package var Body: String
        package var Attributes: [String: String]?
    }

    struct SendInput: Encodable {
        var QueueUrl: String
        var MessageBody: String
        var DelaySeconds: Int?
        var MessageGroupId: String?
        var MessageDeduplicationId: String?
    }
    struct SendOutput: Decodable { var MessageId: String }

    /// SendMessage (delay 0–900 s). Not retried after an ambiguous failure unless a deduplication id makes it
    /// idempotent (FIFO queues).
    package func send(queueURL: String, body: String, delaySeconds: Int? = nil, groupID: String? = nil, deduplicationID: String? = nil)
        async throws -> String
    {
        let input = SendInput(
            QueueUrl: queueURL, MessageBody: body, DelaySeconds: delaySeconds, MessageGroupId: groupID,
            MessageDeduplicationId: deduplicationID)
        return try await service.call("SendMessage", input, idempotent: deduplicationID != nil, as: SendOutput.self).MessageId
    }

    package struct BatchEntry: Encodable, Sendable {
        package var Id: String
        package var MessageBody: String
        package var DelaySeconds: Int?
        package init(id: String, body: String, delaySeconds: Int? = nil) {
            Id = id
            MessageBody = body
            DelaySeconds = delaySeconds
        }
    }
    struct BatchInput: Encodable {
        var QueueUrl: String
        var Entries: [BatchEntry]
    }
    package struct BatchResult: Decodable, Sendable {
        package struct Failure: Decodable, Sendable, Equatable {
            package var Id: String
            package var Code: String
            package var Message: String?
            package var SenderFault: Bool?
        }
        package struct Success: Decodable, Sendable { package var Id: String }
        package var Successful: [Success]?
        package var Failed: [Failure]?
    }

    /// SendMessageBatch (≤10 entries); per-entry failures are returned, not thrown.
    package func sendBatch(queueURL: String, entries: [BatchEntry]) async throws -> BatchResult {
        try await service.call("SendMessageBatch", BatchInput(QueueUrl: queueURL, Entries: entries), idempotent: false)
    }

    struct ReceiveInput: Encodable {
        var QueueUrl: String
        var MaxNumberOfMessages: Int
        var WaitTimeSeconds: Int
        var VisibilityTimeout: Int?
        var MessageSystemAttributeNames: [String]?
    }
    struct ReceiveOutput: Decodable { var Messages: [Message]? }

    /// ReceiveMessage (1–10 messages, long poll up to 20 s).
    package func receive(queueURL: String, max: Int = 10, waitSeconds: Int = 0, visibilityTimeout: Int? = nil) async throws -> [Message] {
        let input = ReceiveInput(
            QueueUrl: queueURL, MaxNumberOfMessages: max, WaitTimeSeconds: waitSeconds, VisibilityTimeout: visibilityTimeout,
            MessageSystemAttributeNames: ["ApproximateReceiveCount"])
        return try await service.call("ReceiveMessage", input, idempotent: true, as: ReceiveOutput.self).Messages ?? []
    }

    struct HandleInput: Encodable {
        var QueueUrl: String
        var ReceiptHandle: String
        var VisibilityTimeout: Int?
    }

    /// DeleteMessage (idempotent).
    package func delete(queueURL: String, receiptHandle: String) async throws {
        let _: Empty = try await service.call(
            "DeleteMessage", HandleInput(QueueUrl: queueURL, ReceiptHandle: receiptHandle), idempotent: true)
    }

    /// ChangeMessageVisibility (idempotent).
    package func changeVisibility(queueURL: String, receiptHandle: String, timeoutSeconds: Int) async throws {
        let input = HandleInput(QueueUrl: queueURL, ReceiptHandle: receiptHandle, VisibilityTimeout: timeoutSeconds)
        let _: Empty = try await service.call("ChangeMessageVisibility", input, idempotent: true)
    }
}
