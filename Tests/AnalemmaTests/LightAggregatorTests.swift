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

    static let mapRun =
        #"{"mapRunArn":"\#(arn)","status":"SUCCEEDED","itemCounts":{"pending":0,"running":0,"succeeded":999995,"failed":5,"timedOut":0,"aborted":0,"total":1000000,"resultsWritten":1000000},"executionCounts":{"pending":0,"running":0,"succeeded":999995,"failed":5,"timedOut":0,"aborted":0,"total":1000000}}"#

    @Test("two requests whatever the item count: the manifest and DescribeMapRun; result files never fetched")
    func reads() async throws {
        let transport = RecordingTransport([.respond(200, Self.manifest(files: 3)), .respond(200, Self.mapRun)])
        let client = testClient(transport)
        let aggregator = LightAggregator(s3: try S3(client: client), stepFunctions: try StepFunctions(client: client), bucket: "state")
        let stats = try await aggregator.aggregate(
            mapRunArn: Self.arn, manifestBucket: "state", manifestKey: "map-runs/run-1/manifest.json")
        #expect(transport.requests.count == 2)
        #expect(transport.requests[0].path.hasSuffix("/map-runs/run-1/manifest.json"))
        #expect(try stats.value(at: "item_counts.failed") == .number(5) && stats.value(at: "item_counts.total") == .number(1_000_000))
        #expect(try stats.value(at: "result_bytes") == .number(15_000_001_200))
        #expect(try stats.value(at: "manifest") == .string("s3://state/map-runs/run-1/manifest.json"))
    }

    @Test("a manifest outside the state bucket, or of another map run, is refused")
    func refused() async throws {
        let client = testClient(RecordingTransport([.respond(200, Self.manifest(files: 1))]))
        let aggregator = LightAggregator(s3: try S3(client: client), stepFunctions: try StepFunctions(client: client), bucket: "state")
        await #expect { _ = try await aggregator.aggregate(mapRunArn: Self.arn, manifestBucket: "other", manifestKey: "k") } throws: {
            ($0 as? AnalemmaError)?.code == .forgedPointer
        }
        await #expect { _ = try await aggregator.aggregate(mapRunArn: "arn:other", manifestBucket: "state", manifestKey: "k") } throws: {
            "\($0)".contains("belongs to map run")
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
