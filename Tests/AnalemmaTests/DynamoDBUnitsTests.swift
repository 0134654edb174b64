import Foundation
import Testing

@testable import Analemma

@Suite("DynamoDB request units counted from the items a request writes or a response returns")
struct DynamoDBUnitsTests {
    static func s(_ bytes: Int) -> String { #"{"S":"\#(String(repeating: "x", count: bytes))"}"# }
    static func item(_ bytes: Int) -> String { #"{"pk":{"S":"a"},"body":\#(s(bytes))}"# }

    @Test(
        "writes: a unit per KB of each item, rounded up per item; twice in a transaction",
        arguments: [
            ("PutItem", #"{"TableName":"t","Item":\#(item(3000))}"#, 3),
            ("PutItem", #"{"TableName":"t","Item":\#(item(1000))}"#, 1),  // 2+1 + 4+1000 = 1007 bytes
            ("PutItem", #"{"TableName":"t","Item":\#(item(1020))}"#, 2),  // 1027 bytes
            (
                "BatchWriteItem",
                #"{"RequestItems":{"t":[\#((0..<25).map { _ in #"{"PutRequest":{"Item":\#(item(10))}}"# }.joined(separator: ","))]}}"#, 25
            ),
            ("BatchWriteItem", #"{"RequestItems":{"t":[{"DeleteRequest":{"Key":{"pk":{"S":"a"}}}}]}}"#, 1),
            (
                "TransactWriteItems",
                #"{"TransactItems":[{"Put":{"Item":\#(item(1500))}},{"Update":{"Key":{"pk":{"S":"b"}},"ExpressionAttributeValues":{":v":{"N":"1"}}}},{"ConditionCheck":{"Key":{"pk":{"S":"c"}}}}]}"#,
                2 * 2 + 2 + 2
            ),
            ("UpdateItem", #"{"Key":{"pk":{"S":"a"}},"ExpressionAttributeValues":{":v":\#(s(2100))}}"#, 3),
            ("DeleteItem", #"{"Key":{"pk":{"S":"a"}}}"#, 1),
            ("PutItem", "not json", 1),
            ("DescribeTable", "{}", 0),
            ("GetItem", "{}", 0),
        ])
    func writes(operation: String, body: String, units: Int) {
        #expect(DynamoDBUnits.writes(operation, request: Data(body.utf8)) == units)
    }

    @Test(
        "reads: a unit per 4 KB when consistent, half otherwise; a query's items summed; twice in a transaction",
        arguments: [
            ("GetItem", #"{"ConsistentRead":true}"#, #"{"Item":\#(item(5000))}"#, 2),
            ("GetItem", "{}", #"{"Item":\#(item(5000))}"#, 1),
            ("GetItem", #"{"ConsistentRead":true}"#, "{}", 1),  // an item not found still costs a unit
            ("Query", #"{"ConsistentRead":true}"#, #"{"Items":[\#((0..<10).map { _ in item(1000) }.joined(separator: ","))]}"#, 3),
            ("BatchGetItem", "{}", #"{"Responses":{"t":[\#(item(10)),\#(item(10)),\#(item(10))]}}"#, 3),
            ("TransactGetItems", "{}", #"{"Responses":[{"Item":\#(item(4097))},{"Item":\#(item(1))}]}"#, 2 * 2 + 2),
            ("PutItem", "{}", "{}", 0),
        ])
    func reads(operation: String, request: String, response: String, units: Int) {
        #expect(DynamoDBUnits.reads(operation, request: Data(request.utf8), response: Data(response.utf8)) == units)
    }

    @Test(
        "attribute values are sized as DynamoDB documents",
        arguments: [
            (#"{"S":"héllo"}"#, 6), (#"{"N":"123.45"}"#, 4), (#"{"N":"-1"}"#, 2), (#"{"B":"AAAA"}"#, 3), (#"{"BOOL":true}"#, 1),
            (#"{"NULL":true}"#, 1), (#"{"SS":["ab","c"]}"#, 3), (#"{"L":[{"S":"ab"},{"N":"1"}]}"#, 3 + 3 + 3),
            (#"{"M":{"k":{"S":"v"}}}"#, 3 + 1 + 1 + 1), (#"{"X":1}"#, 0),
        ])
    func values(json: String, size: Int) throws {
        #expect(DynamoDBUnits.valueSize(try JSONDecoder().decode(JSONValue.self, from: Data(json.utf8))) == size)
    }
}
