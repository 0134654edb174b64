/// Chooses models for a call, best first: the cheapest model of the lowest tier that meets the node's declared
/// complexity, whose context window holds the prompt plus the answer, and (when the node sets a latency budget)
/// that is fast enough; the rest that qualify follow as fallbacks. A node may pin a model (`model` hint).
package struct ModelRouter: Sendable {
    package struct Decision: Sendable, Equatable {
        package var model: ModelCatalog.Model
        package var reason: String
        package var estimatedCostUSD: Double
        /// The retired id the node pinned, when its successor serves instead.
        package var remappedFrom: String?
    }

    package let catalog: ModelCatalog
    /// Today as `YYYY-MM-DD` (retired models are skipped).
    package let today: String

    package init(catalog: ModelCatalog, today: String) {
        self.catalog = catalog
        self.today = today
    }

    /// The same catalog on another day (a long-lived instance routes and prices at each call's date).
    package func on(_ day: String) -> ModelRouter { ModelRouter(catalog: catalog, today: day) }

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
        func cost(_ m: ModelCatalog.Model) -> Double { m.cost(inputTokens: promptTokens, outputTokens: output, on: today) }
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
            decisions.removeAll { $0.model.id == pinned }
            let decision = try self.pinned(pinned, cost: cost)
            decisions.removeAll { $0.model.id == decision.model.id }
            decisions.insert(decision, at: 0)
        }
        return decisions
    }

    /// The decision for a pinned id: the model itself while it serves; once retired, its successor (the catalog's
    /// `on_retired: remap`, the default) or a refusal naming the date and the successor (`refuse`).
    func pinned(_ id: String, cost: (ModelCatalog.Model) -> Double) throws -> Decision {
        if let m = catalog.models.first(where: { $0.id == id }), m.retires.map({ $0 > today }) ?? true {
            return Decision(model: m, reason: "pinned by the node", estimatedCostUSD: cost(m))
        }
        guard let date = catalog.retirement(of: id) else {
            throw AnalemmaError(.modelError, "pinned model \(id.debugDescription) is not in MODEL_CATALOG")
        }
        if catalog.onRetired == .refuse {
            let named = catalog.successor(of: id).map { "; its successor is \($0)" } ?? ""
            throw AnalemmaError(
                .modelError, "pinned model \(id.debugDescription) retired on \(date)\(named) (MODEL_CATALOG on_retired: refuse)")
        }
        guard let m = catalog.liveSuccessor(of: id, on: today) else {
            throw AnalemmaError(
                .modelError, "pinned model \(id.debugDescription) retired on \(date) and has no serving successor in MODEL_CATALOG")
        }
        return Decision(
            model: m, reason: "pinned \(id) retired on \(date): remapped to its successor \(m.id)", estimatedCostUSD: cost(m),
            remappedFrom: id)
    }
}
