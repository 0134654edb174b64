#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// `llm` nodes through the router and a Gemini client: the router's candidates in order, each failure handled by
/// its class (``ModelFailure``). A throttled model rests (for `Retry-After` when given) while the next serves; a
/// server error moves on; a prompt too long for a window goes only to larger windows; budget and other refusals end
/// the call. Within a tool-calling exchange the model never changes: a throttle there waits (within the wait
/// budget) instead. Every decision is kept, in order, in the response's `fallbacks`.
package struct RoutedModel: LanguageModel {
    package let router: ModelRouter
    package let client: GeminiClient
    package let clock: any WallClock
    package let sleeper: any Sleeper
    package let cooldowns: ModelCooldowns
    package let caches: PromptCaches
    /// Files already uploaded through the Files API (an exchange sends a file once).
    package let uploads = MediaUploads()
    /// The longest a call waits in total for resting models (a node's `timeout_seconds` may lower it).
    package let maxWaitMillis: Int64
    /// How long a model throttled without a `Retry-After` rests.
    package let defaultRestMillis: Int64

    package init(
        router: ModelRouter, client: GeminiClient, clock: any WallClock = SystemWallClock(), sleeper: any Sleeper = TaskSleeper(),
        cooldowns: ModelCooldowns = ModelCooldowns(), caches: PromptCaches = PromptCaches(), maxWaitMillis: Int64 = 30_000,
        defaultRestMillis: Int64 = 5_000
    ) {
        self.router = router
        self.client = client
        self.clock = clock
        self.sleeper = sleeper
        self.cooldowns = cooldowns
        self.caches = caches
        self.maxWaitMillis = maxWaitMillis
        self.defaultRestMillis = defaultRestMillis
    }

    package func generate(_ request: ModelRequest) async throws -> ModelResponse {
        let hints = ModelHints(request.hints)
        let tier = try hints.tier(node: request.nodeID)
        let day = ModelConfiguration.date(clock.nowMillis())
        var pending = try router.on(day).route(
            complexity: tier, promptTokens: ModelRouter.estimateTokens(request.prompt + (hints.system ?? "") + (request.context ?? "")),
            maxOutputTokens: hints.int("max_output_tokens"), latencyBudgetMillis: hints.int("latency_budget_ms"),
            pinned: hints.string("model"))
        if request.continuing { pending = Array(pending.prefix(1)) }  // never switch model mid-exchange
        let inlineMax = hints.int("media_inline_max_bytes").map { min(max($0, 0), MediaPlacement.inlineMaxBytes) }
        let turns: [ModelTurn]
        do {
            turns = try await client.place(
                request.turns.isEmpty ? [ModelTurn.user(request.prompt)] : request.turns,
                inlineMax: inlineMax ?? MediaPlacement.inlineMaxBytes, node: request.nodeID, uploads: uploads, now: clock.nowMillis())
        } catch let failure as ModelFailure { throw failure.error }  // an upload that failed: retried or final by its class
        let wire = GeminiWire.Request(
            contents: turns.map(GeminiWire.Request.turn), systemInstruction: hints.system, generationConfig: hints.generationConfig,
            tools: GeminiWire.Request.tools(request.tools))
        let budget = min(request.waitBudgetMillis ?? maxWaitMillis, maxWaitMillis)
        var log: [String] = []
        var waited: Int64 = 0
        var last: ModelFailure?
        var outgrown = 0  // the largest window that refused the prompt
        var uncached: Set<String> = []  // models whose cached prefix was refused: sent whole
        for _ in 0..<(pending.count + 3) {
            pending.removeAll { $0.model.contextTokens <= outgrown }
            guard let (index, rest) = try await next(in: pending, continuing: request.continuing) else { break }
            let decision = pending[index]
            if let rest {
                let wait = max(rest.until - clock.nowMillis(), 0)
                guard waited + wait <= budget else {
                    log.append("\(decision.model.id): resting \(wait) ms, beyond the \(budget) ms wait budget")
                    break
                }
                log.append("\(decision.model.id): waited \(wait) ms (\(rest.asked ? "Retry-After" : "backoff"))")
                try await sleeper.sleep(for: .milliseconds(wait))
                waited += wait
            }
            let cache = await cached(wire, request, model: decision.model, whole: uncached.contains(decision.model.id), day: day)
            let started = clock.nowMillis()
            do {
                let r = try await client.generate(model: decision.model.id, cache.request)
                var out = ModelResponse(text: r.text, model: decision.model.id, inputTokens: r.promptTokens, outputTokens: r.outputTokens)
                out.thoughtTokens = r.thoughtTokens
                out.cachedTokens = r.cachedTokens
                out.finishReason = r.finishReason
                out.route = decision.reason
                out.fallbacks = log
                out.remappedFrom = decision.remappedFrom
                out.waitedMillis = waited
                out.pricedOn = day
                out.cache = cache.note
                out.estimatedCostUSD =
                    decision.model.cost(
                        inputTokens: r.promptTokens, outputTokens: r.outputTokens + r.thoughtTokens, cachedTokens: r.cachedTokens, on: day)
                    + cache.storageUSD
                out.latencyMillis = Int(clock.nowMillis() - started)
                out.content = r.content
                out.functionCalls = r.functionCalls
                return out
            } catch let failure as ModelFailure {
                last = failure
                let id = decision.model.id
                if let key = cache.key, failure.kind == .rejected, !uncached.contains(id) {  // the cache is gone: send it whole
                    await caches.forget(key)
                    uncached.insert(id)
                    log.append("\(id): cached prefix refused (\(failure.message.prefix(120))), sent whole")
                    continue
                }
                switch failure.kind {
                case .throttled:
                    let rest = failure.retryAfterMillis ?? defaultRestMillis
                    await cooldowns.rest(id, until: clock.nowMillis() + rest, asked: failure.retryAfterMillis != nil)
                    log.append("\(id): \(failure.code.rawValue), resting \(rest) ms")
                case .server:
                    if let rest = failure.retryAfterMillis {
                        await cooldowns.rest(id, until: clock.nowMillis() + rest, asked: true)
                    } else {
                        pending.remove(at: index)
                    }
                    log.append("\(id): \(failure.code.rawValue)")
                case .contextTooLong:
                    outgrown = max(outgrown, decision.model.contextTokens)
                    log.append("\(id): \(failure.code.rawValue) (\(decision.model.contextTokens)-token window), larger windows only")
                case .budget, .rejected:
                    throw failure.error
                }
            }
        }
        guard let last else {  // nothing was called: every candidate is resting from throttles this instance saw
            let resting = pending.map(\.model.id).joined(separator: ", ")
            throw AnalemmaError(.modelThrottled, "every candidate model is resting after a throttle (\(resting)); retry later")
        }
        throw AnalemmaError(last.code, log.isEmpty ? last.message : "\(last.message) (\(log.joined(separator: "; ")))")
    }

    /// The candidate to call next: the first one not resting; else, when every one is resting, the one whose rest
    /// ends first if it may be waited for (the service named the time, or the call is mid-exchange, where failing
    /// would rerun the exchange's tool calls), with that rest.
    func next(in pending: [ModelRouter.Decision], continuing: Bool) async throws -> (Int, ModelCooldowns.Rest?)? {
        let now = clock.nowMillis()
        var earliest: (Int, ModelCooldowns.Rest)?
        for (i, d) in pending.enumerated() {
            guard let rest = await cooldowns.resting(d.model.id, now: now) else { return (i, nil) }
            if earliest.map({ rest.until < $0.1.until }) ?? true { earliest = (i, rest) }
        }
        guard let earliest, earliest.1.asked || continuing else { return nil }
        return earliest
    }
}
