#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// Dollars per unit of each ``Usage`` count: AWS's list prices in us-east-1 unless `PRICE_TABLE` (JSON, the same
/// keys) overrides some. Prices change and differ by region: configuration, never code, decides what is charged.
///
/// Defaults, from the pricing pages (December 2026): S3 Standard https://aws.amazon.com/s3/pricing/ ($0.005 per 1,000
/// PUT/COPY/POST/LIST, $0.0004 per 1,000 GET and others); DynamoDB on-demand
/// https://aws.amazon.com/dynamodb/pricing/on-demand/ ($0.625 per million write, $0.125 per million read request
/// units); SQS https://aws.amazon.com/sqs/pricing/ ($0.50 per million FIFO requests); API Gateway WebSocket
/// https://aws.amazon.com/api-gateway/pricing/ ($1.00 per million messages); Lambda x86
/// https://aws.amazon.com/lambda/pricing/ ($0.20 per million requests, $0.0000166667 per GB-second); Step Functions
/// Standard https://aws.amazon.com/step-functions/pricing/ ($0.025 per 1,000 state transitions).
package struct PriceTable: Codable, Sendable, Equatable {
    package var s3WritesPerThousand = 0.005
    package var s3ReadsPerThousand = 0.0004
    package var dynamoWriteUnitsPerMillion = 0.625
    package var dynamoReadUnitsPerMillion = 0.125
    package var sqsRequestsPerMillion = 0.50
    package var webSocketMessagesPerMillion = 1.00
    package var lambdaRequestsPerMillion = 0.20
    package var lambdaGigabyteSecond = 0.0000166667
    package var transitionsPerThousand = 0.025

    enum CodingKeys: String, CodingKey, CaseIterable {
        case s3WritesPerThousand = "s3_writes_per_1000"
        case s3ReadsPerThousand = "s3_reads_per_1000"
        case dynamoWriteUnitsPerMillion = "dynamodb_write_units_per_million"
        case dynamoReadUnitsPerMillion = "dynamodb_read_units_per_million"
        case sqsRequestsPerMillion = "sqs_requests_per_million"
        case webSocketMessagesPerMillion = "websocket_messages_per_million"
        case lambdaRequestsPerMillion = "lambda_requests_per_million"
        case lambdaGigabyteSecond = "lambda_gb_second"
        case transitionsPerThousand = "transitions_per_1000"
    }

    static var prices: [(key: CodingKeys, path: WritableKeyPath<PriceTable, Double>)] {
        [
            (.s3WritesPerThousand, \.s3WritesPerThousand), (.s3ReadsPerThousand, \.s3ReadsPerThousand),
            (.dynamoWriteUnitsPerMillion, \.dynamoWriteUnitsPerMillion), (.dynamoReadUnitsPerMillion, \.dynamoReadUnitsPerMillion),
            (.sqsRequestsPerMillion, \.sqsRequestsPerMillion), (.webSocketMessagesPerMillion, \.webSocketMessagesPerMillion),
            (.lambdaRequestsPerMillion, \.lambdaRequestsPerMillion), (.lambdaGigabyteSecond, \.lambdaGigabyteSecond),
            (.transitionsPerThousand, \.transitionsPerThousand),
        ]
    }

    /// The largest price accepted for one unit's rate ($1,000,000: a typo such as 5e300 is refused, not charged).
    package static let maxPrice = 1_000_000.0

    package init() {}

    /// The defaults with the given keys replaced. Each value is a finite number in 0...``maxPrice``; an unknown
    /// key is refused naming it (a misspelt price would otherwise silently stay at its default).
    package init(from decoder: any Decoder) throws {
        self.init()
        let c = try decoder.container(keyedBy: DynamicKey.self)
        let known = Dictionary(uniqueKeysWithValues: Self.prices.map { ($0.key.rawValue, $0.path) })
        for key in c.allKeys {
            guard let path = known[key.stringValue] else {
                throw AnalemmaError(
                    .invalidConfiguration,
                    "PRICE_TABLE: unknown price \(key.stringValue.debugDescription) (known: \(known.keys.sorted().joined(separator: ", ")))"
                )
            }
            let value = try c.decode(Double.self, forKey: key)
            guard value.isFinite, (0...Self.maxPrice).contains(value) else {
                throw AnalemmaError(.invalidConfiguration, "PRICE_TABLE: \(key.stringValue) must be a price in 0...\(Self.maxPrice)")
            }
            self[keyPath: path] = value
        }
    }

    package func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        for (key, path) in Self.prices { try c.encode(self[keyPath: path], forKey: key) }
    }

    /// `PRICE_TABLE` from the function environment (unset: the defaults); a bad table is `Analemma.InvalidConfiguration`.
    package init(environment: FunctionEnvironment) throws {
        guard let raw = environment["PRICE_TABLE"], !raw.isEmpty else {
            self.init()
            return
        }
        do { self = try JSONDecoder().decode(PriceTable.self, from: Data(raw.utf8)) } catch let error as AnalemmaError {
            throw error
        } catch {
            throw AnalemmaError(.invalidConfiguration, "PRICE_TABLE must be a JSON object of prices: \(error)")
        }
    }
}
