#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// What one execution used, counted as it runs (``MeteredTransport``, ``UsageLedger``) and priced by ``PriceTable``.
///
/// Counts are whole units as AWS bills them: S3 requests by tier, DynamoDB request units, SQS and WebSocket message
/// chunks, Lambda requests and MB·ms, Step Functions state transitions. Stored in the cursor; never in the payload.
package struct Usage: Codable, Sendable, Equatable {
    /// S3 PUT, COPY, POST and LIST requests (S3's first price tier).
    package var s3Writes = 0
    /// S3 GET, HEAD and every other request but DELETE, which is free (the second tier).
    package var s3Reads = 0
    /// DynamoDB write request units: 1 per KB of each item written, 2 inside a transaction (``DynamoDBUnits``).
    package var dynamoWriteUnits = 0
    /// DynamoDB read request units: 1 per 4 KB of a strongly consistent read, half for an eventual one, 2 in a
    /// transaction (from the items returned).
    package var dynamoReadUnits = 0
    /// SQS requests, each 64 KB chunk of a request counting as one.
    package var sqsRequests = 0
    /// WebSocket messages posted through API Gateway, each 32 KB chunk counting as one.
    package var webSocketMessages = 0
    /// Step Functions API requests (not billed for Standard workflows; counted to be seen).
    package var stepFunctionsRequests = 0
    /// Lambda invocations of the kernel's functions.
    package var lambdaRequests = 0
    /// Lambda duration: configured memory (MB) × billed milliseconds, summed.
    package var lambdaMegabyteMillis = 0
    /// Step Functions state transitions (Standard workflows bill each state entered).
    package var transitions = 0

    /// The largest count a stored usage may hold (far beyond any execution's budget; a forged 1e300 is refused).
    package static let maxCount = 1_000_000_000_000_000

    enum CodingKeys: String, CodingKey, CaseIterable {
        case s3Writes = "s3_writes"
        case s3Reads = "s3_reads"
        case dynamoWriteUnits = "dynamodb_write_units"
        case dynamoReadUnits = "dynamodb_read_units"
        case sqsRequests = "sqs_requests"
        case webSocketMessages = "websocket_messages"
        case stepFunctionsRequests = "stepfunctions_requests"
        case lambdaRequests = "lambda_requests"
        case lambdaMegabyteMillis = "lambda_mb_ms"
        case transitions
    }

    static var counts: [(key: CodingKeys, path: WritableKeyPath<Usage, Int>)] {
        [
            (.s3Writes, \.s3Writes), (.s3Reads, \.s3Reads), (.dynamoWriteUnits, \.dynamoWriteUnits),
            (.dynamoReadUnits, \.dynamoReadUnits), (.sqsRequests, \.sqsRequests), (.webSocketMessages, \.webSocketMessages),
            (.stepFunctionsRequests, \.stepFunctionsRequests), (.lambdaRequests, \.lambdaRequests),
            (.lambdaMegabyteMillis, \.lambdaMegabyteMillis), (.transitions, \.transitions),
        ]
    }

    package init() {}

    /// Absent counts are 0; a count that is negative or above ``maxCount`` is refused naming it.
    package init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        for (key, path) in Self.counts {
            let value = try c.decodeIfPresent(Int.self, forKey: key) ?? 0
            guard (0...Self.maxCount).contains(value) else {
                throw AnalemmaError(.invalidState, "usage.\(key.rawValue) must be a count in 0...\(Self.maxCount), not \(value)")
            }
            self[keyPath: path] = value
        }
    }

    package func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        for (key, path) in Self.counts where self[keyPath: path] != 0 { try c.encode(self[keyPath: path], forKey: key) }
    }

    /// Nothing counted.
    package var isEmpty: Bool { Self.counts.allSatisfy { self[keyPath: $0.path] == 0 } }

    /// Both added, each count saturating at ``maxCount`` (never trapping).
    package static func + (a: Usage, b: Usage) -> Usage {
        var sum = a
        for (_, path) in counts { sum[keyPath: path] = min(maxCount, a[keyPath: path].saturatingAdd(b[keyPath: path])) }
        return sum
    }

    /// What `a` counted beyond `b` (a later reading of the same meter minus an earlier one; never negative).
    package static func - (a: Usage, b: Usage) -> Usage {
        var difference = Usage()
        for (_, path) in counts { difference[keyPath: path] = max(0, a[keyPath: path] - b[keyPath: path]) }
        return difference
    }
}

extension Int {
    /// `self + other`, or `Int.max` when that overflows.
    func saturatingAdd(_ other: Int) -> Int {
        let (sum, overflow) = addingReportingOverflow(other)
        return overflow ? .max : sum
    }
}
