#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// What `fail` records in state (`failure`): the whole error, where the run was.
package struct FailureRecord: Codable, Sendable, Equatable {
    package var code: String
    package var message: String
    package var step: Int
    package var segment: Int?
    package var nodes: [String]
    package var failedAtMillis: Int64

    enum CodingKeys: String, CodingKey {
        case code, message, step, segment, nodes
        case failedAtMillis = "failed_at_ms"
    }
}

/// `finalize` and `fail`.
extension SegmentRunnerService {
    /// The workflow's output fields (declared `outputs`, else every non-kernel field), offloaded to S3 as needed
    /// so the payload stays under 30 KB.
    func finalize(_ k: KernelPayload) async throws -> KernelPayload {
        let turn = try await turn(k, .exactly)
        let plan = try await turn.plan()
        var names = plan.definition.outputs ?? []
        if plan.definition.outputs == nil { names = try await hydrator.names(turn.manifest).filter { !StateBag.isProtected($0) } }
        let (cursor, state) = try await turn.read(names + ["llm_usage"])
        let output = try await payloads.encode(
            state.fields.filter { names.contains($0.key) }, ownerID: k.ownerID, executionID: k.executionID, limit: outputLimit)
        var out = try await turn.current()
        out.output = try JSONValue(json: output)
        let risks = cursor.risks ?? []
        let outcome = risks.isEmpty ? "SUCCEEDED" : "COMPLETED_WITH_RISK"
        out.outcome = outcome
        let cost = CostReport(
            usage: (cursor.usage ?? Usage()) + ledger.closing(for: k.executionID), prices: prices,
            modelDollars: CostReport.modelDollars(state.fields["llm_usage"]))
        out.cost = cost
        emit(
            .executionFinished, out,
            [
                "status": outcome, "risk_nodes": risks.joined(separator: ","), "output_bytes": String(output.count),
                "step": String(out.cursor.step), "cost_usd": String(CostReport.Dollars.rounded(cost.usd.total)),
                "started_ms": String(cursor.startedAtMillis ?? 0),
            ])
        return out
    }

    /// Records a caught error in state (`failure`, cursor `failed`) and returns what the Fail state reports.
    /// A human step's `States.Timeout` becomes `Analemma.HumanTimeout` naming the node.
    func fail(_ k: KernelPayload, caught: SegmentEvent.Caught?, also extra: [String: Data] = [:]) async throws -> KernelPayload {
        var code = caught?.type ?? ErrorCode.unhandled.rawValue
        var message = Self.message(fromCause: caught?.cause) ?? code
        if code == "States.Timeout" || code == "States.HeartbeatTimeout", k.cursor.status == .waitHuman, let hitp = k.cursor.hitp {
            message = "node \(hitp.node.debugDescription) was not answered within \(hitp.timeoutSeconds) s (\(code))"
            code = ErrorCode.humanTimeout.rawValue
        } else if code.hasPrefix("States.") {
            // A Fail state may not raise a States.* name: report ours, keep the original in the message.
            let mapped = code == "States.ExceedToleratedFailureThreshold" ? ErrorCode.toleranceExceeded : .unhandled
            let node = k.cursor.fanout.map { "node \($0.node.debugDescription): " } ?? ""
            message = "\(node)\(code): \(message)"
            code = mapped.rawValue
        }
        let turn = try await turn(k, .latest)
        var (cursor, _) = try await turn.read([])
        let plan = try? await self.plan(cursor, ownerID: k.ownerID)
        let record = FailureRecord(
            code: code, message: message, step: cursor.step, segment: cursor.segment, nodes: plan?.segment(cursor.segment)?.nodes ?? [],
            failedAtMillis: checkpoints.clock.nowMillis())
        cursor.status = .failed
        cursor.step += 1
        var out = try await turn.commit(extra.merging(["failure": try CanonicalJSON.encode(record)]) { _, new in new }, cursor: cursor)
        out.error = KernelPayload.ErrorSummary(
            code: code, message: String(message.prefix(2048)), node: record.nodes.last ?? cursor.hitp?.node)
        emit(
            .executionFailed, out,
            ["code": code, "message": String(message.prefix(1024)), "started_ms": String(cursor.startedAtMillis ?? 0)])
        return out
    }

    /// A Lambda error's `Cause` is `{"errorMessage": …, "errorType": …}`; other causes are kept as text.
    static func message(fromCause cause: String?) -> String? {
        guard let cause, !cause.isEmpty else { return nil }
        if let members = JSONScanner.object(Data(cause.utf8)), let m = members["errorMessage"],
            let text = try? JSONDecoder().decode(String.self, from: m)
        {
            return text
        }
        return cause
    }
}
