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
