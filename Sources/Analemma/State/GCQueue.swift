#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// Where blocks that may have lost their last reference go, for the GC worker to re-verify after a delay.
package protocol GCQueue: Sendable {
    func enqueue(owner: String, hash: String, reason: String) async throws
}

/// SQS with a delivery delay (the GC grace period, ≤ 900 s).
package struct SQSGCQueue: GCQueue {
    package let sqs: SQS
    package let queueURL: String
    package let delaySeconds: Int

    package init(sqs: SQS, queueURL: String, delaySeconds: Int = 300) {
        self.sqs = sqs
        self.queueURL = queueURL
        self.delaySeconds = min(900, max(0, delaySeconds))
    }

    package func enqueue(owner: String, hash: String, reason: String) async throws {
        let body = #"{"owner_id":\#(JSONText.quoted(owner)),"block":\#(JSONText.quoted(hash)),"reason":\#(JSONText.quoted(reason))}"#
        _ = try await sqs.send(queueURL: queueURL, body: body, delaySeconds: delaySeconds)
    }
}

/// Records enqueued blocks (tests).
package actor InMemoryGCQueue: GCQueue {
    package private(set) var queued: [(owner: String, hash: String, reason: String)] = []
    package init() {}
    package func enqueue(owner: String, hash: String, reason: String) async throws { queued.append((owner, hash, reason)) }
}
