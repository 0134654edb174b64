/// Amazon SQS over its awsJSON 1.0 protocol (`AmazonSQS.*`).
///
/// https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_Operations.html
public struct SQS: Sendable {
    public let service: AWSJSONService

    public init(client: AWSClient) throws {
        service = try AWSJSONService(client: client, serviceID: "SQS", signingName: "sqs", endpointPrefix: "sqs", targetPrefix: "AmazonSQS")
    }

    public struct Message: Decodable, Sendable, Equatable {
        public var MessageId: String
        public var ReceiptHandle: String
        public var Body: String
        public var Attributes: [String: String]?
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
    public func send(queueURL: String, body: String, delaySeconds: Int? = nil, groupID: String? = nil, deduplicationID: String? = nil)
        async throws -> String
    {
        let input = SendInput(
            QueueUrl: queueURL, MessageBody: body, DelaySeconds: delaySeconds, MessageGroupId: groupID,
            MessageDeduplicationId: deduplicationID)
        return try await service.call("SendMessage", input, idempotent: deduplicationID != nil, as: SendOutput.self).MessageId
    }

    public struct BatchEntry: Encodable, Sendable {
        public var Id: String
        public var MessageBody: String
        public var DelaySeconds: Int?
        public init(id: String, body: String, delaySeconds: Int? = nil) {
            Id = id
            MessageBody = body
            DelaySeconds = delaySeconds
        }
    }
    struct BatchInput: Encodable {
        var QueueUrl: String
        var Entries: [BatchEntry]
    }
    public struct BatchResult: Decodable, Sendable {
        public struct Failure: Decodable, Sendable, Equatable {
            public var Id: String
            public var Code: String
            public var Message: String?
            public var SenderFault: Bool?
        }
        public struct Success: Decodable, Sendable { public var Id: String }
        public var Successful: [Success]?
        public var Failed: [Failure]?
    }

    /// SendMessageBatch (≤10 entries); per-entry failures are returned, not thrown.
    public func sendBatch(queueURL: String, entries: [BatchEntry]) async throws -> BatchResult {
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
    public func receive(queueURL: String, max: Int = 10, waitSeconds: Int = 0, visibilityTimeout: Int? = nil) async throws -> [Message] {
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
    public func delete(queueURL: String, receiptHandle: String) async throws {
        let _: Empty = try await service.call(
            "DeleteMessage", HandleInput(QueueUrl: queueURL, ReceiptHandle: receiptHandle), idempotent: true)
    }

    /// ChangeMessageVisibility (idempotent).
    public func changeVisibility(queueURL: String, receiptHandle: String, timeoutSeconds: Int) async throws {
        let input = HandleInput(QueueUrl: queueURL, ReceiptHandle: receiptHandle, VisibilityTimeout: timeoutSeconds)
        let _: Empty = try await service.call("ChangeMessageVisibility", input, idempotent: true)
    }
}
