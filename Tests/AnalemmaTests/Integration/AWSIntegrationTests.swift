import Analemma
import Foundation
import Testing

extension Optional {
    func asyncMap<T>(_ f: (Wrapped) async throws -> T) async rethrows -> T? {
        guard let value = self else { return nil }
        return try await f(value)
    }
}

/// The local stack prepared by `Tests/integration/aws_fixture.py` (see `make integration`), or nil.
struct LocalAWS {
    let env: [String: String]
    var table: String { env["ANALEMMA_IT_TABLE"]! }
    var queue: String { env["ANALEMMA_IT_QUEUE"]! }
    var bucket: String { env["ANALEMMA_IT_BUCKET"]! }
    var manifestTable: String { env["ANALEMMA_IT_MANIFEST_TABLE"]! }
    var machine: String { env["ANALEMMA_IT_MACHINE"]! }
    var tokenMachine: String { env["ANALEMMA_IT_TOKEN_MACHINE"]! }
    var authOn: Bool { env["ANALEMMA_IT_AUTH"] == "1" }

    static let current: LocalAWS? = {
        let env = ProcessInfo.processInfo.environment
        return env["ANALEMMA_IT_ENDPOINT"] == nil ? nil : LocalAWS(env: env)
    }()

    /// Runs when the fixture is there, or when `make integration` demands it (then a missing fixture fails).
    static let enabled = current != nil || ProcessInfo.processInfo.environment["ANALEMMA_IT_REQUIRED"] == "1"

    /// Over HTTPS (`ANALEMMA_IT_CA` set), the CA is the test proxy's self-signed certificate.
    func client(secret: String? = nil, caFile: String? = nil) throws -> AWSClient {
        let env = self.env
        return AWSClient(
            credentials: AWSCredentials(accessKeyID: env["ANALEMMA_IT_KEY"]!, secretAccessKey: secret ?? env["ANALEMMA_IT_SECRET"]!),
            region: "us-east-1", environment: FunctionEnvironment(["AWS_ENDPOINT_URL": env["ANALEMMA_IT_ENDPOINT"]!]),
            transport: SocketTransport(caFile: caFile ?? env["ANALEMMA_IT_CA"]))
    }

    static func require() throws -> LocalAWS {
        try #require(current, "ANALEMMA_IT_* not set: run through `make integration`")
    }
}

