#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// An execution's cost: its counted ``Usage`` priced by a ``PriceTable``, itemised by service, plus what its
/// model calls cost (`llm_usage`'s estimate). `finalize` puts it in the output as `cost`.
package struct CostReport: Codable, Sendable, Equatable {
    /// Dollars by service.
    package struct Dollars: Codable, Sendable, Equatable {
        package var s3 = 0.0
        package var dynamoDB = 0.0
        package var sqs = 0.0
        package var webSocket = 0.0
        package var lambda = 0.0
        package var stepFunctions = 0.0
        package var model = 0.0
        package var total: Double { s3 + dynamoDB + sqs + webSocket + lambda + stepFunctions + model }

        enum CodingKeys: String, CodingKey {
            case s3, sqs, lambda, model, total
            case dynamoDB = "dynamodb"
            case webSocket = "websocket"
            case stepFunctions = "stepfunctions"
        }

        package init() {}

        package init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            for (key, path) in Self.services {
                let dollars = try c.decodeIfPresent(Double.self, forKey: key) ?? 0
                guard dollars.isFinite, (0...CostReport.maxDollars).contains(dollars) else {
                    throw AnalemmaError(.invalidEvent, "cost.usd.\(key.rawValue) must be an amount in 0...\(CostReport.maxDollars)")
                }
                self[keyPath: path] = dollars
            }
        }

        package func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            for (key, path) in Self.services { try c.encode(Self.rounded(self[keyPath: path]), forKey: key) }
            try c.encode(Self.rounded(total), forKey: .total)
        }

        static var services: [(CodingKeys, WritableKeyPath<Dollars, Double>)] {
            [
                (.s3, \.s3), (.dynamoDB, \.dynamoDB), (.sqs, \.sqs), (.webSocket, \.webSocket), (.lambda, \.lambda),
                (.stepFunctions, \.stepFunctions), (.model, \.model),
            ]
        }

        /// To a millionth of a cent (1e-8 dollars): enough for one checkpoint, and stable to compare.
        static func rounded(_ dollars: Double) -> Double { (dollars * 1e8).rounded() / 1e8 }
    }

    package var usage: Usage
    package var usd: Dollars

    /// The largest amount one line may show ($1e12); a larger model estimate is shown as this.
    package static let maxDollars = 1e12

    /// Prices `usage`; `modelDollars` is added as is (a non-finite or negative estimate counts as 0).
    package init(usage: Usage, prices: PriceTable, modelDollars: Double = 0) {
        self.usage = usage
        var d = Dollars()
        d.s3 = Double(usage.s3Writes) / 1e3 * prices.s3WritesPerThousand + Double(usage.s3Reads) / 1e3 * prices.s3ReadsPerThousand
        d.dynamoDB =
            Double(usage.dynamoWriteUnits) / 1e6 * prices.dynamoWriteUnitsPerMillion + Double(usage.dynamoReadUnits) / 1e6
            * prices.dynamoReadUnitsPerMillion
        d.sqs = Double(usage.sqsRequests) / 1e6 * prices.sqsRequestsPerMillion
        d.webSocket = Double(usage.webSocketMessages) / 1e6 * prices.webSocketMessagesPerMillion
        d.lambda =
            Double(usage.lambdaRequests) / 1e6 * prices.lambdaRequestsPerMillion + Double(usage.lambdaMegabyteMillis) / 1024 / 1000
            * prices.lambdaGigabyteSecond
        d.stepFunctions = Double(usage.transitions) / 1e3 * prices.transitionsPerThousand
        d.model = modelDollars.isFinite && modelDollars > 0 ? min(modelDollars, Self.maxDollars) : 0
        self.usd = d
    }

    /// What an execution's `llm_usage` field estimates its model calls cost (0 when it holds no estimate).
    package static func modelDollars(_ usage: Data?) -> Double {
        guard let usage, case .object(let o)? = try? JSONValue(json: usage), case .object(let total)? = o["total"],
            case .number(let dollars)? = total["estimated_cost_usd"]
        else { return 0 }
        return dollars
    }
}
