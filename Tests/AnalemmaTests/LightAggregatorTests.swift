import Foundation
import Testing

@testable import Analemma

@Suite("Light aggregator")
struct LightAggregatorTests {
    static let arn = "arn:aws:states:us-east-1:123456789012:mapRun:m/x:run-1"

    static func manifest(files: Int) -> String {
        let succeeded = (0..<files).map { #"{"Key":"map-runs/run-1/SUCCEEDED_\#($0).json","Size":5000000000}"# }.joined(separator: ",")
        return
            #"{"DestinationBucket":"state","MapRunArn":"\#(arn)","ResultFiles":{"FAILED":[{"Key":"map-runs/run-1/FAILED_0.json","Size":1200}],"PENDING":[],"SUCCEEDED":[\#(succeeded)]}}"#
    }

    static let execution = "arn:aws:states:us-east-1:123456789012:execution:m:e-1"
    static let mapRun =
        #"{"mapRunArn":"\#(arn)","executionArn":"\#(execution)","status":"SUCCEEDED","itemCounts":{"pending":0,"running":0,"succeeded":999995,"failed":5,"timedOut":0,"aborted":0,"total":1000000,"resultsWritten":1000000},"executionCounts":{"pending":0,"running":0,"succeeded":999995,"failed":5,"timedOut":0,"aborted":0,"total":1000000}}"#

    @Test("two requests whatever the item count: DescribeMapRun and the manifest; result files never fetched")
    func reads() async throws {
        let transport = RecordingTransport([.respond(200, Self.mapRun), .respond(200, Self.manifest(files: 3))])
        let client = testClient(transport)
        let aggregator = LightAggregator(s3: try S3(client: client), stepFunctions: try StepFunctions(client: client), bucket: "state")
        let stats = try await aggregator.aggregate(
            mapRunArn: Self.arn, executionID: Self.execution, manifestBucket: "state", manifestKey: "map-runs/run-1/manifest.json")
        #expect(transport.requests.count == 2)
        #expect(transport.requests[1].path.hasSuffix("/map-runs/run-1/manifest.json"))
        #expect(stats.itemCounts?.failed == 5 && stats.itemCounts?.total == 1_000_000)
        #expect(stats.resultBytes == 15_000_001_200)
        #expect(stats.manifest == "s3://state/map-runs/run-1/manifest.json")
        #expect(stats.resultFiles?["FAILED"] == [MapAggregate.ResultFile(key: "map-runs/run-1/FAILED_0.json", size: 1200)])
    }

    static let forgeries: [(String, String, String, String)] = [
        (arn, execution, "other", "map-runs/run-1/manifest.json"),  // another bucket
        (arn, execution, "state", "owners/victim/executions/x/events/1.jsonl"),  // any key of the state bucket
        (arn, execution, "state", "map-runs/run-2/manifest.json"),  // another map run's manifest
        (arn, "arn:aws:states:us-east-1:123456789012:execution:m:someone-else", "state", "map-runs/run-1/manifest.json"),
    ]

    @Test(
        "a manifest outside the state bucket or the map run's ResultWriter folder, or a run of another execution, is refused",
        arguments: forgeries)
    func refused(mapRunArn: String, executionID: String, bucket: String, key: String) async throws {
        let transport = RecordingTransport([.respond(200, Self.mapRun), .respond(200, Self.manifest(files: 1))])
        let client = testClient(transport)
        let aggregator = LightAggregator(s3: try S3(client: client), stepFunctions: try StepFunctions(client: client), bucket: "state")
        await #expect {
            _ = try await aggregator.aggregate(mapRunArn: mapRunArn, executionID: executionID, manifestBucket: bucket, manifestKey: key)
        } throws: { ($0 as? AnalemmaError)?.code == .forgedPointer }
        #expect(!transport.requests.contains { $0.method == "GET" }, "nothing read from S3 for a forged event")
    }

    @Test("what the aggregator returns is what map_done reads back; a forged size reads as too large to fetch")
    func contract() async throws {
        let transport = RecordingTransport([.respond(200, Self.mapRun), .respond(200, Self.manifest(files: 1))])
        let client = testClient(transport)
        let aggregator = LightAggregator(s3: try S3(client: client), stepFunctions: try StepFunctions(client: client), bucket: "state")
        let stats = try await aggregator.aggregate(
            mapRunArn: Self.arn, executionID: Self.execution, manifestBucket: "state", manifestKey: "map-runs/run-1/manifest.json")
        #expect(try MapAggregate.decode(CanonicalJSON.encode(stats)) == stats)
        let forged = try MapAggregate.decode(Data(#"{"map_run_arn":"a:b","result_files":{"FAILED":[{"Key":"k","Size":1e300}]}}"#.utf8))
        #expect(forged.resultFiles?["FAILED"]?.first?.size == MapAggregate.ResultFile.largest)
        #expect { _ = try MapAggregate.decode(Data(#"{"item_counts":{"failed":1e300}}"#.utf8)) } throws: {
            ($0 as? AnalemmaError)?.code == .invalidEvent
        }
    }
}

@Suite("S3 listing dates")
struct S3DateTests {
    @Test("LastModified reads as epoch milliseconds in UTC; garbage is nil")
    func lastModified() {
        #expect(S3.epochMillis("2026-11-25T19:06:31.000Z") == 1_795_633_591_000)
        #expect(S3.epochMillis("1970-01-01T00:00:00Z") == 0)
        #expect(S3.epochMillis("yesterday") == nil)
    }
}
