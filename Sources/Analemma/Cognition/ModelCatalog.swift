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

        enum CodingKeys: String, CodingKey {
            case id, tier, retires
            case contextTokens = "context_tokens"
            case maxOutputTokens = "max_output_tokens"
            case latencyMillis = "latency_ms"
            case inputUSDPerMillion = "input_usd_per_mtok"
            case outputUSDPerMillion = "output_usd_per_mtok"
        }

        package func estimatedCost(inputTokens: Int, outputTokens: Int) -> Double {
            (Double(inputTokens) * inputUSDPerMillion + Double(outputTokens) * outputUSDPerMillion) / 1_000_000
        }
    }

    package var models: [Model]
    /// Ids known to be retired (or retiring) and their dates, so a pinned one is warned about.
    package var retired: [String: String]?

    package init(models: [Model], retired: [String: String]? = nil) {
        self.models = models
        self.retired = retired
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
        return catalog
    }

    /// The retirement date of `id` if the catalog knows one.
    package func retirement(of id: String) -> String? {
        models.first { $0.id == id }?.retires ?? retired?[id]
    }

    /// Warnings for start-up: catalog models already retired on `today` (`YYYY-MM-DD`) or within 30 days.
    package func warnings(today: String, soon: String) -> [String] {
        models.compactMap { m in
            guard let date = m.retires else { return nil }
            if date <= today { return "model \(m.id) retired on \(date): requests to it fail; routing skips it" }
            if date <= soon { return "model \(m.id) retires on \(date): replace it in MODEL_CATALOG" }
            return nil
        }
    }
}
