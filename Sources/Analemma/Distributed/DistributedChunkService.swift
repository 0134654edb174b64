#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// Cuts a map's items into chunks and keeps them in S3 under the execution's prefix
/// (`owners/<owner>/executions/<execution key>/map/<node>/<step>/chunk_0001.json`, …), with the ItemReader input
/// (`items.json`: a JSON array of `{"chunk", "index", "size"}`) next to them.
///
/// Chunking rule: enough chunks to keep `maxConcurrency` workers busy for about four waves (so a slow chunk does not
/// hold the map up), but never chunks so small that per-invocation overhead dominates: `ceil(items / (4 ·
/// concurrency))`, at least 1, and at most 1,000 items or 256 KB of items per chunk. A node's `chunk_size` overrides.
public struct DistributedChunkService: Sendable {
    public static let maxItemsPerChunk = 1000
    public static let maxChunkBytes = 256 * 1024

    public let s3: S3
    public let bucket: String
    /// Tags every object it writes with the execution's trace id (chunk files belong to one execution alone).
    public var traceID: String?
    var tags: [(String, String)] { traceID.map { [("trace_id", $0)] } ?? [] }

    public init(s3: S3, bucket: String) {
        self.s3 = s3
        self.bucket = bucket
    }

    /// Items per chunk for `items` items and `maxConcurrency` workers.
    public static func chunkSize(items: Int, maxConcurrency: Int) -> Int {
        guard items > 0 else { return 1 }
        let waves = 4 * max(1, maxConcurrency)
        return min(maxItemsPerChunk, max(1, (items + waves - 1) / waves))
    }

    /// The raw items of a JSON array, cut into chunks of at most `size` items and `maxChunkBytes` bytes.
    public static func chunks(of array: Data, size: Int) throws -> [[Data]] {
        let ranges: [Range<Int>]
        do { ranges = try JSONScanner.elements(of: array) } catch {
            throw AnalemmaError(.invalidState, "map items are not a JSON array: \(error)")
        }
        var chunks: [[Data]] = []
        var current: [Data] = []
        var bytes = 0
        for r in ranges {
            let item = array.subdata(in: r)
            if !current.isEmpty && (current.count >= size || bytes + item.count > maxChunkBytes) {
                chunks.append(current)
                current = []
                bytes = 0
            }
            current.append(item)
            bytes += item.count
        }
        if !current.isEmpty { chunks.append(current) }
        return chunks
    }

    /// The S3 prefix of one map run (`step` keeps re-runs of a node in a loop apart).
    public func prefix(ownerID: String, executionID: String, node: String, step: Int) throws -> StatePointer {
        let key = StatePointer.executionKey(executionID)
        let safeNode = String(
            node.unicodeScalars.map { c in
                (c.isASCII && (c.properties.isAlphabetic || ("0"..."9").contains(c) || c == "-" || c == "_")) ? Character(c) : "_"
            })
        return try StatePointer(bucket: bucket, ownerID: ownerID, path: "executions/\(key)/map/\(safeNode)/\(step)")
    }

    /// Writes the chunks and the ItemReader input; returns where `items.json` is.
    @discardableResult
    public func write(_ chunks: [[Data]], under prefix: StatePointer) async throws -> S3Location {
        var index: [JSONValue] = []
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (i, chunk) in chunks.enumerated() {
                let key = prefix.key + "/" + Self.chunkName(i)
                var body = Data("[".utf8)
                for (j, item) in chunk.enumerated() {
                    if j > 0 { body.append(UInt8(ascii: ",")) }
                    body.append(item)
                }
                body.append(UInt8(ascii: "]"))
                let s3 = self.s3
                let bucket = self.bucket
                let tags = tags
                group.addTask { try await s3.putObject(bucket: bucket, key: key, body: body, contentType: "application/json", tags: tags) }
                index.append(
                    .object([
                        "chunk": .string(S3Location(bucket: bucket, key: key).description), "index": .number(Double(i)),
                        "size": .number(Double(chunk.count)),
                    ]))
            }
            try await group.waitForAll()
        }
        let key = prefix.key + "/items.json"
        try await s3.putObject(
            bucket: bucket, key: key, body: JSONValue.array(index).jsonData(), contentType: "application/json", tags: tags)
        return S3Location(bucket: bucket, key: key)
    }

    /// `chunk_0001.json`, … (1-based, as in the seed).
    public static func chunkName(_ index: Int) -> String {
        let n = String(index + 1)
        return "chunk_" + String(repeating: "0", count: max(0, 4 - n.count)) + n + ".json"
    }
}

extension DistributedChunkService {
    /// The same service, tagging what it writes with `traceID`.
    public func tracing(_ traceID: String) -> DistributedChunkService {
        var copy = self
        copy.traceID = traceID
        return copy
    }
}
