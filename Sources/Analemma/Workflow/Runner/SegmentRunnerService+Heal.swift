#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// What self-healing keeps in state (`heal`): the round in progress and every attempt so far.
package struct HealRecord: Codable, Sendable, Equatable {
    package struct Attempt: Codable, Sendable, Equatable {
        package var node: String
        package var round: Int
        package var errorCode: String
        package var errorMessage: String
        package var instruction: String
        package var model: String
        /// `pending` until the segment runs again: then `healed`, or `failed again` when the next round follows.
        package var outcome: Outcome
        package var atMillis: Int64

        enum CodingKeys: String, CodingKey {
            case node, round, instruction, model, outcome
            case errorCode = "error_code"
            case errorMessage = "error_message"
            case atMillis = "at_ms"
        }
    }

    /// How a heal round ended.
    package enum Outcome: String, Codable, Sendable {
        case pending, healed
        case failedAgain = "failed again"
    }

    package var active: Attempt?
    package var attempts: [Attempt]
}

/// `heal`: a segment failed with a healable error. Ask the model for a fix instruction, record it, run the segment
/// again with it; after the node's `heal.max_attempts` rounds (default 2) the failure is final and names the
/// original error.
extension SegmentRunnerService {
    /// Rounds a node gets when it sets no `heal.max_attempts`.
    static let defaultHealRounds = 2

    func heal(_ k: KernelPayload, caught: SegmentEvent.Caught) async throws -> KernelPayload {
        let message = Self.message(fromCause: caught.cause) ?? caught.type
        // The head may be a row of segments on from `k` (one of them failed) and, when this heal already ran (a
        // retry), one step more: its pending round is then this very error's.
        let turn = try await turn(k, .namedWithin(steps: row.limit + 1))
        var (cursor, state) = try await turn.read(["heal"])
        if let replay = turn.replay, try Self.healPending(state["heal"], code: caught.type, message: message) { return replay }
        let plan = try await self.plan(cursor, ownerID: k.ownerID)
        guard let nodes = plan.segment(cursor.segment)?.nodes, let last = nodes.last else { return try await fail(k, caught: caught) }
        let failed = Self.failedNode(message, among: nodes) ?? last
        let node = try plan.node(failed)
        let limit = node.heal?.maxAttempts ?? Self.defaultHealRounds
        let round = (cursor.heals?[failed] ?? 0) + 1
        var record = try state["heal"].map { try JSONDecoder().decode(HealRecord.self, from: $0) } ?? HealRecord(active: nil, attempts: [])
        if let last = record.attempts.indices.last, record.attempts[last].outcome == .pending {
            record.attempts[last].outcome = .failedAgain
        }
        guard round <= limit else {
            let rounds = limit == 1 ? "1 heal round" : "\(limit) heal rounds"
            let why = limit == 0 ? message : "\(message) (still failing after \(rounds))"
            emit(.healExhausted, k, ["node": failed, "rounds": String(limit), "code": caught.type])
            record.active = nil
            return try await fail(
                k, caught: .init(type: caught.type, cause: why), also: limit == 0 ? [:] : ["heal": try CanonicalJSON.encode(record)])
        }
        let answer = try await executor.model.generate(
            ModelRequest(
                nodeID: failed, prompt: try Self.healPrompt(node, caught.type, message, cursor),
                hints: ["complexity": .string("medium"), "max_output_tokens": .number(512)]))
        let attempt = HealRecord.Attempt(
            node: failed, round: round, errorCode: caught.type, errorMessage: String(message.prefix(4096)), instruction: answer.text,
            model: answer.model, outcome: .pending, atMillis: checkpoints.clock.nowMillis())
        record.attempts.append(attempt)
        record.active = attempt
        cursor.heals = (cursor.heals ?? [:]).merging([failed: round]) { _, new in new }
        cursor.status = .continue
        cursor.step += 1
        emit(
            .healAttempt, k,
            [
                "node": failed, "round": String(round), "of": String(limit), "code": caught.type, "model": answer.model,
                "instruction": String(answer.text.prefix(512)),
            ])
        return try await turn.commit(["heal": CanonicalJSON.encode(record)], cursor: cursor)
    }

    /// Whether `heal` holds a pending round for exactly this error (the heal that committed it already ran).
    static func healPending(_ heal: Data?, code: String, message: String) throws -> Bool {
        guard let heal, let active = try JSONDecoder().decode(HealRecord.self, from: heal).active else { return false }
        return active.outcome == .pending && active.errorCode == code && active.errorMessage == String(message.prefix(4096))
    }

    /// What the model is asked for a fix: the node, the error, the run so far.
    static func healPrompt(_ node: WorkflowDefinition.Node, _ code: String, _ message: String, _ cursor: Cursor) throws -> String {
        let definition = String(decoding: try CanonicalJSON.encode(node), as: UTF8.self)
        let edges = cursor.traversals.sorted { $0.key < $1.key }.map { "\($0.key)×\($0.value)" }.joined(separator: ", ")
        return """
            A step of an automated workflow failed. Reply with one short, concrete instruction that would make the \
            step succeed when it runs again. Do not repeat the error.
            Step definition: \(definition)
            Error (\(code)): \(message)
            Run so far: step \(cursor.step), edges taken \(edges)
            """
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
