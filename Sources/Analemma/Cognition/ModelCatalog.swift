#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// The models a deployment may use, with what routing needs: tier, context window, typical latency, prices,
/// retirement date. Configuration (`MODEL_CATALOG`), never code: model ids retire.
package struct ModelCatalog: Codable, Sendable, Equatable {
    package enum Tier: String, Codable, Sendable, Comparable, CaseIterable {
        case low, medium, high
        package static func < (a: Self, b: Self) -> Bool { allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)! }
    }

    package struct Model: Codable, Sendable, Equatable {
        package var id: String
        package var tier: Tier
        package var contextTokens: Int
        package var maxOutputTokens: Int
        /// Typical time to a full answer of a few hundred tokens.
        package var latencyMillis: Int
        package var inputUSDPerMillion: Double
        package var outputUSDPerMillion: Double
        /// `YYYY-MM-DD` from which the provider no longer serves the id.
        package var retires: String?
        /// The id that replaces this one once it retires (Google's deprecations page names one per model).
        package var successor: String?
        /// Price of prompt tokens served from a context cache (default: the input price, no discount assumed).
        package var cachedInputUSDPerMillion: Double?
        /// Prices that take effect on given days (the base prices hold before the first).
        package var prices: [Price]?
        /// The smallest prompt prefix (tokens) the model caches explicitly; nil: no explicit caching.
        package var cacheMinTokens: Int?
        /// What keeping a cached prefix costs, per million tokens per hour.
        package var cacheStorageUSDPerMillionHour: Double?
        /// The Batch API's price as a share of the interactive one (default ``defaultBatchPriceFactor``: half).
        package var batchPriceFactor: Double?
        /// Google prices batch calls at 50 % of interactive ones.
        package static let defaultBatchPriceFactor = 0.5

        enum CodingKeys: String, CodingKey {
            case id, tier, retires, successor, prices
            case contextTokens = "context_tokens"
            case maxOutputTokens = "max_output_tokens"
            case latencyMillis = "latency_ms"
            case inputUSDPerMillion = "input_usd_per_mtok"
            case outputUSDPerMillion = "output_usd_per_mtok"
            case cachedInputUSDPerMillion = "cached_input_usd_per_mtok"
            case cacheMinTokens = "cache_min_tokens"
            case cacheStorageUSDPerMillionHour = "cache_storage_usd_per_mtok_hour"
            case batchPriceFactor = "batch_price_factor"
        }

        package init(
            id: String, tier: Tier, contextTokens: Int, maxOutputTokens: Int, latencyMillis: Int, inputUSDPerMillion: Double,
            outputUSDPerMillion: Double, retires: String?, successor: String? = nil, cachedInputUSDPerMillion: Double? = nil,
            prices: [Price]? = nil, cacheMinTokens: Int? = nil, cacheStorageUSDPerMillionHour: Double? = nil
        ) {
            self.id = id
            self.tier = tier
            self.contextTokens = contextTokens
            self.maxOutputTokens = maxOutputTokens
            self.latencyMillis = latencyMillis
            self.inputUSDPerMillion = inputUSDPerMillion
            self.outputUSDPerMillion = outputUSDPerMillion
            self.retires = retires
            self.successor = successor
            self.cachedInputUSDPerMillion = cachedInputUSDPerMillion
            self.prices = prices
            self.cacheMinTokens = cacheMinTokens
            self.cacheStorageUSDPerMillionHour = cacheStorageUSDPerMillionHour
        }
    }

    package var models: [Model]
    /// Ids known to be retired (or retiring) that are not in `models`: their dates and successors.
    package var retired: [String: Retirement]?
    /// What a call to a retired id gets: its successor (`remap`, the default) or a refusal (`refuse`).
    package var onRetired: RetiredPolicy?

    enum CodingKeys: String, CodingKey {
        case models, retired
        case onRetired = "on_retired"
    }

    package init(models: [Model], retired: [String: Retirement]? = nil, onRetired: RetiredPolicy? = nil) {
        self.models = models
        self.retired = retired
        self.onRetired = onRetired
    }

    /// Parses `MODEL_CATALOG`; problems are `Analemma.InvalidConfiguration` naming the entry.
    package static func parse(_ json: String) throws -> ModelCatalog {
        let catalog: ModelCatalog
        do { catalog = try JSONDecoder().decode(ModelCatalog.self, from: Data(json.utf8)) } catch {
            throw AnalemmaError(.invalidConfiguration, "MODEL_CATALOG is not a model catalog: \(error)")
        }
        guard !catalog.models.isEmpty else { throw AnalemmaError(.invalidConfiguration, "MODEL_CATALOG lists no models") }
        var seen = Set<String>()
        for m in catalog.models {
            guard seen.insert(m.id).inserted else { throw AnalemmaError(.invalidConfiguration, "MODEL_CATALOG lists \(m.id) twice") }
            guard m.contextTokens > 0, m.maxOutputTokens > 0 else {
                throw AnalemmaError(
                    .invalidConfiguration, "MODEL_CATALOG model \(m.id): context_tokens and max_output_tokens must be positive")
            }
        }
        try catalog.checkLifecycle()
        return catalog
    }

    /// The retirement date of `id` if the catalog knows one.
    package func retirement(of id: String) -> String? {
        models.first { $0.id == id }?.retires ?? retired?[id]?.date
    }

    /// Warnings for start-up: catalog models already retired on `today` (`YYYY-MM-DD`) or within 30 days.
    package func warnings(today: String, soon: String) -> [String] {
        models.compactMap { m in
            guard let date = m.retires else { return nil }
            let then = m.successor.map { "calls pinned to it go to \($0)" } ?? "no successor is set: pinned calls will fail"
            if date <= today { return "model \(m.id) retired on \(date): routing skips it; \(then)" }
            if date <= soon { return "model \(m.id) retires on \(date): \(then); replace it in MODEL_CATALOG" }
            return nil
        }
    }
}
