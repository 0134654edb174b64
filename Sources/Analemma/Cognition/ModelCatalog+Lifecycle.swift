#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// Models change under a deployment: ids retire on given days (with a named successor) and prices change on given
/// days. https://ai.google.dev/gemini-api/docs/deprecations · https://ai.google.dev/gemini-api/docs/pricing
extension ModelCatalog {
    /// A price list that takes effect on `from` (`YYYY-MM-DD`, UTC).
    package struct Price: Codable, Sendable, Equatable {
        package var from: String
        package var inputUSDPerMillion: Double
        package var outputUSDPerMillion: Double
        package var cachedInputUSDPerMillion: Double?

        enum CodingKeys: String, CodingKey {
            case from
            case inputUSDPerMillion = "input_usd_per_mtok"
            case outputUSDPerMillion = "output_usd_per_mtok"
            case cachedInputUSDPerMillion = "cached_input_usd_per_mtok"
        }

        package init(from: String, inputUSDPerMillion: Double, outputUSDPerMillion: Double, cachedInputUSDPerMillion: Double? = nil) {
            self.from = from
            self.inputUSDPerMillion = inputUSDPerMillion
            self.outputUSDPerMillion = outputUSDPerMillion
            self.cachedInputUSDPerMillion = cachedInputUSDPerMillion
        }
    }

    /// A retired id that is not in `models`: `"2026-12-01"` or `{"date": "2026-12-01", "successor": "id"}`.
    package struct Retirement: Codable, Sendable, Equatable, ExpressibleByStringLiteral {
        package var date: String
        package var successor: String?

        package init(date: String, successor: String? = nil) {
            self.date = date
            self.successor = successor
        }

        package init(stringLiteral value: String) { self.init(date: value) }

        package init(from decoder: any Decoder) throws {
            if let date = try? decoder.singleValueContainer().decode(String.self) {
                self.init(date: date)
                return
            }
            let c = try decoder.container(keyedBy: CodingKeys.self)
            self.init(date: try c.decode(String.self, forKey: .date), successor: try c.decodeIfPresent(String.self, forKey: .successor))
        }
    }

    /// What a call pinned to a retired id gets.
    package enum RetiredPolicy: String, Codable, Sendable {
        /// The successor serves it, recorded in usage and events.
        case remap
        /// The call fails with `Analemma.ModelError` naming the date and the successor.
        case refuse
    }

    /// The successor `id` names, wherever the catalog records it.
    package func successor(of id: String) -> String? {
        models.first { $0.id == id }?.successor ?? retired?[id]?.successor
    }

    /// The first model along `id`'s successor chain that still serves on `day`, if any.
    package func liveSuccessor(of id: String, on day: String) -> Model? {
        var seen: Set<String> = [id]
        var next = successor(of: id)
        while let s = next, seen.insert(s).inserted {
            if let m = models.first(where: { $0.id == s }), m.retires.map({ $0 > day }) ?? true { return m }
            next = successor(of: s)
        }
        return nil
    }

    /// Dates are `YYYY-MM-DD`, prices finite and non-negative, successors listed models, chains without cycles.
    func checkLifecycle() throws {
        func bad(_ why: String) -> AnalemmaError { AnalemmaError(.invalidConfiguration, "MODEL_CATALOG \(why)") }
        func isDay(_ s: String) -> Bool {
            let b = Array(s.utf8)
            return b.count == 10 && b[4] == UInt8(ascii: "-") && b[7] == UInt8(ascii: "-")
                && b.enumerated().allSatisfy { i, c in i == 4 || i == 7 || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(c) }
        }
        func isPrice(_ p: Double?) -> Bool { p.map { $0.isFinite && $0 >= 0 && $0 <= 1_000_000 } ?? true }
        let ids = Set(models.map(\.id))
        for m in models {
            guard isPrice(m.inputUSDPerMillion), isPrice(m.outputUSDPerMillion), isPrice(m.cachedInputUSDPerMillion),
                isPrice(m.cacheStorageUSDPerMillionHour)
            else {
                throw bad("model \(m.id): prices must be 0–1,000,000 USD per million tokens")
            }
            if let f = m.batchPriceFactor, !(f.isFinite && (0...1).contains(f)) {
                throw bad("model \(m.id): batch_price_factor must be 0–1 (a share of the interactive price)")
            }
            if let min = m.cacheMinTokens, !(1...m.contextTokens).contains(min) {
                throw bad("model \(m.id): cache_min_tokens must be 1–context_tokens")
            }
            if let r = m.retires, !isDay(r) { throw bad("model \(m.id): retires must be YYYY-MM-DD, not \(r.debugDescription)") }
            var last = ""
            for p in m.prices ?? [] {
                guard isDay(p.from), p.from > last else {
                    throw bad("model \(m.id): prices[].from must be YYYY-MM-DD dates in increasing order")
                }
                guard isPrice(p.inputUSDPerMillion), isPrice(p.outputUSDPerMillion), isPrice(p.cachedInputUSDPerMillion) else {
                    throw bad("model \(m.id): prices must be 0–1,000,000 USD per million tokens")
                }
                last = p.from
            }
        }
        for (id, r) in retired ?? [:] where !isDay(r.date) { throw bad("retired \(id): date must be YYYY-MM-DD") }
        for id in ids.union((retired ?? [:]).keys) {
            guard let s = successor(of: id) else { continue }
            guard s != id, ids.contains(s) else { throw bad("\(id): successor \(s.debugDescription) is not a model of the catalog") }
            var seen: Set<String> = [id]
            var next: String? = s
            while let n = next {
                guard seen.insert(n).inserted else { throw bad("\(id): the successor chain loops back to \(n)") }
                next = successor(of: n)
            }
        }
    }
}

extension ModelCatalog.Model {
    /// The prices in effect on `day` (`YYYY-MM-DD`): the last listed price from on or before it, else the base prices.
    package func price(on day: String) -> ModelCatalog.Price {
        let base = ModelCatalog.Price(
            from: "", inputUSDPerMillion: inputUSDPerMillion, outputUSDPerMillion: outputUSDPerMillion,
            cachedInputUSDPerMillion: cachedInputUSDPerMillion)
        return (prices ?? []).last { $0.from <= day } ?? base
    }

    /// The cost of a call on `day`: cached prompt tokens (a part of `inputTokens`) at the cache price.
    package func cost(inputTokens: Int, outputTokens: Int, cachedTokens: Int = 0, on day: String) -> Double {
        let p = price(on: day)
        let cached = min(max(cachedTokens, 0), inputTokens)
        let fresh = Double(inputTokens - cached) * p.inputUSDPerMillion
        let hit = Double(cached) * (p.cachedInputUSDPerMillion ?? p.inputUSDPerMillion)
        return (fresh + hit + Double(outputTokens) * p.outputUSDPerMillion) / 1_000_000
    }
}
