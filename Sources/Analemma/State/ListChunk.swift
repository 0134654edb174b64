#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// One stored chunk of an append-only list field: the items one checkpoint appended, chained to the chunk before.
///
/// Bytes: `AL1` · index · items before · dictionary length · item count · each item's length · skip start ·
/// skip count (all LEB128) · previous chunk's SHA-256 (32 bytes, none for chunk 0) · the skip list (32 bytes each) ·
/// the items, concatenated, raw-deflated against the first `dictionary` bytes of the list's item stream. The
/// dictionary is the list's own beginning (at most 32 KiB, fixed once the list has ``baseChunks`` chunks or 32 KiB),
/// so a chunk of a few items compresses about as well as the whole list and is read with the base alone.
/// The skip list names chunks `skipStart..<index`: the base's chunks at the chunk that completes it, the 16 before
/// at every 16th chunk, so a whole list is found in about chunks/16 rounds of parallel GETs.
package struct ListChunk: Sendable, Equatable {
    /// Most chunks in the base (the dictionary is fixed at the latest from this chunk on).
    package static let baseChunks = 16
    /// Every this many chunks, a chunk lists the ones before it.
    package static let milestone = 16
    /// Most items in one chunk, and most raw bytes in one chunk (a forged header cannot make a reader allocate more).
    package static let maxItems = 1 << 20
    package static let maxBytes = 64 << 20
    static let magic: [UInt8] = Array("AL1".utf8)

    package var index: Int
    /// Items in the chunks before this one.
    package var before: Int
    /// Length of the dictionary: the first bytes of the list's item stream this chunk is compressed against.
    package var dictionary: Int
    /// Each item's raw length.
    package var lengths: [Int]
    /// Hex SHA-256 of chunk `index - 1` (nil for chunk 0).
    package var previous: String?
    package var skipStart: Int
    /// Hex SHA-256 of chunks `skipStart..<index`.
    package var skip: [String]
    /// The items, deflated.
    package var payload: [UInt8]

    package var rawBytes: Int { lengths.reduce(0, +) }

    /// The stored block.
    package func block() -> Block {
        var out = Self.magic
        for n in [index, before, dictionary, lengths.count] + lengths + [skipStart, skip.count] { LEB128.append(n, to: &out) }
        if let previous { out += Self.binary(previous) }
        for hash in skip { out += Self.binary(hash) }
        out += payload
        return Block(bytes: Data(out))
    }

    /// Parses a stored chunk (strict: every count bounded, hashes 32 bytes, nothing missing).
    package static func parse(_ data: Data) throws -> ListChunk {
        let bytes = [UInt8](data)
        guard bytes.starts(with: magic) else { throw AnalemmaError(.invalidState, "list chunk: not an AL1 chunk") }
        var at = magic.count
        func number(_ what: String, max: Int) throws -> Int {
            guard let n = LEB128.read(bytes, at: &at), n <= max else { throw AnalemmaError(.invalidState, "list chunk: bad \(what)") }
            return n
        }
        let index = try number("index", max: Int(Int32.max))
        let before = try number("item count before", max: Int(Int32.max))
        let dictionary = try number("dictionary length", max: Deflate.maxDictionary)
        let count = try number("item count", max: maxItems)
        var lengths: [Int] = []
        lengths.reserveCapacity(count)
        var total = 0
        for _ in 0..<count {
            let n = try number("item length", max: maxBytes)
            total += n
            guard total <= maxBytes else { throw AnalemmaError(.invalidState, "list chunk: more than \(maxBytes) bytes") }
            lengths.append(n)
        }
        let skipStart = try number("skip start", max: index)
        let skipCount = try number("skip count", max: max(baseChunks, milestone))
        guard skipCount == 0 || skipStart + skipCount == index else { throw AnalemmaError(.invalidState, "list chunk: bad skip list") }
        guard index > 0 || (before == 0 && dictionary == 0) else { throw AnalemmaError(.invalidState, "list chunk 0 with items before it") }
        func hash() throws -> String {
            guard at + 32 <= bytes.count else { throw AnalemmaError(.invalidState, "list chunk: truncated") }
            defer { at += 32 }
            return Digest.hex(bytes[at..<at + 32])
        }
        let previous = index > 0 ? try hash() : nil
        var skip: [String] = []
        for _ in 0..<skipCount { skip.append(try hash()) }
        return ListChunk(
            index: index, before: before, dictionary: dictionary, lengths: lengths, previous: previous, skipStart: skipStart, skip: skip,
            payload: Array(bytes[at...]))
    }

    static func binary(_ hex: String) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(32)
        var high: UInt8?
        for c in hex.utf8 {
            let v: UInt8 = c <= 57 ? c &- 48 : c &- 87
            if let h = high {
                out.append(h << 4 | v)
                high = nil
            } else {
                high = v
            }
        }
        return out
    }
}

/// Unsigned LEB128 integers (the chunk header's numbers).
enum LEB128 {
    static func append(_ n: Int, to out: inout [UInt8]) {
        var v = UInt64(max(0, n))
        repeat {
            let byte = UInt8(v & 0x7f)
            v >>= 7
            out.append(v == 0 ? byte : byte | 0x80)
        } while v != 0
    }

    /// The number at `at` (advanced past it), nil when truncated or longer than 9 bytes.
    static func read(_ bytes: [UInt8], at: inout Int) -> Int? {
        var v: UInt64 = 0
        var shift: UInt64 = 0
        while at < bytes.count, shift < 63 {
            let byte = bytes[at]
            at += 1
            v |= UInt64(byte & 0x7f) << shift
            if byte & 0x80 == 0 { return v <= UInt64(Int.max) ? Int(v) : nil }
            shift += 7
        }
        return nil
    }
}

/// The digest that identifies a list by its items: d₀ = 32 zero bytes, dᵢ = SHA-256(dᵢ₋₁ ‖ LEB128(length) ‖ itemᵢ).
/// It is the list field's `sha256`: a later value that starts with the same items has the same digest at that count.
struct ListDigest {
    private(set) var value = [UInt8](repeating: 0, count: 32)

    mutating func add(_ item: some Collection<UInt8>) {
        var input = value
        LEB128.append(item.count, to: &input)
        input += item
        value = Array(Digest.sha256(Data(input)))
    }

    var hex: String { Digest.hex(value) }
}
