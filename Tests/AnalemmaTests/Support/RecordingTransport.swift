import Analemma
import Foundation

/// A scripted transport: records every (signed) request and answers from a queue of responses or failures.
final class RecordingTransport: HTTPTransport, @unchecked Sendable {
    enum Step {
        case respond(Int, String, [(String, String)] = [])
        case fail(TransportError)
    }
    private let lock = NSLock()
    private var steps: [Step]
    private var recorded: [HTTPRequest] = []

    init(_ steps: [Step]) { self.steps = steps }

    var requests: [HTTPRequest] { lock.withLock { recorded } }

    func send(_ request: HTTPRequest, timeout: Duration) async throws -> HTTPResponse {
        let step: Step = lock.withLock {
            recorded.append(request)
            return steps.isEmpty ? .respond(500, "script exhausted") : steps.removeFirst()
        }
        switch step {
        case .respond(let status, let body, let headers): return HTTPResponse(status: status, headers: headers, body: Data(body.utf8))
        case .fail(let error): throw error
        }
    }
}

/// Records requested sleeps instead of sleeping.
final class RecordingSleeper: Sleeper, @unchecked Sendable {
    private let lock = NSLock()
    private var recorded: [Duration] = []
    var sleeps: [Duration] { lock.withLock { recorded } }
    func sleep(for duration: Duration) async throws { lock.withLock { recorded.append(duration) } }
}

func testClient(
    _ transport: RecordingTransport, sleeper: RecordingSleeper = RecordingSleeper(), now: Int64 = 1_440_938_160_000, maxAttempts: Int = 4,
    conflictAttempts: Int = 6
)
    -> AWSClient
{
    AWSClient(
        credentials: AWSCredentials(accessKeyID: "AKID", secretAccessKey: "SECRET"), region: "us-east-1",
        environment: FunctionEnvironment(["AWS_ENDPOINT_URL": "http://127.0.0.1:4566"]), transport: transport,
        retry: RetryPolicy(maxAttempts: maxAttempts, conflictAttempts: conflictAttempts), clock: FixedClock(now: now), sleeper: sleeper)
}

extension DynamoDB.BatchWrite {
    /// Decodes one request of a recorded BatchWriteItem body, just to count it.
    struct Probe: Decodable {}
}
