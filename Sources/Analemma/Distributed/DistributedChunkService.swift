#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// Cuts a map's items into chunks and keeps them in S3 under the execution's prefix
/// (`owners/<owner>/executions/<execution key>/map/<node>/<step>/`): every chunk a ``ChunkFrame`` line of one object,
/// `chunks.jsonl`, and the ItemReader input (`items.json`: a JSON array of `{"chunk", "index", "size", "offset",
/// "length"}`, each naming its frame's byte range) next to it. Two PUTs per map at any item count.
///
/// Chunking rule: enough chunks to keep `maxConcurrency` workers busy for about four waves (so a slow chunk does not
/// hold the map up), but never chunks so small that per-invocation overhead dominates: `ceil(items / (4 ·
/// concurrency))`, at least 1, and at most 1,000 items or 256 KB of items per chunk. A node's `chunk_size` overrides.
package struct DistributedChunkService: Sendable {
    package static let maxItemsPerChunk = 1000
    package static let maxChunkBytes = 256 * 1024
    /// The largest frame a child reads (a chunk is one item when an item is over ``maxChunkBytes``).
    package static let maxFrameBytes = 64 << 20

    package let s3: S3
    package let bucket: String
    /// Tags every object it writes with the execution's trace id (chunk files belong to one execution alone).
    package var traceID: String?
    var tags: [(String, String)] { traceID.map { [("trace_id", $0)] } ?? [] }

    package init(s3: S3, bucket: String) {
        self.s3 = s3
        self.bucket = bucket
    }

    /// Items per chunk for `items` items and `maxConcurrency` workers.
    package static func chunkSize(items: Int, maxConcurrency: Int) -> Int {
        guard items > 0 else { return 1 }
        let waves = 4 * max(1, maxConcurrency)
        return min(maxItemsPerChunk, max(1, (items + waves - 1) / waves))
    }

    /// The raw items of a JSON array, cut into chunks of at most `size` items and `maxChunkBytes` bytes.
    package static func chunks(of array: Data, size: Int) throws -> [[Data]] {
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
    package func prefix(ownerID: String, executionID: String, node: String, step: Int) throws -> StatePointer {
        let key = StatePointer.executionKey(executionID)
        let safeNode = String(
            node.unicodeScalars.map { c in
                (c.isASCII && (c.properties.isAlphabetic || ("0"..."9").contains(c) || c == "-" || c == "_")) ? Character(c) : "_"
            })
        return try StatePointer(bucket: bucket, ownerID: ownerID, path: "executions/\(key)/map/\(safeNode)/\(step)")
    }

    /// The items object's name under a map's prefix.
    package static let itemsObject = "chunks.jsonl"

    /// What ``write(_:under:)`` stored: the ItemReader input, the items object and each chunk's range in it.
    package struct Written: Sendable {
        package var itemReader: S3Location
        package var items: S3Location
        package var ranges: [ChunkRange]
    }

    /// Writes the chunks (one object of frames) and the ItemReader input.
    @discardableResult
    package func write(_ chunks: [[Data]], under prefix: StatePointer) async throws -> Written {
        var body = Data()
        var ranges: [ChunkRange] = []
        var first = 0
        for (i, chunk) in chunks.enumerated() {
            let frame = ChunkFrame(index: i, first: first, items: chunk).encoded()
            guard frame.count <= Self.maxFrameBytes else {
                throw AnalemmaError(.invalidState, "map item \(first) is over \(Self.maxFrameBytes >> 20) MiB: store it as its own field")
            }
            ranges.append(ChunkRange(offset: body.count, length: frame.count))
            body.append(frame)
            body.append(UInt8(ascii: "\n"))
            first += chunk.count
        }
        let items = S3Location(bucket: bucket, key: prefix.key + "/" + Self.itemsObject)
        try await s3.putObject(bucket: bucket, key: items.key, body: body, contentType: "application/jsonl", tags: tags)
        let index = ranges.enumerated().map { i, r in
            JSONValue.object([
                "chunk": .string(items.description), "index": .number(Double(i)), "size": .number(Double(chunks[i].count)),
                "offset": .number(Double(r.offset)), "length": .number(Double(r.length)),
            ])
        }
        let key = prefix.key + "/items.json"
        try await s3.putObject(
            bucket: bucket, key: key, body: JSONValue.array(index).jsonData(), contentType: "application/json", tags: tags)
        return Written(itemReader: S3Location(bucket: bucket, key: key), items: items, ranges: ranges)
    }

    /// The ranges of chunks `indices` as the ItemReader input at `itemReader` lists them (one GET; nil for a chunk the
    /// input gives none, as in a map written before the items object).
    package func ranges(of indices: [Int], itemReader: S3Location) async throws -> [Int: ChunkRange] {
        guard !indices.isEmpty else { return [:] }
        let body = try await s3.getObject(bucket: itemReader.bucket, key: itemReader.key).body
        let entries = try JSONScanner.elements(of: body)
        var out: [Int: ChunkRange] = [:]
        for i in indices where entries.indices.contains(i) {
            let entry = JSONScanner.object(body.subdata(in: entries[i]))
            if let offset = entry?["offset"].flatMap(ChunkFrame.integer), let length = entry?["length"].flatMap(ChunkFrame.integer) {
                out[i] = ChunkRange(offset: offset, length: length)
            }
        }
        return out
    }

    /// Where chunk `index` of the map under `prefix` is, for statistics: its frame's range of the items object, else
    /// (a map written before it) its own chunk object.
    package func pointer(chunk index: Int, range: ChunkRange?, prefix: S3Location) -> String {
        guard let range else { return prefix.appending(Self.chunkName(index)).description }
        return range.pointer(prefix.appending(Self.itemsObject))
    }

    /// `chunk_0001.json`, … (1-based, as in the seed).
    package static func chunkName(_ index: Int) -> String {
        let n = String(index + 1)
        return "chunk_" + String(repeating: "0", count: max(0, 4 - n.count)) + n + ".json"
    }
}

extension DistributedChunkService {
    /// The same service, tagging what it writes with `traceID`.
    package func tracing(_ traceID: String) -> DistributedChunkService {
        var copy = self
        copy.traceID = traceID
        return copy
    }
}