@Suite("AWS clients against the local stack (signature checking on)", .enabled(if: LocalAWS.enabled), .serialized)
struct AWSIntegrationTests {
    @Test("S3: create-only put, If-Match, ranged get, head, tagging, paged list, batch and single delete")
    func s3() async throws {
        let aws = try LocalAWS.require()
        let s3 = try S3(client: aws.client())
        let prefix = "it-\(UUID().uuidString)/"
        let key = prefix + "dir/a key with spaces & ünïcode.json"
        let body = Data((0..<1000).map { UInt8($0 % 251) })
        let etag = try await s3.putObject(
            bucket: aws.bucket, key: key, body: body, precondition: .createOnly, contentType: "application/octet-stream",
            contentEncoding: "gzip",
            tags: [("kind", "block"), ("owner", "o-1")])
        #expect(!etag.isEmpty)
        await #expect {
            try await s3.putObject(bucket: aws.bucket, key: key, body: Data("other".utf8), precondition: .createOnly)
        } throws: { ($0 as? AWSError)?.code == "PreconditionFailed" }
        await #expect {
            try await s3.putObject(bucket: aws.bucket, key: key, body: Data("other".utf8), precondition: .ifMatch("\"0000\""))
        } throws: { ($0 as? AWSError)?.status == 412 }
        let whole = try await s3.getObject(bucket: aws.bucket, key: key)
        #expect(whole.body == body && whole.contentEncoding == "gzip" && whole.etag == etag)
        let part = try await s3.getObject(bucket: aws.bucket, key: key, range: 10...19)
        #expect(part.body == body[10...19] && part.contentRange == "bytes 10-19/1000")
        #expect(try await s3.headObject(bucket: aws.bucket, key: key)?.contentLength == 1000)
        #expect(try await s3.headObject(bucket: aws.bucket, key: key + "-missing") == nil)
        await #expect { _ = try await s3.getObject(bucket: aws.bucket, key: key + "-missing") } throws: {
            ($0 as? AWSError)?.code == "NoSuchKey"
        }
        #expect(Set(try await s3.getObjectTagging(bucket: aws.bucket, key: key).map { "\($0.0)=\($0.1)" }) == ["kind=block", "owner=o-1"])
        try await s3.putObjectTagging(bucket: aws.bucket, key: key, tags: [("tombstone", "2026-11-25T00:00:00Z")])
        #expect(try await s3.getObjectTagging(bucket: aws.bucket, key: key).map(\.0) == ["tombstone"])
        try await s3.putObject(bucket: aws.bucket, key: key, body: Data("v2".utf8), precondition: .ifMatch(etag))
        for i in 0..<25 { try await s3.putObject(bucket: aws.bucket, key: prefix + "many/\(i)", body: Data("\(i)".utf8)) }
        let listed = try await s3.listObjects(bucket: aws.bucket, prefix: prefix + "many/", pageSize: 10)
        #expect(listed.count == 25 && Set(listed.map(\.key)).count == 25)
        let failures = try await s3.deleteObjects(bucket: aws.bucket, keys: listed.map(\.key))
        #expect(failures.isEmpty)
        #expect(try await s3.listObjects(bucket: aws.bucket, prefix: prefix + "many/").isEmpty)
        try await s3.deleteObject(bucket: aws.bucket, key: key)
        try await s3.deleteObject(bucket: aws.bucket, key: key)  // idempotent
        #expect(try await s3.headObject(bucket: aws.bucket, key: key) == nil)
    }

    @Test("blocks in S3: create-only (a second upload of the same block succeeds), ranged reads, owner-scoped keys")
    func blockStore() async throws {
        let aws = try LocalAWS.require()
        let store = S3BlockStore(s3: try S3(client: aws.client()), bucket: aws.bucket)
        let owner = "owner-\(UUID().uuidString.prefix(8))"
        var state = try StateBag(executionID: "ex", ownerID: owner, traceID: "t")
        try state.merge(
            ["notes": try JSONEncoder().encode(String(repeating: "tide and moon ", count: 500)), "n": Data("1".utf8)], from: .node("n"))
        let (manifest, blocks) = try BatchedDehydrator().checkpoint(
            state, previous: nil, executionID: "ex", ownerID: owner, segmentIndex: 0)
        for b in blocks {
            try await store.put(owner: owner, hash: b.hash, bytes: b.bytes)
            try await store.put(owner: owner, hash: b.hash, bytes: b.bytes)  // 412 underneath: already there
        }
        #expect(try await StateHydrator(store: store).hydrate(manifest) == state)
        #expect(try await StateHydrator(store: store).hydrate(manifest, fields: ["n"])["n"] == Data("1".utf8))
        let listed = try await S3(client: aws.client()).listObjects(bucket: aws.bucket, prefix: "owners/\(owner)/blocks/")
        #expect(Set(listed.map(\.key)) == Set(blocks.map { "owners/\(owner)/blocks/\($0.hash)" }))
        await #expect(throws: AnalemmaError.self) { try await store.put(owner: "../other", hash: "x", bytes: Data()) }
    }

    @Test("zero gravity: a payload over 30 KB offloads its largest values to S3; hydration refuses forged pointers")
    func zeroGravity() async throws {
        let aws = try LocalAWS.require()
        let payloads = ZeroGravityPayload(s3: try S3(client: aws.client()), bucket: aws.bucket)
        let owner = "owner-\(UUID().uuidString.prefix(8))"
        let big = try JSONEncoder().encode(String(repeating: "segment output ", count: 70_000))  // ~1 MB
        let fields: [String: Data] = [
            "owner_id": try JSONEncoder().encode(owner), "execution_id": Data(#""ex-1""#.utf8), "result": big,
            "status": Data(#""ok""#.utf8),
        ]
        let encoded = try await payloads.encode(fields, ownerID: owner, executionID: "exec-payload")
        #expect(encoded.count <= ZeroGravityPayload.limit)
        #expect(
            String(decoding: encoded, as: UTF8.self).contains(
                #""result":{"$pointer":"s3://\#(aws.bucket)/owners/\#(owner)/executions/\#(StatePointer.executionKey("exec-payload"))/payloads/"#
            ))
        #expect(try await payloads.hydrate(encoded, ownerID: owner) == fields)
        let forged = Data(#"{"result":{"$pointer":"s3://\#(aws.bucket)/owners/someone-else/payloads/abc"}}"#.utf8)
        await #expect { _ = try await payloads.hydrate(forged, ownerID: owner) } throws: { ($0 as? AnalemmaError)?.code == .forgedPointer }
        let crowded = Dictionary(uniqueKeysWithValues: (0..<3000).map { ("field_\($0)", Data("1".utf8)) })
        await #expect { _ = try await payloads.encode(crowded, ownerID: owner, executionID: "exec-payload") } throws: {
            "\($0)".contains("limit is 30720")
        }
    }

    @Test("checkpoints: blocks before manifest before head; concurrent writers: one wins, one conflicts; retries are safe")
    func checkpoints() async throws {
        let aws = try LocalAWS.require()
        let client = try aws.client()
        let store = S3BlockStore(s3: try S3(client: client), bucket: aws.bucket)
        let manifests = ManifestStore(db: try DynamoDB(client: client), table: aws.manifestTable)
        let execution = "ex-\(UUID().uuidString.prefix(8))"
        let owner = "owner-1"
        var state = try StateBag(executionID: execution, ownerID: owner, traceID: "t")
        var previous: Manifest?
        for segment in 0..<3 {
            try state.merge(["step": Data("\(segment)".utf8)], from: .node("n"))
            let head = try await manifests.head(executionID: execution)
            #expect(head.manifestID == previous?.manifestID && head.version == segment)
            let (m, blocks) = try BatchedDehydrator().checkpoint(
                state, previous: previous, executionID: execution, ownerID: owner, segmentIndex: segment)
            for b in blocks { try await store.put(owner: owner, hash: b.hash, bytes: b.bytes) }
            try await manifests.prepare(m)
            try await manifests.prepare(m)  // idempotent
            try await manifests.commit(m, expected: head)
            try await manifests.commit(m, expected: head)  // a retry after success is recognised
            previous = m
        }
        // Two writers read the same head; the second to commit gets a conflict and the head keeps the first.
        let head = try await manifests.head(executionID: execution)
        var a = state
        var b = state
        try a.merge(["writer": Data(#""a""#.utf8)], from: .node("a"))
        try b.merge(["writer": Data(#""b""#.utf8)], from: .node("b"))
        let (ma, blocksA) = try BatchedDehydrator().checkpoint(
            a, previous: previous, executionID: execution, ownerID: owner, segmentIndex: 3)
        let (mb, blocksB) = try BatchedDehydrator().checkpoint(
            b, previous: previous, executionID: execution, ownerID: owner, segmentIndex: 3)
        for blk in blocksA + blocksB { try await store.put(owner: owner, hash: blk.hash, bytes: blk.bytes) }
        try await manifests.prepare(ma)
        try await manifests.prepare(mb)
        try await manifests.commit(ma, expected: head)
        await #expect(throws: ManifestStore.HeadConflict.self) { try await manifests.commit(mb, expected: head) }
        let final = try await manifests.head(executionID: execution)
        #expect(final.manifestID == ma.manifestID && final.version == 4)
        // Time travel through the stored chain.
        var cursor = try await manifests.manifest(executionID: execution, manifestID: final.manifestID!)
        var steps: [String] = []
        while let m = cursor {
            let s = try await StateHydrator(store: store).hydrate(m, fields: m.fields["step"] == nil ? [] : ["step"])
            steps.append(s["step"].map { String(decoding: $0, as: UTF8.self) } ?? "-")
            cursor = try await m.parentManifestID.asyncMap { try await manifests.manifest(executionID: execution, manifestID: $0) } ?? nil
        }
        #expect(steps == ["2", "2", "1", "0"])
    }

    @Test("DynamoDB: put, conditional put, get, update, query (table and GSI, paged), delete")
    func dynamoItems() async throws {
        let aws = try LocalAWS.require()
        let db = try DynamoDB(client: aws.client())
        let pk = "item-\(UUID().uuidString)"
        for i in 0..<7 {
            try await db.putItem(table: aws.table, item: ["pk": .s(pk), "sk": .s("s\(i)"), "owner": .s("own-\(pk)"), "n": .int(i)])
        }
        await #expect {
            try await db.putItem(
                table: aws.table, item: ["pk": .s(pk), "sk": .s("s0")], .init(condition: "attribute_not_exists(pk)"))
        } throws: { error in
            // ReturnValuesOnConditionCheckFailure=ALL_OLD: the item that made the condition fail comes back.
            guard let e = error as? AWSError else { return false }
            return e.code == "ConditionalCheckFailedException" && e.item?["n"] == .n("0")
        }
        #expect(try await db.getItem(table: aws.table, key: ["pk": .s(pk), "sk": .s("s3")])?["n"] == .n("3"))
        #expect(try await db.getItem(table: aws.table, key: ["pk": .s(pk), "sk": .s("nope")]) == nil)
        let updated = try await db.updateItem(
            table: aws.table, key: ["pk": .s(pk), "sk": .s("s1")], update: "SET n = n + :d",
            .init(condition: "n = :one", values: [":d": .int(10), ":one": .int(1)]))
        #expect(updated["n"] == .n("11"))
        let all = try await db.query(table: aws.table, keyCondition: "pk = :p", .init(values: [":p": .s(pk)]), pageSize: 2)
        #expect(all.count == 7)
        let byOwner = try await db.query(
            table: aws.table, index: "by-owner", keyCondition: "#o = :o", .init(names: ["#o": "owner"], values: [":o": .s("own-\(pk)")]))
        #expect(byOwner.count == 7)
        try await db.deleteItem(table: aws.table, key: ["pk": .s(pk), "sk": .s("s0")])
        #expect(try await db.getItem(table: aws.table, key: ["pk": .s(pk), "sk": .s("s0")]) == nil)
    }

    @Test("DynamoDB: transactions commit atomically; a failed one names the failing action; batches write all")
    func dynamoTransactions() async throws {
        let aws = try LocalAWS.require()
        let db = try DynamoDB(client: aws.client())
        let pk = "tx-\(UUID().uuidString)"
        try await db.transactWrite(
            [
                .put(table: aws.table, item: ["pk": .s(pk), "sk": .s("a"), "v": .int(1)]),
                .put(table: aws.table, item: ["pk": .s(pk), "sk": .s("b")]),
            ],
            clientRequestToken: UUID().uuidString)
        await #expect {
            try await db.transactWrite([
                .put(table: aws.table, item: ["pk": .s(pk), "sk": .s("c")]),
                .conditionCheck(
                    table: aws.table, key: ["pk": .s(pk), "sk": .s("a")], .init(condition: "v = :two", values: [":two": .int(2)])),
            ])
        } throws: { error in
            guard let e = error as? AWSError else { return false }
            return e.code == "TransactionCanceledException" && e.cancellationReasons.map(\.code) == ["None", "ConditionalCheckFailed"]
        }
        let got = try await db.transactGet([(aws.table, ["pk": .s(pk), "sk": .s("a")]), (aws.table, ["pk": .s(pk), "sk": .s("c")])])
        #expect(got.count == 2 && got[0]?["v"] == .n("1") && got[1] == nil)
        try await db.batchWrite(table: aws.table, (0..<60).map { .put(["pk": .s(pk + "-batch"), "sk": .s(String($0))]) })
        #expect(try await db.query(table: aws.table, keyCondition: "pk = :p", .init(values: [":p": .s(pk + "-batch")])).count == 60)
        try await db.batchWrite(table: aws.table, (0..<60).map { .delete(key: ["pk": .s(pk + "-batch"), "sk": .s(String($0))]) })
        #expect(try await db.query(table: aws.table, keyCondition: "pk = :p", .init(values: [":p": .s(pk + "-batch")])).isEmpty)
    }

    @Test("SQS: send (with delay), batch, receive, change visibility, delete")
    func sqs() async throws {
        let aws = try LocalAWS.require()
        let sqs = try SQS(client: aws.client())
        let body = "m-\(UUID().uuidString)"
        _ = try await sqs.send(queueURL: aws.queue, body: body)
        _ = try await sqs.send(queueURL: aws.queue, body: body + "-delayed", delaySeconds: 900)
        let batch = try await sqs.sendBatch(
            queueURL: aws.queue, entries: [.init(id: "1", body: body + "-b1"), .init(id: "2", body: body + "-b2")])
        #expect(batch.Successful?.count == 2 && (batch.Failed ?? []).isEmpty)
        var seen: [SQS.Message] = []
        for _ in 0..<5 where seen.count < 3 { seen += try await sqs.receive(queueURL: aws.queue, max: 10, waitSeconds: 1) }
        #expect(Set(seen.map(\.Body)) == [body, body + "-b1", body + "-b2"], "the delayed message must not be visible yet")
        let first = try #require(seen.first)
        try await sqs.changeVisibility(queueURL: aws.queue, receiptHandle: first.ReceiptHandle, timeoutSeconds: 0)
        let again = try await sqs.receive(queueURL: aws.queue, max: 10, waitSeconds: 1)
        #expect(again.contains { $0.MessageId == first.MessageId })
        for m in seen + again { try await sqs.delete(queueURL: aws.queue, receiptHandle: m.ReceiptHandle) }
    }

    @Test("Step Functions: start (named and unnamed), describe, history, map run counts")
    func stepFunctions() async throws {
        let aws = try LocalAWS.require()
        let sfn = try StepFunctions(client: aws.client())
        let named = try await sfn.startExecution(
            stateMachineArn: aws.machine, name: "run-\(UUID().uuidString)", input: #"{"items":[1,2,3,4,5]}"#)
        let unnamed = try await sfn.startExecution(stateMachineArn: aws.machine, input: #"{"items":[1]}"#)
        #expect(named.executionArn != unnamed.executionArn)
        var execution = try await sfn.describeExecution(named.executionArn)
        for _ in 0..<100 where execution.status == "RUNNING" {
            try await Task.sleep(for: .milliseconds(100))
            execution = try await sfn.describeExecution(named.executionArn)
        }
        #expect(execution.status == "SUCCEEDED")
        let history = try await sfn.executionHistory(named.executionArn)
        #expect(history.first?.type == "ExecutionStarted" && history.last?.type == "ExecutionSucceeded")
        let mapRunArn = try #require(history.compactMap(\.mapRunStartedEventDetails).first?.mapRunArn)
        let mapRun = try await sfn.describeMapRun(mapRunArn)
        #expect(mapRun.itemCounts.succeeded == 5 && mapRun.itemCounts.failed == 0)
        await #expect(throws: AWSError.self) { _ = try await sfn.describeExecution(named.executionArn + "-missing") }
    }

    @Test("task tokens: heartbeat and success resume a waiting execution; failure fails it")
    func taskTokens() async throws {
        let aws = try LocalAWS.require()
        let client = try aws.client()
        let sfn = try StepFunctions(client: client)
        let sqs = try SQS(client: client)
        var outcomes: [String] = []
        for finish in ["success", "failure"] {
            let run = try await sfn.startExecution(stateMachineArn: aws.tokenMachine, input: "{}")
            var message: SQS.Message?
            for _ in 0..<20 where message == nil { message = try await sqs.receive(queueURL: aws.queue, max: 1, waitSeconds: 1).first }
            let m = try #require(message, "the waiting task never sent its token")
            try await sqs.delete(queueURL: aws.queue, receiptHandle: m.ReceiptHandle)
            struct Token: Decodable { let token: String }
            let token = try JSONDecoder().decode(Token.self, from: Data(m.Body.utf8)).token
            try await sfn.sendTaskHeartbeat(token: token)
            if finish == "success" {
                try await sfn.sendTaskSuccess(token: token, output: #"{"approved":true}"#)
            } else {
                try await sfn.sendTaskFailure(token: token, error: "Analemma.InvalidEvent", cause: "rejected by a human")
            }
            var execution = try await sfn.describeExecution(run.executionArn)
            for _ in 0..<100 where execution.status == "RUNNING" {
                try await Task.sleep(for: .milliseconds(100))
                execution = try await sfn.describeExecution(run.executionArn)
            }
            outcomes.append(execution.status)
            if finish == "success" { #expect(execution.output == #"{"approved":true}"# || execution.output == #"{"approved": true}"#) }
        }
        #expect(outcomes == ["SUCCEEDED", "FAILED"])
    }

    @Test(
        "over HTTPS, a server whose certificate the CA bundle does not vouch for is refused, not retried",
        .enabled(if: LocalAWS.current?.env["ANALEMMA_IT_CA"] != nil))
    func untrustedCertificate() async throws {
        let aws = try LocalAWS.require()
        let db = try DynamoDB(client: aws.client(caFile: "/etc/ssl/certs/ca-certificates.crt"))
        await #expect {
            _ = try await db.getItem(table: aws.table, key: ["pk": .s("x"), "sk": .s("y")])
        } throws: { error in
            guard let e = error as? TransportError else { return false }
            return !e.retryable && "\(e)".contains("self-signed certificate")
        }
    }

    @Test("a wrong secret is rejected by the service's signature check", .enabled(if: LocalAWS.current?.authOn == true))
    func wrongSecret() async throws {
        let aws = try LocalAWS.require()
        let db = try DynamoDB(client: aws.client(secret: "not-the-secret"))
        await #expect {
            _ = try await db.getItem(table: aws.table, key: ["pk": .s("x"), "sk": .s("y")])
        } throws: { error in
            guard let e = error as? AWSError else { return false }
            return e.status == 400 || e.status == 403
        }
    }
}
