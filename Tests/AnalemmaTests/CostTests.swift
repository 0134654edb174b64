import Analemma
import Foundation
import Testing

@Suite("Cost report: requests counted as AWS bills them, attributed to executions, priced by configuration")
struct CostTests {
    /// A request signed (in shape) for `service`, as SigV4 leaves it.
    static func signed(
        _ service: String, _ method: String, path: String = "/bucket/key", query: [(String, String)] = [], target: String? = nil,
        bytes: Int = 0
    ) -> HTTPRequest {
        var headers = [
            (
                "Authorization",
                "AWS4-HMAC-SHA256 Credential=AKID/20261203/us-east-1/\(service)/aws4_request, SignedHeaders=host, Signature=00"
            )
        ]
        if let target { headers.append(("X-Amz-Target", target)) }
        return HTTPRequest(
            method: method, scheme: "https", host: "example.com", path: path, query: query, headers: headers, body: Data(count: bytes))
    }

    static func usage(_ build: (inout Usage) -> Void) -> Usage {
        var u = Usage()
        build(&u)
        return u
    }

    @Test(
        "each exchange counts as its service bills it",
        arguments: [
            (signed("s3", "PUT"), 200, 0, usage { $0.s3Writes = 1 }),
            (signed("s3", "GET"), 200, 0, usage { $0.s3Reads = 1 }),
            (signed("s3", "HEAD"), 404, 0, usage { $0.s3Reads = 1 }),
            (signed("s3", "GET", path: "/bucket", query: [("list-type", "2")]), 200, 0, usage { $0.s3Writes = 1 }),
            (signed("s3", "GET", path: "/", query: []), 200, 0, usage { $0.s3Writes = 1 }),
            (signed("s3", "DELETE"), 204, 0, Usage()),
            (signed("s3", "PUT"), 503, 0, Usage()),
            (signed("dynamodb", "POST", target: "DynamoDB_20120810.DescribeTable"), 200, 100, Usage()),
            (signed("dynamodb", "POST", target: "DynamoDB_20120810.PutItem", bytes: 10), 200, 0, usage { $0.dynamoWriteUnits = 1 }),
            (signed("sqs", "POST", bytes: 70_000), 200, 0, usage { $0.sqsRequests = 2 }),
            (signed("execute-api", "POST", bytes: 100), 200, 0, usage { $0.webSocketMessages = 1 }),
            (signed("states", "POST"), 200, 0, usage { $0.stepFunctionsRequests = 1 }),
            (HTTPRequest(method: "GET", scheme: "http", host: "x", path: "/y"), 200, 0, Usage()),
        ])
    func classifies(request: HTTPRequest, status: Int, responseBytes: Int, expected: Usage) {
        let response = HTTPResponse(status: status, body: Data(count: responseBytes))
        #expect(MeteredTransport.usage(of: request, response: response) == expected)
    }

    @Test(
        "a throttled request is not billed, a failed condition is",
        arguments: [("ThrottlingException", 0), ("ConditionalCheckFailedException", 1)])
    func throttling(type: String, units: Int) {
        let request = Self.signed("dynamodb", "POST", target: "DynamoDB_20120810.PutItem", bytes: 10)
        let response = HTTPResponse(status: 400, body: Data(#"{"__type":"com.amazonaws.dynamodb.v20120810#\#(type)"}"#.utf8))
        #expect(MeteredTransport.usage(of: request, response: response).dynamoWriteUnits == units)
    }

    @Test("the meter adds what passes through it, and only answered requests")
    func meter() async throws {
        let inner = RecordingTransport([.respond(200, ""), .respond(200, ""), .fail(TransportError("reset", sent: true))])
        let meter = MeteredTransport(inner)
        _ = try await meter.send(Self.signed("s3", "PUT"), timeout: .seconds(1))
        _ = try await meter.send(Self.signed("s3", "GET"), timeout: .seconds(1))
        await #expect(throws: TransportError.self) { try await meter.send(Self.signed("s3", "PUT"), timeout: .seconds(1)) }
        #expect(
            meter.total
                == Self.usage {
                    $0.s3Writes = 1
                    $0.s3Reads = 1
                })
    }

    @Test(
        "a stored usage with a count out of range is refused naming it",
        arguments: [#"{"s3_writes":-1}"#, #"{"transitions":1e300}"#, #"{"lambda_mb_ms":1000000000000000001}"#, #"{"sqs_requests":"2"}"#])
    func refusesCounts(json: String) {
        #expect(throws: (any Error).self) { try JSONDecoder().decode(Usage.self, from: Data(json.utf8)) }
    }

    @Test("usage adds saturating, subtracts never below zero, and encodes only what it counted")
    func arithmetic() throws {
        let big = Self.usage {
            $0.s3Writes = Usage.maxCount
            $0.transitions = 3
        }
        let sum = big + big
        #expect(sum.s3Writes == Usage.maxCount && sum.transitions == 6)
        #expect((Usage() - big).isEmpty)
        let text = String(decoding: try JSONEncoder().encode(Self.usage { $0.sqsRequests = 2 }), as: UTF8.self)
        #expect(text == #"{"sqs_requests":2}"#)
        #expect(try JSONDecoder().decode(Usage.self, from: Data(text.utf8)) == Self.usage { $0.sqsRequests = 2 })
    }

    @Test("prices default to the documented list prices; PRICE_TABLE replaces the ones it names")
    func prices() throws {
        #expect(try PriceTable(environment: FunctionEnvironment([:])) == PriceTable())
        let table = try PriceTable(environment: FunctionEnvironment(["PRICE_TABLE": #"{"transitions_per_1000":0.0}"#]))
        #expect(table.transitionsPerThousand == 0 && table.s3WritesPerThousand == 0.005)
    }

    @Test(
        "a price table with an unknown key or a price out of range is refused",
        arguments: [#"{"s3_write_per_1000":1}"#, #"{"lambda_gb_second":5e300}"#, #"{"sqs_requests_per_million":-1}"#, "[1]", "{"])
    func refusesPrices(json: String) {
        #expect(throws: AnalemmaError.self) { try PriceTable(environment: FunctionEnvironment(["PRICE_TABLE": json])) }
    }

    @Test("the report prices each service and totals them")
    func report() throws {
        let usage = Self.usage {
            $0.s3Writes = 2_000  // $0.01
            $0.s3Reads = 10_000  // $0.004
            $0.dynamoWriteUnits = 1_000_000  // $0.625
            $0.dynamoReadUnits = 2_000_000  // $0.25
            $0.lambdaRequests = 1_000_000  // $0.20
            $0.lambdaMegabyteMillis = 1024 * 1000 * 1000  // 1,000 GB-s: $0.0166667
            $0.transitions = 4_000  // $0.10
        }
        let report = CostReport(usage: usage, prices: PriceTable(), modelDollars: 0.5)
        #expect(abs(report.usd.s3 - 0.014) < 1e-12)
        #expect(abs(report.usd.dynamoDB - 0.875) < 1e-12)
        #expect(abs(report.usd.lambda - 0.2166667) < 1e-9)
        #expect(abs(report.usd.stepFunctions - 0.1) < 1e-12)
        #expect(abs(report.usd.total - (0.014 + 0.875 + 0.2166667 + 0.1 + 0.5)) < 1e-9)
        #expect(CostReport(usage: usage, prices: PriceTable(), modelDollars: .infinity).usd.model == 0)
        let decoded = try JSONDecoder().decode(CostReport.self, from: try JSONEncoder().encode(report))
        #expect(abs(decoded.usd.total - report.usd.total) < 1e-7 && decoded.usage == usage)
    }
}
