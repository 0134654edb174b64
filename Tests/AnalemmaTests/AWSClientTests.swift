import Foundation
import Testing

@testable import Analemma

@Suite("The signed-request pipeline: retries, ambiguity, errors, endpoints")
struct AWSClientTests {
    let ok = RecordingTransport.Step.respond(200, "{}")
    let throttled = RecordingTransport.Step.respond(
        400, #"{"__type":"com.amazonaws.dynamodb.v20120810#ThrottlingException","message":"slow down"}"#)
    let inFlight = RecordingTransport.Step.fail(TransportError("recv: timed out", sent: true))

    func dynamo(_ t: RecordingTransport, _ s: RecordingSleeper = RecordingSleeper(), now: Int64 = 1_440_938_160_000) throws -> DynamoDB {
        try DynamoDB(client: testClient(t, sleeper: s, now: now))
    }

    @Test("a throttled call is retried with capped, jittered backoff, then succeeds")
    func throttling() async throws {
        let t = RecordingTransport([throttled, throttled, ok])
        let sleeper = RecordingSleeper()
        try await dynamo(t, sleeper).deleteItem(table: "t", key: ["pk": .s("a")])
        #expect(t.requests.count == 3)
        #expect(sleeper.sleeps.count == 2)
        #expect(sleeper.sleeps[0] <= .milliseconds(50) && sleeper.sleeps[1] <= .milliseconds(100))
    }

    @Test("an ambiguous failure of a non-idempotent call is surfaced, not retried", arguments: [0, 1])
    func ambiguous(kind: Int) async throws {
        let failure = kind == 0 ? inFlight : .respond(500, #"{"__type":"InternalServerError","message":"boom"}"#)
        let t = RecordingTransport([failure, ok])
        let table = try dynamo(t)
        await #expect(throws: AmbiguousFailure.self) {
            _ = try await table.updateItem(table: "t", key: ["pk": .s("a")], update: "ADD n :one", .init(values: [":one": .int(1)]))
        }
        #expect(t.requests.count == 1)
    }

    @Test("the same failure of an idempotent call (a condition, a token) is retried")
    func idempotentRetried() async throws {
        let t = RecordingTransport([inFlight, .respond(503, ""), .respond(200, #"{"Attributes":{"n":{"N":"1"}}}"#)])
        let item = try await dynamo(t).updateItem(
            table: "t", key: ["pk": .s("a")], update: "SET n = :one", .init(condition: "attribute_not_exists(n)", values: [":one": .int(1)])
        )
        #expect(item["n"] == .n("1"))
        #expect(t.requests.count == 3)
    }

    @Test("a request that never left (connection refused) is always retried")
    func notSent() async throws {
        let t = RecordingTransport([.fail(TransportError("connect: refused", sent: false)), .respond(200, #"{"MessageId":"m1"}"#)])
        let id = try await SQS(client: testClient(t)).send(queueURL: "http://q", body: "x")
        #expect(id == "m1")
        #expect(t.requests.count == 2)
    }

    @Test("Retry-After is honoured as the minimum wait")
    func retryAfter() async throws {
        let t = RecordingTransport([.respond(429, "{}", [("Retry-After", "2")]), ok])
        let sleeper = RecordingSleeper()
        try await dynamo(t, sleeper).deleteItem(table: "t", key: ["pk": .s("a")])
        #expect(sleeper.sleeps == [.seconds(2)])
    }

    @Test("no retry starts past the deadline: the last error is thrown instead")
    func deadline() async throws {
        let t = RecordingTransport([throttled, throttled, ok])
        let now: Int64 = 1_000_000
        let client = testClient(t, now: now)
        let table = try DynamoDB(client: client)
        let request = HTTPRequest(method: "POST", scheme: "http", host: "127.0.0.1", port: 4566)
        await #expect(throws: AWSError.self) {
            _ = try await table.service.client.send(
                request, signingName: "dynamodb", operation: "x", idempotent: true, deadlineMillis: now + 100)
        }
        #expect(t.requests.count == 1)
    }

    @Test("a client error is final and decoded: code after '#', message, status, request id")
    func clientError() async throws {
        let t = RecordingTransport([
            .respond(
                400,
                #"{"__type":"com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException","message":"The conditional request failed"}"#,
                [("x-amzn-RequestId", "RID1")])
        ])
        await #expect {
            try await dynamo(t).putItem(table: "t", item: ["pk": .s("a")], .init(condition: "attribute_not_exists(pk)"))
        } throws: { error in
            guard let e = error as? AWSError else { return false }
            return e.code == "ConditionalCheckFailedException" && e.status == 400 && e.requestID == "RID1"
                && e.message.contains("conditional")
        }
        #expect(t.requests.count == 1)
    }

    @Test("a cancelled transaction says which action's condition failed")
    func cancellation() async throws {
        let body =
            #"{"__type":"com.amazonaws.dynamodb.v20120810#TransactionCanceledException","message":"Transaction cancelled","CancellationReasons":[{"Code":"None"},{"Code":"ConditionalCheckFailed","Message":"The conditional request failed"}]}"#
        let t = RecordingTransport([.respond(400, body)])
        await #expect {
            try await dynamo(t).transactWrite([
                .put(table: "t", item: ["pk": .s("a")]),
                .conditionCheck(table: "t", key: ["pk": .s("b")], .init(condition: "attribute_exists(pk)")),
            ])
        } throws: { error in
            (error as? AWSError)?.cancellationReasons.map(\.code) == ["None", "ConditionalCheckFailed"]
        }
    }

    static let conflict =
        #"{"__type":"com.amazonaws.dynamodb.v20120810#TransactionCanceledException","message":"Transaction cancelled","CancellationReasons":[{"Code":"None"},{"Code":"TransactionConflict","Message":"Transaction is ongoing for the item"}]}"#

    @Test("a transaction cancelled for a conflict is retried with backoff (it applied nothing), bounded by the policy's conflict attempts")
    func transactionConflictRetried() async throws {
        let t = RecordingTransport([.respond(400, Self.conflict), .respond(400, Self.conflict), .respond(200, "{}")])
        let sleeper = RecordingSleeper()
        try await dynamo(t, sleeper).transactWrite([.put(table: "t", item: ["pk": .s("a")]), .put(table: "t", item: ["pk": .s("b")])])
        #expect(t.requests.count == 3 && sleeper.sleeps.count == 2)
        let exhausted = RecordingTransport(Array(repeating: .respond(400, Self.conflict), count: 6))
        await #expect {
            try await dynamo(exhausted, RecordingSleeper()).transactWrite([.put(table: "t", item: ["pk": .s("a")])])
        } throws: { error in
            guard let e = error as? AWSError, e.isConflict else { return false }
            return (SegmentRunnerService.classify(e) as? AnalemmaError)?.code == .transient
        }
        #expect(exhausted.requests.count == 6)  // conflictAttempts, more than the 4 a throttled call gets
    }

    @Test("taking block references under a conflict that outlasts the retries fails transiently instead of looping")
    func takeUnderConflict() async throws {
        let reasons = #"[{"Code":"TransactionConflict"},{"Code":"None"}]"#
        let body =
            #"{"__type":"com.amazonaws.dynamodb.v20120810#TransactionCanceledException","message":"m","CancellationReasons":\#(reasons)}"#
        let t = RecordingTransport(Array(repeating: .respond(400, body), count: 6))
        let refs = BlockReferences(db: try dynamo(t, RecordingSleeper()), table: "refs")
        await #expect { try await refs.take(owner: "o", execution: "e", hashes: ["a" + String(repeating: "0", count: 63)]) } throws: {
            ($0 as? AWSError)?.isConflict == true
        }
        #expect(t.requests.count == 6)
    }

    @Test(
        "conflicts are told apart from failed conditions",
        arguments: [
            ("TransactionConflictException", 400, [String](), true), ("ConditionalRequestConflict", 409, [], true),
            ("TransactionCanceledException", 400, ["None", "TransactionConflict"], true),
            ("TransactionCanceledException", 400, ["TransactionConflict", "ConditionalCheckFailed"], false),
            ("TransactionCanceledException", 400, ["None", "None"], false), ("PreconditionFailed", 412, [], false),
        ])
    func conflicts(code: String, status: Int, reasons: [String], conflict: Bool) {
        let listed = reasons.map { #"{"Code":"\#($0)"}"# }.joined(separator: ",")
        let body = #"{"__type":"com.amazonaws.dynamodb.v20120810#\#(code)","message":"m","CancellationReasons":[\#(listed)]}"#
        let e = AWSError.decode(service: "dynamodb", response: HTTPResponse(status: status, body: Data(body.utf8)))
        #expect(e.code == code && e.isConflict == conflict)
    }

    @Test("BatchWriteItem sends 25 at a time and re-sends UnprocessedItems until none remain")
    func batchUnprocessed() async throws {
        let unprocessed = #"{"UnprocessedItems":{"t":[{"PutRequest":{"Item":{"pk":{"S":"k3"}}}}]}}"#
        let t = RecordingTransport([.respond(200, unprocessed), .respond(200, "{}"), .respond(200, "{}")])
        let sleeper = RecordingSleeper()
        try await dynamo(t, sleeper).batchWrite(table: "t", (0..<30).map { .put(["pk": .s("k\($0)")]) })
        let sizes = try t.requests.map { r -> Int in
            let doc = try JSONDecoder().decode([String: [String: [DynamoDB.BatchWrite.Probe]]].self, from: r.body)
            return doc["RequestItems"]?["t"]?.count ?? -1
        }
        #expect(sizes == [25, 1, 5])
        #expect(sleeper.sleeps.count == 1)
    }

    @Test("UnprocessedItems that never clear are retried as throttling within the policy's attempts, then name what is left")
    func batchGivesUp() async throws {
        let unprocessed = #"{"UnprocessedItems":{"t":[{"PutRequest":{"Item":{"pk":{"S":"k0"}}}}]}}"#
        let t = RecordingTransport(Array(repeating: .respond(200, unprocessed), count: 8))
        let sleeper = RecordingSleeper()
        let db = try dynamo(t, sleeper)
        await #expect {
            try await db.batchWrite(table: "t", (0..<26).map { .put(["pk": .s("k\($0)")]) })
        } throws: { "\($0)".contains("2 writes to t still unprocessed") }
        #expect(t.requests.count == db.service.client.retry.maxAttempts)
        #expect(sleeper.sleeps.count == db.service.client.retry.maxAttempts - 1)
    }

    @Test("S3's XML errors and bodiless answers decode to codes")
    func xmlErrors() {
        let xml =
            "<?xml version=\"1.0\"?><Error><Code>PreconditionFailed</Code><Message>At least one of the pre-conditions you specified did not hold</Message><RequestId>R2</RequestId></Error>"
        let e = AWSError.decode(service: "s3", response: HTTPResponse(status: 412, body: Data(xml.utf8)))
        #expect(e.code == "PreconditionFailed" && e.requestID == "R2" && e.message.hasPrefix("At least one"))
        #expect(AWSError.decode(service: "s3", response: HTTPResponse(status: 404)).code == "NotFound")
        let garbage = AWSError.decode(service: "sqs", response: HTTPResponse(status: 502, body: Data("<html>bad gateway".utf8)))
        #expect(garbage.rawBody == "<html>bad gateway" && garbage.code == "HTTP502")
    }

    @Test("awsJSON requests carry the target, content type, JSON body and a SigV4 signature")
    func wire() async throws {
        let t = RecordingTransport([.respond(200, #"{"Item":{"pk":{"S":"a"},"n":{"N":"3"}}}"#)])
        let item = try await dynamo(t).getItem(table: "tbl", key: ["pk": .s("a")])
        #expect(item == ["pk": .s("a"), "n": .n("3")])
        let r = try #require(t.requests.first)
        #expect(r.method == "POST" && r.host == "127.0.0.1" && r.port == 4566 && r.scheme == "http")
        #expect(r.header("X-Amz-Target") == "DynamoDB_20120810.GetItem")
        #expect(r.header("Content-Type") == "application/x-amz-json-1.0")
        #expect(String(decoding: r.body, as: UTF8.self) == #"{"ConsistentRead":true,"Key":{"pk":{"S":"a"}},"TableName":"tbl"}"#)
        #expect(r.header("Authorization")?.hasPrefix("AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/dynamodb/aws4_request") == true)
    }

    @Test("endpoints: AWS_ENDPOINT_URL_<SERVICE> beats AWS_ENDPOINT_URL, which beats AWS; bad URLs are named")
    func endpoints() throws {
        let env = FunctionEnvironment(["AWS_ENDPOINT_URL": "http://127.0.0.1:4566", "AWS_ENDPOINT_URL_SQS": "http://localhost:9324/"])
        #expect(
            try AWSEndpoint.resolve(serviceID: "SQS", prefix: "sqs", region: "eu-west-1", environment: env)
                == AWSEndpoint(scheme: "http", host: "localhost", port: 9324, isCustom: true))
        #expect(try AWSEndpoint.resolve(serviceID: "DynamoDB", prefix: "dynamodb", region: "eu-west-1", environment: env).port == 4566)
        #expect(
            try AWSEndpoint.resolve(serviceID: "SFN", prefix: "states", region: "eu-west-1", environment: FunctionEnvironment([:]))
                == AWSEndpoint(scheme: "https", host: "states.eu-west-1.amazonaws.com", isCustom: false))
        #expect { try AWSEndpoint(url: "ftp://x", source: "AWS_ENDPOINT_URL") } throws: { "\($0)".contains("AWS_ENDPOINT_URL") }
    }

    @Test("the backoff is full jitter under an exponential cap", arguments: [0, 3, 10, 40])
    func backoff(attempt: Int) {
        let p = RetryPolicy(baseDelay: .milliseconds(50), maxDelay: .seconds(5))
        let cap = min(Duration.seconds(5), .milliseconds(50) * (1 << min(attempt, 20)))
        #expect(p.delay(afterAttempt: attempt, retryAfter: nil, unit: 0.999) <= cap)
        #expect(p.delay(afterAttempt: attempt, retryAfter: nil, unit: 0) == .zero)
    }
}

@Suite("S3 addressing and the API Gateway Management API (recorded responses)")
struct S3AndAPIGatewayTests {
    @Test("custom endpoints use path style; AWS uses virtual-hosted style; keys are encoded once")
    func addressing() async throws {
        let t = RecordingTransport([.respond(200, ""), .respond(200, "")])
        try await S3(client: testClient(t)).putObject(
            bucket: "b", key: "owners/o 1/blocks/ab+c", body: Data("x".utf8), precondition: .createOnly)
        let local = try #require(t.requests.first)
        #expect(local.host == "127.0.0.1" && local.path == "/b/owners/o%201/blocks/ab%2Bc")
        #expect(local.header("If-None-Match") == "*")
        #expect(local.header("x-amz-content-sha256") == Digest.hex(Digest.sha256(Array("x".utf8))))
        let aws = AWSClient(
            credentials: AWSCredentials(accessKeyID: "A", secretAccessKey: "S"), region: "eu-west-1", transport: t,
            clock: FixedClock(now: 0))
        _ = try await S3(client: aws).getObject(bucket: "b", key: "k")
        let remote = try #require(t.requests.last)
        #expect(remote.host == "b.s3.eu-west-1.amazonaws.com" && remote.path == "/k" && remote.scheme == "https")
    }

    @Test("a 410 from PostToConnection is ConnectionGone naming the connection")
    func gone() async throws {
        let t = RecordingTransport([.respond(410, "", [("x-amzn-ErrorType", "GoneException")])])
        let api = try APIGatewayManagement(client: testClient(t), callbackURL: "https://abc.execute-api.us-east-1.amazonaws.com/prod")
        await #expect(throws: APIGatewayManagement.ConnectionGone(connectionID: "c=1")) {
            try await api.post(to: "c=1", data: Data("{}".utf8))
        }
        let r = try #require(t.requests.first)
        #expect(r.method == "POST" && r.path == "/prod/@connections/c%3D1" && r.host == "abc.execute-api.us-east-1.amazonaws.com")
        #expect(r.header("Authorization")?.contains("/us-east-1/execute-api/aws4_request") == true)
    }

    @Test("GetConnection and DeleteConnection reach the stage's @connections path")
    func getAndDelete() async throws {
        let t = RecordingTransport([.respond(200, #"{"connectedAt":"2026-11-25T00:00:00Z"}"#), .respond(204, "")])
        let api = try APIGatewayManagement(client: testClient(t), callbackURL: "http://127.0.0.1:4566/local/")
        #expect(String(decoding: try await api.get("c1"), as: UTF8.self).contains("connectedAt"))
        try await api.delete("c1")
        #expect(t.requests.map(\.method) == ["GET", "DELETE"] && t.requests.allSatisfy { $0.path == "/local/@connections/c1" })
    }
}
