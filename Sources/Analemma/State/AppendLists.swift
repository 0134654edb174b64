#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// Append-only list fields (a workflow's `append_only`: message lists, logs): a list is a chain of ``ListChunk``s and
/// a checkpoint stores only the items it added, so a 200-turn conversation costs its turns once, not 200 times over.
///
/// A new value that starts with the stored items (the same bytes: its ``ListDigest`` at the stored count is the
/// field's `sha256`) appends one chunk; any other value (trimmed, rewritten, reordered) starts a new chain: nothing
/// is ever lost, the rewrite just costs what a plain field would. Chunks are content-addressed blocks: references,
/// GC, the sweeper and forks see them through ``chain(_:owner:skipping:tolerant:)``.
package struct AppendLists: Sendable {
    package let store: any BlockStore
    let chunks: ImmutableCache<ListChunk>
    /// Decoded list beginnings (the dictionaries), by the hash of the chunk that completes the base.
    let bases: ImmutableCache<[UInt8]>

    package init(store: any BlockStore, cacheCapacity: Int = 4096) {
        self.store = store
        chunks = ImmutableCache(capacity: cacheCapacity)
        bases = ImmutableCache(capacity: 64)
    }

    /// What a checkpoint stores for a list field's new value.
    package enum Write: Sendable, Equatable {
        /// The value is the stored list: nothing to write.
        case unchanged
        /// One new chunk and the field's new reference.
        case appended(FieldRef, Block)
        /// Not a non-empty JSON array (or too large for one chunk): stored as a plain field.
        case plain
    }

    /// The write for `value` over `known` (the field's current reference, if any).
    package func write(_ value: Data, known: FieldRef?, owner: String) async throws -> Write {
        guard let ranges = try? JSONScanner.elements(of: value), !ranges.isEmpty else { return .plain }
        let bytes = [UInt8](value)
        var digest = ListDigest()
        var shape: ListShape?
        if let known, known.encoding == ListShape.encoding, let stored = known.list, stored.items <= ranges.count {
            for r in ranges[0..<stored.items] { digest.add(bytes[r]) }
            if digest.hex == known.sha256 {
                if stored.items == ranges.count { return .unchanged }
                shape = stored
            } else {
                digest = ListDigest()
            }
        }
        let start = shape?.items ?? 0
        let added = ranges[start...]
        let raw = added.reduce(0) { $0 + $1.count }
        guard added.count <= ListChunk.maxItems, raw <= ListChunk.maxBytes else { return .plain }
        for r in added { digest.add(bytes[r]) }
        let index = shape?.chunks ?? 0
        let rawBefore = ranges[0..<start].reduce(0) { $0 + $1.count }
        let completesBase =
            shape?.base == nil && index > 0 && (rawBefore >= Deflate.maxDictionary || index == ListChunk.baseChunks)
        let dictionary = min(Deflate.maxDictionary, shape?.dictionary ?? rawBefore)
        var prefix: [UInt8] = []
        prefix.reserveCapacity(dictionary)
        for r in ranges where prefix.count < dictionary { prefix += bytes[r].prefix(dictionary - prefix.count) }
        var items: [UInt8] = []
        items.reserveCapacity(raw)
        for r in added { items += bytes[r] }
        let skipStart = completesBase ? 0 : (index > 0 && index % ListChunk.milestone == 0 ? index - ListChunk.milestone : index)
        let skip = try await hashes(skipStart..<index, endingAt: known?.block, owner: owner)
        let chunk = ListChunk(
            index: index, before: start, dictionary: prefix.count, lengths: added.map(\.count), previous: index > 0 ? known?.block : nil,
            skipStart: skipStart, skip: skip, payload: try Deflate.compress(items, dictionary: prefix[...]))
        let block = chunk.block()
        chunks.insert(owner + "#" + block.hash, chunk)
        let next = ListShape(
            items: ranges.count, chunks: index + 1, base: completesBase ? block.hash : shape?.base,
            dictionary: completesBase ? prefix.count : shape?.dictionary)
        let size = 2 + ranges.reduce(0) { $0 + $1.count } + ranges.count - 1
        let ref = FieldRef(
            block: block.hash, offset: 0, length: block.bytes.count, size: size, sha256: digest.hex, encoding: ListShape.encoding,
            temperature: known?.temperature ?? .warm, mutations: (known?.mutations ?? 0) + 1, list: next)
        return .appended(ref, block)
    }

    /// The hashes of chunks `range` of the chain whose last chunk (`range.upperBound - 1`) is `last`, walking back.
    func hashes(_ range: Range<Int>, endingAt last: String?, owner: String) async throws -> [String] {
        guard !range.isEmpty, var hash = last else { return [] }
        var out = [hash]
        while out.count < range.count {
            guard let previous = try await chunk(hash, owner: owner).previous else {
                throw AnalemmaError(.invalidState, "list chunk \(hash.prefix(12)) ends its chain early")
            }
            hash = previous
            out.append(hash)
        }
        return out.reversed()
    }

    /// One chunk, verified against its hash.
    func chunk(_ hash: String, owner: String) async throws -> ListChunk {
        try await chunks.value(owner + "#" + hash) {
            let stored = try await store.get(owner: owner, hash: hash, range: nil)
            guard Digest.hex(Digest.sha256(stored)) == hash else {
                throw AnalemmaError(.invalidState, "list chunk \(hash.prefix(12)) does not match its hash (corrupt or tampered)")
            }
            return try ListChunk.parse(stored)
        }
    }
}
