import Foundation
import Testing

@testable import Analemma

@Suite("Map statistics: one contract for inline and distributed maps")
struct MapStatsTests {
    static let stats = MapStats(
        status: .completedWithRisk, mode: .distributed, items: 10, chunks: 2, chunkSize: 5, succeededChunks: 1, failedChunks: 1,
        failedItemsCount: 2, failedItems: [.init(chunk: "chunk_0001.json", index: 3, error: "boom")], toleratedFailurePercentage: 50,
        toleratedFailureCount: 2, failedChunkPointers: ["s3://b/p/chunk_0001.json"], itemReader: "s3://b/p/items.json",
        resultsIndex: "s3://b/p/results/index.json", mapRunArn: "arn:m", manifest: "s3://b/map-runs/r/manifest.json")

    @Test("the JSON round-trips and every summary key is one of its fields")
    func roundTrip() throws {
        let data = try Self.stats.jsonData()
        #expect(try JSONDecoder().decode(MapStats.self, from: data) == Self.stats)
        let keys = Set((JSONScanner.object(data) ?? [:]).keys)
        #expect(Set(MapStats.summaryKeys).isSubset(of: keys))
        let summary = try Self.stats.summary(node: "score")
        #expect(summary["failed_items_count"] == "2" && summary["mode"] == "distributed" && summary["node"] == "score")
        let sample = try JSONValue(json: Data((summary["failed_sample"] ?? "").utf8))
        #expect(try sample.value(at: "[0].error") == .string("boom"))
        #expect(try sample.value(at: "[0].index") == .number(3))
        #expect(summary["failed_chunk_pointers"] == #"["s3://b/p/chunk_0001.json"]"#)
    }

    @Test("every map_finished field the viewer reads is one the statistics carry")
    func viewerFields() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let page = try String(contentsOf: root.appendingPathComponent("Deploy/viewer/index.html"), encoding: .utf8)
        // `f` is the map_finished event's attributes in the viewer's map panel.
        let read = page.matches(of: /\bf\.([a-z_]+)/).map { String($0.1) }
        #expect(!read.isEmpty, "the viewer no longer reads map_finished: update this test")
        for field in read {
            #expect(
                (MapStats.summaryKeys + MapStats.sampleKeys).contains(field), "viewer reads \(field), which map_finished does not carry")
        }
    }
}
