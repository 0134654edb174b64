import Testing

@testable import Analemma

@Suite("Retention: where an execution stands")
struct RetentionTests {
    static let day: Int64 = 86_400_000
    static let now: Int64 = 400 * day

    static let closedCases: [(ExecutionLifecycle, Retention.Standing)] = [
        (.running, .live),
        (.closed(status: "SUCCEEDED", stoppedAtMillis: now - 2 * day, redrivable: true), .ended(expirable: true)),
        (.closed(status: "SUCCEEDED", stoppedAtMillis: now - day / 2, redrivable: true), .ended(expirable: false)),  // recent
        (.closed(status: "FAILED", stoppedAtMillis: now - 2 * day, redrivable: true), .ended(expirable: false)),  // redrivable
        (.closed(status: "FAILED", stoppedAtMillis: now - 15 * day, redrivable: true), .ended(expirable: true)),
        (.closed(status: "ABORTED", stoppedAtMillis: now - 2 * day, redrivable: false), .ended(expirable: true)),
        (.closed(status: "SUCCEEDED", stoppedAtMillis: now + day, redrivable: true), .ended(expirable: false)),  // clock skew
    ]

    @Test("Step Functions' word decides: closed is ended, expirable after the minimum age and any redrive window", arguments: closedCases)
    func closed(lifecycle: ExecutionLifecycle, standing: Retention.Standing) {
        let found = Retention.standing(
            lifecycle, kernel: nil, lastActiveMillis: Self.now - 3 * Self.day, now: Self.now, minAgeMillis: Self.day)
        #expect(found == standing)
    }

    static let forgottenCases: [(Cursor.Status?, Int64, Retention.Standing)] = [
        (.done, 2 * day, .ended(expirable: true)), (.failed, 2 * day, .ended(expirable: true)), (.done, day / 2, .ended(expirable: false)),
        (.waitHuman, 2 * day, .live), (.continue, 300 * day, .live), (nil, 2 * day, .live),
        (.waitHuman, 368 * day, .ended(expirable: true)),
    ]

    @Test("forgotten by Step Functions, only the kernel's terminal record (or a year idle) ends an execution", arguments: forgottenCases)
    func forgotten(kernel: Cursor.Status?, idle: Int64, standing: Retention.Standing) {
        let found = Retention.standing(.unknown, kernel: kernel, lastActiveMillis: Self.now - idle, now: Self.now, minAgeMillis: Self.day)
        #expect(found == standing)
    }
}

@Suite("Retention: which refusals mean a foreign execution id")
struct ForeignExecutionTests {
    static let machine = "arn:aws:states:us-east-1:123456789012:stateMachine:analemma-workflow"
    static let cases: [(String, String, Bool)] = [
        ("ExecutionDoesNotExist", "arn:aws:states:us-east-1:123456789012:execution:analemma-workflow:run-1", true),
        ("AccessDeniedException", "arn:aws:states:us-east-1:123456789012:execution:direct:forged", true),
        ("AccessDeniedException", "arn:aws:states:us-east-1:123456789012:execution:analemma-workflow2:run-1", true),
        ("AccessDeniedException", "arn:aws:states:us-east-1:123456789012:execution:analemma-workflow:run-1", false),
        ("AccessDeniedException", "arn:aws:states:us-east-1:123456789012:execution:analemma-workflow/map:run:0", false),
        ("ThrottlingException", "arn:aws:states:us-east-1:123456789012:execution:direct:forged", false),
    ]

    @Test("AccessDenied on one of the workflow's own executions is a misconfigured role, not an unknown id", arguments: cases)
    func foreign(code: String, arn: String, foreign: Bool) throws {
        let client = AWSClient(credentials: AWSCredentials(accessKeyID: "k", secretAccessKey: "s"), region: "us-east-1")
        let sfn = try StepFunctions(client: client, stateMachineARN: Self.machine)
        let error = AWSError(service: "states", code: code, message: "", status: 400, cancellationReasons: [])
        #expect(sfn.isForeign(error, executionArn: arn) == foreign)
        #expect(try StepFunctions(client: client).isForeign(error, executionArn: arn) == (code != "ThrottlingException"))
    }
}
