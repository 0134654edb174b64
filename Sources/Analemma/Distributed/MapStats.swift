#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// A map node's statistics - its write - the same for an inline map and a Distributed Map: one type, built by
/// ``MapExecutor`` (inline) and `map_done` (distributed), summarised into `map_finished` events (the viewer reads
/// ``summary``'s keys), streamed by `analemma results` through ``resultsIndex``.
package struct MapStats: Codable, Sendable, Equatable {
    /// One failed item: its chunk, its index among all items (when known) and why.
    package struct FailedItem: Codable, Sendable, Equatable {
        package var chunk: String
        package var index: Int?
        package var error: String
    }

    package enum Mode: String, Codable, Sendable { case inline, distributed, batch }
    package enum Status: String, Codable, Sendable {
        case completed = "COMPLETED"
        case completedWithRisk = "COMPLETED_WITH_RISK"
    }

    package var status: Status
    package var mode: Mode
    package var items: Int
    package var chunks: Int
    package var chunkSize: Int
    package var succeededChunks: Int
    package var failedChunks: Int
    package var failedItemsCount: Int
    /// The first ``listedFailures`` failed items.
    package var failedItems: [FailedItem]
    package var toleratedFailurePercentage: Double
    package var toleratedFailureCount: Int
    /// The failed chunks' input files (their items; each chunk's results are in `…/results/<chunk>`).
    package var failedChunkPointers: [String]
    package var itemReader: String
    /// A JSON array of every chunk's result file, in item order (``MapResultReader``).
    package var resultsIndex: String
    /// Distributed maps: the map run and its ResultWriter manifest.
    package var mapRunArn: String?
    package var manifest: String?

    /// How many failed items are listed by name (the count is always exact).
    package static let listedFailures = 100

    enum CodingKeys: String, CodingKey {
        case status, mode, items, chunks, manifest
        case chunkSize = "chunk_size"
        case succeededChunks = "succeeded_chunks"
        case failedChunks = "failed_chunks"
        case failedItemsCount = "failed_items_count"
        case failedItems = "failed_items"
        case toleratedFailurePercentage = "tolerated_failure_percentage"
        case toleratedFailureCount = "tolerated_failure_count"
        case failedChunkPointers = "failed_chunk_pointers"
        case itemReader = "item_reader"
        case resultsIndex = "results_index"
        case mapRunArn = "map_run_arn"
    }

    /// The keys `map_finished` carries (and the viewer shows).
    package static let summaryKeys = [
        "status", "mode", "items", "chunks", "chunk_size", "succeeded_chunks", "failed_chunks", "failed_items_count",
        "results_index",
    ]
    /// And the first ``sampled`` failures, as JSON texts: `[{chunk, index, error}]` and the failed chunks' pointers.
    package static let sampleKeys = ["failed_sample", "failed_chunk_pointers"]
    package static let sampled = 10

    /// The canonical JSON of the stats (the node's write).
    package func jsonData() throws -> Data { try CanonicalJSON.encode(self) }

    /// `map_finished`'s attributes: ``summaryKeys`` of this value, as text.
    package func summary(node: String) throws -> [String: String] {
        var out = ["node": node]
        if case .object(let o) = try JSONValue(json: jsonData()) {
            for key in Self.summaryKeys { if let v = o[key] { out[key] = v.text } }
        }
        // the first failures, small: a JSON text of {chunk, index, error} and of chunk pointers (the viewer lists them)
        let sample = failedItems.prefix(Self.sampled).map {
            FailedItem(chunk: $0.chunk, index: $0.index, error: String($0.error.prefix(200)))
        }
        out["failed_sample"] = String(decoding: try CanonicalJSON.encode(sample), as: UTF8.self)
        out["failed_chunk_pointers"] = String(
            decoding: try CanonicalJSON.encode(Array(failedChunkPointers.prefix(Self.sampled))), as: UTF8.self)
        return out
    }
}
