#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// A map node's statistics - its write - the same for an inline map and a Distributed Map: one type, built by
/// ``MapExecutor`` (inline) and `map_done` (distributed), summarised into `map_finished` events (the viewer reads
/// ``summary``'s keys), streamed by `analemma results` through ``resultsIndex``.
public struct MapStats: Codable, Sendable, Equatable {
    /// One failed item: its chunk, its index among all items (when known) and why.
    public struct FailedItem: Codable, Sendable, Equatable {
        public var chunk: String
        public var index: Int?
        public var error: String
    }

    public enum Mode: String, Codable, Sendable { case inline, distributed }
    public enum Status: String, Codable, Sendable {
        case completed = "COMPLETED"
        case completedWithRisk = "COMPLETED_WITH_RISK"
    }

    public var status: Status
    public var mode: Mode
    public var items: Int
    public var chunks: Int
    public var chunkSize: Int
    public var succeededChunks: Int
    public var failedChunks: Int
    public var failedItemsCount: Int
    /// The first ``listedFailures`` failed items.
    public var failedItems: [FailedItem]
    public var toleratedFailurePercentage: Double
    public var toleratedFailureCount: Int
    /// The failed chunks' input files (their items; each chunk's results are in `…/results/<chunk>`).
    public var failedChunkPointers: [String]
    public var itemReader: String
    /// A JSON array of every chunk's result file, in item order (``MapResultReader``).
    public var resultsIndex: String
    /// Distributed maps: the map run and its ResultWriter manifest.
    public var mapRunArn: String?
    public var manifest: String?

    /// How many failed items are listed by name (the count is always exact).
    public static let listedFailures = 100

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
    public static let summaryKeys = [
        "status", "mode", "items", "chunks", "chunk_size", "succeeded_chunks", "failed_chunks", "failed_items_count",
    ]

    /// The canonical JSON of the stats (the node's write).
    public func jsonData() throws -> Data { try CanonicalJSON.encode(self) }

    /// `map_finished`'s attributes: ``summaryKeys`` of this value, as text.
    public func summary(node: String) throws -> [String: String] {
        var out = ["node": node]
        if case .object(let o) = try JSONValue(json: jsonData()) {
            for key in Self.summaryKeys { if let v = o[key] { out[key] = v.text } }
        }
        return out
    }
}
