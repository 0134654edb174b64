/// Chooses models for a call, best first: the cheapest model of the lowest tier that meets the node's declared
/// complexity, whose context window holds the prompt plus the answer, and (when the node sets a latency budget)
/// that is fast enough; the rest that qualify follow as fallbacks. A node may pin a model (`model` hint).
package struct ModelRouter: Sendable {
    package struct Decision: Sendable, Equatable {
        package var model: ModelCatalog.Model
        package var reason: String
        package var estimatedCostUSD: Double
    }

    package let catalog: ModelCatalog
    /// Today as `YYYY-MM-DD` (retired models are skipped).
    package let today: String

    package init(catalog: ModelCatalog, today: String) {
        self.catalog = catalog
        self.today = today
    }

    /// Rough token estimate: ~4 bytes of text per token.
    package static func estimateTokens(_ text: String) -> Int { (text.utf8.count + 3) / 4 }

    /// The candidates for a prompt of `promptTokens`, best first. None fitting is `Analemma.ModelError`.
    package func route(
        complexity: ModelCatalog.Tier = .medium, promptTokens: Int, maxOutputTokens: Int? = nil, latencyBudgetMillis: Int? = nil,
        pinned: String? = nil
    ) throws -> [Decision] {
        let live = catalog.models.filter { m in m.retires.map { $0 > today } ?? true }
        let output = maxOutputTokens ?? 1024
        let fits = live.filter { $0.contextTokens >= promptTokens + output && $0.maxOutputTokens >= output }
        guard !fits.isEmpty else {
            throw AnalemmaError(
                .modelError,
                "a prompt of ~\(promptTokens) tokens plus \(output) output tokens fits no model's context window in MODEL_CATALOG")
        }
        func cost(_ m: ModelCatalog.Model) -> Double { m.estimatedCost(inputTokens: promptTokens, outputTokens: output) }
        var capable = fits.filter { $0.tier >= complexity }
        var note = "tier >= \(complexity.rawValue)"
        if capable.isEmpty {
            capable = fits
            note = "no model of tier >= \(complexity.rawValue) fits; best available"
        }
        if let budget = latencyBudgetMillis {
            let fast = capable.filter { $0.latencyMillis <= budget }
            if fast.isEmpty {
                capable.sort { $0.latencyMillis < $1.latencyMillis }
                note += ", none within \(budget) ms: fastest first"
            } else {
                capable = fast
                note += ", within \(budget) ms"
            }
        }
        var ordered = capable.sorted { ($0.tier, cost($0), $0.id) < ($1.tier, cost($1), $1.id) }
        if latencyBudgetMillis != nil, !capable.contains(where: { $0.latencyMillis <= latencyBudgetMillis! }) {
            ordered = capable
        }
        var decisions = ordered.enumerated().map { i, m in
            Decision(
                model: m, reason: i == 0 ? "\(note), cheapest" : "fallback \(i) (\(note))", estimatedCostUSD: cost(m))
        }
        if let pinned {
            guard let m = live.first(where: { $0.id == pinned }) else {
                let why = catalog.retirement(of: pinned).map { "retired on \($0)" } ?? "not in MODEL_CATALOG"
                throw AnalemmaError(.modelError, "pinned model \(pinned.debugDescription) is \(why)")
            }
            decisions.removeAll { $0.model.id == pinned }
            decisions.insert(Decision(model: m, reason: "pinned by the node", estimatedCostUSD: cost(m)), at: 0)
        }
        return decisions
    }
}
