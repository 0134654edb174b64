#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// What the light aggregator returns for a finished Distributed Map, and `map_done` reads back (the state machine
/// passes it as `kernel.map_agg.stats`). `map_done` trusts none of it but the map run's ARN and its FAILED result
/// files, and those only after DescribeMapRun and the ResultWriter prefix agree (`verifiedMapRun`).
package struct MapAggregate: Codable, Sendable, Equatable {
    /// Item or child-execution counts (DescribeMapRun's).
    package struct Counts: Codable, Sendable, Equatable {
        package var succeeded, failed, pending, running, timedOut, aborted, total: Int
        enum CodingKeys: String, CodingKey {
            case succeeded, failed, pending, running, aborted, total
            case timedOut = "timed_out"
        }
        init(_ c: StepFunctions.MapRun.Counts) {
            (succeeded, failed, pending, running, timedOut, aborted, total) =
                (c.succeeded, c.failed, c.pending, c.running, c.timedOut, c.aborted, c.total)
        }
    }

    /// One ResultWriter result file, as the ResultWriter manifest lists it.
    /// https://docs.aws.amazon.com/step-functions/latest/dg/input-output-resultwriter.html
    package struct ResultFile: Codable, Sendable, Equatable {
        package var key: String
        /// Bytes; a size that is not a whole number of bytes up to 1 TiB reads as 1 TiB (too large to fetch).
        package var size: Int?
        enum CodingKeys: String, CodingKey {
            case key = "Key"
            case size = "Size"
        }
        package init(key: String, size: Int?) {
            self.key = key
            self.size = size
        }
        package init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            key = try c.decode(String.self, forKey: .key)
            if c.contains(.size), try !c.decodeNil(forKey: .size) {
                size = (try? c.decode(Int.self, forKey: .size)).flatMap { (0...Self.largest).contains($0) ? $0 : nil } ?? Self.largest
            }
        }
        static let largest = 1 << 40
    }

    package var mapRunArn: String?
    package var status: String?
    package var bucket: String?
    /// The ResultWriter manifest.
    package var manifest: String?
    package var itemCounts: Counts?
    package var executionCounts: Counts?
    /// The manifest's result files by status (`SUCCEEDED`, `FAILED`, `PENDING`).
    package var resultFiles: [String: [ResultFile]]?
    package var resultBytes: Int?
    /// Bytes the aggregator read (the manifest only).
    package var bytesRead: Int?

    enum CodingKeys: String, CodingKey {
        case status, bucket, manifest
        case mapRunArn = "map_run_arn"
        case itemCounts = "item_counts"
        case executionCounts = "execution_counts"
        case resultFiles = "result_files"
        case resultBytes = "result_bytes"
        case bytesRead = "bytes_read"
    }

    package init() {}

    /// Decodes `kernel.map_agg.stats`; anything that is not this shape is `Analemma.InvalidEvent`.
    package static func decode(_ raw: Data) throws -> MapAggregate {
        do { return try JSONDecoder().decode(MapAggregate.self, from: raw) } catch {
            throw AnalemmaError(.invalidEvent, "map_done: kernel.map_agg.stats is not the light aggregator's statistics: \(error)")
        }
    }
}
