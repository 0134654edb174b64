#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// A question recorded in state (`pending_human`) while a `hitp` node waits for its task token to be answered.
package struct PendingHuman: Codable, Sendable, Equatable {
    package var node: String
    package var question: String
    /// The fields the answer may set (the node's writes).
    package var expects: [String]
    package var taskToken: String
    package var askedAtMillis: Int64
    package var timeoutSeconds: Int
    /// Why the previous answer was refused, when this is the question asked again.
    package var refusal: String?
    /// Which answer this is (1 for the first question).
    package var attempt: Int?

    enum CodingKeys: String, CodingKey {
        case node, question, expects, refusal, attempt
        case taskToken = "task_token"
        case askedAtMillis = "asked_at_ms"
        case timeoutSeconds = "timeout_seconds"
    }

    /// The answer's fields, or why it is refused: a JSON object setting only `expects`, never a protected field.
    /// The one check of a human answer: `resume` and the WebSocket answer route both use it.
    package static func fields(of response: Data?, node: String, expects allowed: [String]) throws -> [String: Data] {
        let to = "the answer to node \(node.debugDescription)"
        guard let response, let members = JSONScanner.object(response) else {
            throw AnalemmaError(.invalidHumanResponse, "\(to) must be a JSON object of fields (send-task-success --task-output '{…}')")
        }
        var checked = StateBag()
        try checked.merge(members, from: .human(node))  // a protected field is refused here, as in every merge
        if let field = members.keys.sorted().first(where: { !allowed.contains($0) }) {
            throw AnalemmaError(
                .invalidHumanResponse,
                "\(to) sets \(field.debugDescription), which the node does not declare (it may set: \(allowed.joined(separator: ", ")))")
        }
        return members
    }
}

/// `ask` (inside the `.waitForTaskToken` state) and `resume` (after `SendTaskSuccess`).
extension SegmentRunnerService {
    /// Records the pending question and its task token in state, where a UI (or `Deploy/run.py`) finds it.
    func ask(_ k: KernelPayload, token: String) async throws -> KernelPayload {
        guard k.cursor.status == .waitHuman, let hitp = k.cursor.hitp else {
            throw AnalemmaError(.invalidEvent, "ask: the payload's cursor is \(k.cursor.status.rawValue), not wait_human")
        }
        // A retried ask (its instance died after the commit) has a new task token: it replaces the stored one.
        let turn = try await turn(k, .named)
        let node = try await turn.plan().node(hitp.node)
        var (cursor, state) = try await turn.read(node.reads ?? [])
        var question: String
        if case .string(let source)? = node.config?["question"] {
            question = try Template(source).render(state.fields)
        } else {
            question = "Node \(node.id) asks for: \((node.writes ?? []).joined(separator: ", "))"
        }
        if let why = hitp.refusal {
            question += "\n\nYour previous answer was refused: \(why) Please answer again."
        }
        var pending = PendingHuman(
            node: node.id, question: question, expects: node.writes ?? [], taskToken: token, askedAtMillis: checkpoints.clock.nowMillis(),
            timeoutSeconds: hitp.timeoutSeconds)
        pending.refusal = hitp.refusal
        pending.attempt = (hitp.refusals ?? 0) + 1
        if turn.replay == nil { cursor.step += 1 }
        let out = try await turn.commit(["pending_human": CanonicalJSON.encode(pending)], cursor: cursor)
        emit(
            .humanWaiting, out,
            [
                "node": node.id, "question": String(question.prefix(1024)), "timeout_seconds": String(hitp.timeoutSeconds),
                "token_sha256": Digest.hex(Digest.sha256(Data(token.utf8))).prefix(16).description,
            ])
        return out
    }

    /// Merges the human's answer (only the node's declared writes; never a protected field), clears the
    /// question, routes on, and commits. A refused answer changes nothing in state.
    func resume(_ k: KernelPayload, response: Data?) async throws -> KernelPayload {
        guard let hitp = k.cursor.hitp else { throw AnalemmaError(.invalidEvent, "resume: the payload's cursor waits for no human") }
        let turn = try await turn(k, .latest)
        guard try await hydrator.has(turn.manifest, "pending_human") else {
            let current = try await turn.current()
            if current.cursor.step > k.cursor.step { return current }  // this answer was already merged (a retry)
            throw AnalemmaError(.invalidState, "resume: no question is pending for node \(hitp.node.debugDescription)")
        }
        let plan = try await turn.plan()
        let node = try plan.node(hitp.node)
        let answer: [String: Data]
        do { answer = try Self.answer(response, node: node) } catch let refused as AnalemmaError {
            return try await askAgain(turn, refused: refused)
        }
        var (cursor, state) = try await turn.read(
            (["pending_human"] + plan.router.conditionFields(of: node.id)).filter { answer[$0] == nil })
        guard let raw = state["pending_human"], let pending = try? JSONDecoder().decode(PendingHuman.self, from: raw) else {
            throw AnalemmaError(.invalidState, "resume: the pending question in state is not readable")
        }
        guard pending.node == node.id else {
            throw AnalemmaError(
                .invalidState, "resume: the pending question is for node \(pending.node.debugDescription), not \(node.id.debugDescription)")
        }
        try state.merge(answer, from: .human(node.id))
        let exit: String?
        do { exit = try plan.router.next(after: node.id, fields: state.fields, traversals: &cursor.traversals) } catch let e
            as AnalemmaError
            where e.code == .noRoute
        {  // the answer leads nowhere (a value no edge expects): asked again, like any wrong answer
            return try await askAgain(turn, refused: e)
        }
        cursor = try Self.cursor(entering: exit, plan: plan, from: cursor)
        cursor.step += 1
        emit(
            .humanAnswered, k,
            ["node": node.id, "fields": answer.keys.sorted().joined(separator: ","), "asked_ms": String(pending.askedAtMillis)])
        return try await turn.commit(answer, removing: ["pending_human"], cursor: cursor)
    }

    /// A refused answer: none of it is merged; the question is cleared and asked again (a new task token) with the
    /// reason, up to ``Cursor/Human/maxAnswers`` answers; then the refusal fails the step.
    func askAgain(_ turn: Turn, refused: AnalemmaError) async throws -> KernelPayload {
        var (cursor, _) = try await turn.read([])
        guard var hitp = cursor.hitp, cursor.status == .waitHuman else { throw refused }
        let refusals = (hitp.refusals ?? 0) + 1
        guard refusals < Cursor.Human.maxAnswers else {
            throw AnalemmaError(refused.code, "\(refused.message) (\(refusals) answers refused; the step fails)")
        }
        hitp.refusals = refusals
        hitp.refusal = String(refused.message.prefix(500))
        cursor.hitp = hitp
        cursor.step += 1
        emit(
            .humanRefused, turn.k,
            [
                "node": hitp.node, "code": refused.code.rawValue, "reason": String(refused.message.prefix(1024)),
                "attempt": String(refusals),
            ])
        return try await turn.commit([:], removing: ["pending_human"], cursor: cursor)
    }

    /// The answer's fields, or the reason it is refused (naming the field and the node).
    static func answer(_ response: Data?, node: WorkflowDefinition.Node) throws -> [String: Data] {
        try PendingHuman.fields(of: response, node: node.id, expects: node.writes ?? [])
    }
}
