#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// What self-healing keeps in state (`heal`): the round in progress and every attempt so far.
public struct HealRecord: Codable, Sendable, Equatable {
    public struct Attempt: Codable, Sendable, Equatable {
        public var node: String
        public var round: Int
        public var errorCode: String
        public var errorMessage: String
        public var instruction: String
        public var model: String
        /// `pending` until the segment runs again: then `healed`, or the next round's attempt follows.
        public var outcome: String
        public var atMillis: Int64

        enum CodingKeys: String, CodingKey {
            case node, round, instruction, model, outcome
            case errorCode = "error_code"
            case errorMessage = "error_message"
            case atMillis = "at_ms"
        }
    }

    public var active: Attempt?
    public var attempts: [Attempt]
}

/// `heal`: a segment failed with a healable error. Ask the model for a fix instruction, record it, run the segment
/// again with it; after the node's `heal.max_attempts` rounds (default 2) the failure is final and names the
/// original error.
extension SegmentRunnerService {
    /// Rounds a node gets when it sets no `heal.max_attempts`.
    static let defaultHealRounds = 2

    func heal(_ k: KernelPayload, errorType: String, cause: String?) async throws -> KernelPayload {
        let message = Self.message(fromCause: cause) ?? errorType
        let (manifest, head, replay) = try await position(k)
        if let replay { return replay }  // this heal already ran (a retry)
        let state = try await hydrator.hydrate(manifest, fields: ["cursor", "heal"].filter { manifest.fields[$0] != nil })
        var cursor = try Self.decodeCursor(state["cursor"])
        let plan = try await plan(cursor, ownerID: k.ownerID)
        guard let index = cursor.segment, plan.segments.indices.contains(index) else {
            return try await fail(k, errorType: errorType, cause: cause)
        }
        let nodes = plan.segments[index].nodes
        let failed = Self.failedNode(message, among: nodes) ?? nodes.last!
        let node = plan.node(failed)
        let limit = node.heal?.maxAttempts ?? Self.defaultHealRounds
        let round = (cursor.heals?[failed] ?? 0) + 1
        var record = try state["heal"].map { try JSONDecoder().decode(HealRecord.self, from: $0) } ?? HealRecord(active: nil, attempts: [])
        if !record.attempts.isEmpty, record.attempts[record.attempts.count - 1].outcome == "pending" {
            record.attempts[record.attempts.count - 1].outcome = "failed again"
        }
        guard round <= limit else {
            let rounds = limit == 1 ? "1 heal round" : "\(limit) heal rounds"
            let why = limit == 0 ? message : "\(message) (still failing after \(rounds))"
            emit("heal_exhausted", k, ["node": failed, "rounds": String(limit), "code": errorType])
            record.active = nil
            return try await fail(k, errorType: errorType, cause: why, also: limit == 0 ? [:] : ["heal": try CanonicalJSON.encode(record)])
        }
        let definition = String(decoding: try CanonicalJSON.encode(node), as: UTF8.self)
        let prompt = """
            A step of an automated workflow failed. Reply with one short, concrete instruction that would make the \
            step succeed when it runs again. Do not repeat the error.
            Step definition: \(definition)
            Error (\(errorType)): \(message)
            Run so far: step \(cursor.step), edges taken \(cursor.traversals.sorted { $0.key < $1.key }.map { "\($0.key)×\($0.value)" }.joined(separator: ", "))
            """
        let answer = try await executor.model.generate(
            ModelRequest(nodeID: failed, prompt: prompt, hints: ["complexity": .string("medium"), "max_output_tokens": .number(512)]))
        let attempt = HealRecord.Attempt(
            node: failed, round: round, errorCode: errorType, errorMessage: String(message.prefix(4096)), instruction: answer.text,
            model: answer.model, outcome: "pending", atMillis: checkpoints.clock.nowMillis())
        record.attempts.append(attempt)
        record.active = attempt
        cursor.heals = (cursor.heals ?? [:]).merging([failed: round]) { _, new in new }
        cursor.status = .continue
        cursor.step += 1
        emit(
            "heal_attempt", k,
            [
                "node": failed, "round": String(round), "of": String(limit), "code": errorType, "model": answer.model,
                "instruction": String(answer.text.prefix(512)),
            ])
        return try await commit(["heal": CanonicalJSON.encode(record)], cursor: cursor, over: manifest, head: head, k)
    }

    /// The node an error message names (`node "id"`), if it is one of `nodes`.
    static func failedNode(_ message: String, among nodes: [String]) -> String? {
        guard let start = message.firstRange(of: "node \"") else { return nil }
        let rest = message[start.upperBound...]
        guard let end = rest.firstIndex(of: "\"") else { return nil }
        let id = String(rest[..<end])
        return nodes.contains(id) ? id : nil
    }
}
