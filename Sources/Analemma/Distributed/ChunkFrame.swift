#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// One chunk as the map's items object stores it: a JSON line `{"chunk": i, "first": f, "items": [...]}` at a byte
/// range of `chunks.jsonl`, so the whole fan-out is one PUT and each child reads its chunk with one ranged GET.
///
/// A child checks what it read: exactly one frame, of the chunk it was sent for. A forged range of the same
/// execution's object therefore reads no other chunk's items under this chunk's name (a range inside an item would
/// have to be a whole frame naming this chunk: the owner's own items, which they could have mapped anyway), and the
/// object itself is found only under the map's prefix in the execution's stored state.
package struct ChunkFrame: Sendable, Equatable {
    /// The chunk's index (0-based).
    package var index: Int
    /// The map-wide index of its first item.
    package var first: Int
    /// Its items, as raw JSON.
    package var items: [Data]

    package init(index: Int, first: Int, items: [Data]) {
        self.index = index
        self.first = first
        self.items = items
    }

    /// The frame's JSON line, without its newline.
    package func encoded() -> Data {
        var out = Data("{\"chunk\":\(index),\"first\":\(first),\"items\":[".utf8)
        for (j, item) in items.enumerated() {
            if j > 0 { out.append(UInt8(ascii: ",")) }
            out.append(item)
        }
        out.append(contentsOf: Array("]}".utf8))
        return out
    }

    /// The frame in `bytes` (exactly one, nothing around it), which must be chunk `index` of a map of `items` items
    /// in chunks of at most `chunkSize` items; anything else is `Analemma.ForgedPointer` (nothing runs on it).
    package static func parse(_ bytes: Data, index: Int, items: Int, chunkSize: Int) throws -> ChunkFrame {
        let refused = AnalemmaError(.forgedPointer, "map_chunk: the range read is not chunk \(index)'s frame")
        guard let members = try? JSONScanner.members(of: bytes), members.count == 3,
            case let fields = Dictionary(members.map { ($0.key, bytes.subdata(in: $0.range)) }, uniquingKeysWith: { a, _ in a }),
            fields.count == 3, let rawItems = fields["items"],
            let chunk = fields["chunk"].flatMap(integer), chunk == index, let first = fields["first"].flatMap(integer),
            let ranges = try? JSONScanner.elements(of: rawItems)
        else { throw refused }
        guard !ranges.isEmpty, ranges.count <= chunkSize, first >= 0, first <= items - ranges.count else { throw refused }
        return ChunkFrame(index: chunk, first: first, items: ranges.map { rawItems.subdata(in: $0) })
    }

    /// A non-negative integer written as plain digits (at most 12 of them).
    static func integer(_ raw: Data) -> Int? {
        guard !raw.isEmpty, raw.count <= 12, raw.allSatisfy({ (48...57).contains($0) }) else { return nil }
        return Int(String(decoding: raw, as: UTF8.self))
    }
}

/// Where a chunk's frame is in the items object: the pointer children and redrive read (`s3://…/chunks.jsonl`) and
/// its byte range. Written as `s3://bucket/key#bytes=first-last` (inclusive, as in an HTTP `Range`) in statistics.
package struct ChunkRange: Sendable, Equatable, Codable {
    package var offset: Int
    package var length: Int

    package init(offset: Int, length: Int) {
        self.offset = offset
        self.length = length
    }

    /// The inclusive byte range for a ranged GET.
    package var bytes: ClosedRange<Int> { offset...(offset + max(length, 1) - 1) }

    /// `s3://bucket/key#bytes=first-last`.
    package func pointer(_ object: S3Location) -> String { "\(object)#bytes=\(bytes.lowerBound)-\(bytes.upperBound)" }
}
