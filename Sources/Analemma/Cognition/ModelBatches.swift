#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// A batch job the kernel submitted and waits for: which job, on which model, priced on which day.
package struct BatchTicket: Codable, Sendable, Equatable {
    /// The job's name (`batches/{id}`).
    package var job: String
    package var model: String
    /// Why this model (the router's decision).
    package var route: String
    /// The retired id the node pinned, when its successor serves instead.
    package var remappedFrom: String?
    /// The day (`YYYY-MM-DD`, UTC) the job was submitted: its answers are priced at that day's batch price.
    package var pricedOn: String
    package var requests: Int

    enum CodingKeys: String, CodingKey {
        case job, model, route, requests
        case remappedFrom = "remapped_from"
        case pricedOn = "priced_on"
    }
}

/// Model calls that tolerate latency, sent as one batch job and collected when it is done (`map` nodes with
/// `config.batch`). Nothing here sleeps: the state machine waits between ``collect(_:)`` calls.
package protocol ModelBatches: Sendable {
    /// Submits one job for `requests` (all of one node: one model serves them all).
    func submit(_ requests: [ModelRequest], name: String) async throws -> BatchTicket
    /// The answers by request, once the job is done (each priced at the batch price); nil while it runs. A job that
    /// failed, was cancelled or expired is `Analemma.ModelBatchFailed`.
    func collect(_ ticket: BatchTicket) async throws -> [Result<ModelResponse, AnalemmaError>]?
}

extension RoutedModel: ModelBatches {
    package func submit(_ requests: [ModelRequest], name: String) async throws -> BatchTicket {
        guard let first = requests.first else { throw AnalemmaError(.invalidState, "a batch needs at least one request") }
        let hints = ModelHints(first.hints)
        let day = ModelConfiguration.date(clock.nowMillis())
        let longest = requests.map { ModelRouter.estimateTokens($0.prompt + ($0.context ?? "")) }.max() ?? 0
        let candidates = try router.on(day).route(
            complexity: try hints.tier(node: first.nodeID), promptTokens: longest + ModelRouter.estimateTokens(hints.system ?? ""),
            maxOutputTokens: hints.int("max_output_tokens"), pinned: hints.string("model"))
        var chosen = candidates[0]
        for c in candidates where await cooldowns.resting(c.model.id, now: clock.nowMillis()) == nil {
            chosen = c
            break
        }
        let wire = requests.map { r in
            GeminiWire.Request(
                contents: (r.turns.isEmpty ? [ModelTurn.user(r.prompt)] : r.turns).map(GeminiWire.Request.turn),
                systemInstruction: hints.system, generationConfig: ModelHints(r.hints).generationConfig)
        }
        do {
            let job = try await client.createBatch(model: chosen.model.id, displayName: name, requests: wire)
            return BatchTicket(
                job: job.name, model: chosen.model.id, route: chosen.reason + ", batch", remappedFrom: chosen.remappedFrom, pricedOn: day,
                requests: requests.count)
        } catch let failure as ModelFailure {
            if failure.kind == .throttled {
                let rest = failure.retryAfterMillis ?? defaultRestMillis
                await cooldowns.rest(chosen.model.id, until: clock.nowMillis() + rest, asked: failure.retryAfterMillis != nil)
            }
            throw failure.error
        }
    }

    package func collect(_ ticket: BatchTicket) async throws -> [Result<ModelResponse, AnalemmaError>]? {
        let job: GeminiBatch.Job
        do { job = try await client.batch(ticket.job, model: ticket.model) } catch let failure as ModelFailure { throw failure.error }
        guard job.state.isFinal else { return nil }
        guard job.state == .succeeded else {
            throw AnalemmaError(
                .modelBatchFailed, "batch \(ticket.job) on \(ticket.model) ended \(job.state.rawValue)\(job.error.map { ": \($0)" } ?? "")")
        }
        let model = router.catalog.models.first { $0.id == ticket.model }
        let factor = model?.batchPriceFactor ?? ModelCatalog.Model.defaultBatchPriceFactor
        return (0..<ticket.requests).map { i in
            guard let answer = job.answers[i] else {
                return .failure(AnalemmaError(.modelError, "batch \(ticket.job) returned no answer for request \(i)"))
            }
            switch answer {
            case .error(let message): return .failure(AnalemmaError(.modelError, "batch \(ticket.job) request \(i): \(message)"))
            case .response(let parsed):
                do {
                    let r = try GeminiClient.usable(parsed, model: ticket.model)
                    var out = ModelResponse(text: r.text, model: ticket.model, inputTokens: r.promptTokens, outputTokens: r.outputTokens)
                    out.thoughtTokens = r.thoughtTokens
                    out.cachedTokens = r.cachedTokens
                    out.finishReason = r.finishReason
                    out.route = ticket.route
                    out.remappedFrom = ticket.remappedFrom
                    out.pricedOn = ticket.pricedOn
                    out.estimatedCostUSD = model.map {
                        factor
                            * $0.cost(
                                inputTokens: r.promptTokens, outputTokens: r.outputTokens + r.thoughtTokens, cachedTokens: r.cachedTokens,
                                on: ticket.pricedOn)
                    }
                    return .success(out)
                } catch let e as AnalemmaError {
                    return .failure(e)
                } catch {
                    return .failure(AnalemmaError(.modelError, "\(error)"))
                }
            }
        }
    }
}
