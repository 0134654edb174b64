#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// Reading append-only lists: whole, the last items, or only the chain's block names (for GC reachability).
extension AppendLists {
    /// The whole list as JSON (`[item,item,…]`), checked against the field's digest.
    package func value(_ ref: FieldRef, owner: String, field: String) async throws -> Data {
        let items = try await self.items(ref, owner: owner, field: field)
        var out = Data("[".utf8)
        for (i, item) in items.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            out.append(contentsOf: item)
        }
        out.append(UInt8(ascii: "]"))
        return out
    }

    /// Every item, in order.
    package func items(_ ref: FieldRef, owner: String, field: String) async throws -> [[UInt8]] {
        let shape = try self.shape(ref, field)
        var found: [Int: ListChunk] = [:]
        var named: [Int: String] = [shape.chunks - 1: ref.block]
        var unindexed = shape.base.map { [$0] } ?? []
        // Rounds of parallel GETs: each chunk names the one before it, and milestones name sixteen.
        while found.count < shape.chunks {
            let wanted = named.filter { found[$0.key] == nil }.map { ($0.value, Optional($0.key)) } + unindexed.map { ($0, Int?.none) }
            unindexed = []
            guard !wanted.isEmpty else { throw AnalemmaError(.invalidState, "list field \(field.debugDescription): its chain is broken") }
            for (hash, expected, chunk) in try await fetch(wanted, owner: owner) {
                guard chunk.index < shape.chunks, expected.map({ $0 == chunk.index }) ?? true,
                    named[chunk.index].map({ $0 == hash }) ?? true
                else {
                    throw AnalemmaError(.invalidState, "list field \(field.debugDescription): chunk \(hash.prefix(12)) is out of place")
                }
                named[chunk.index] = hash
                found[chunk.index] = chunk
                var revealed: [(Int, String)] = chunk.skip.enumerated().map { (chunk.skipStart + $0.offset, $0.element) }
                if let previous = chunk.previous { revealed.append((chunk.index - 1, previous)) }
                for (index, hash) in revealed {
                    if let known = named[index], known != hash {
                        throw AnalemmaError(.invalidState, "list field \(field.debugDescription): two chunks claim place \(index)")
                    }
                    named[index] = hash
                }
            }
        }
        var stream: [UInt8] = []
        var items: [[UInt8]] = []
        items.reserveCapacity(min(shape.items, ListChunk.maxItems))
        var digest = ListDigest()
        for index in 0..<shape.chunks {
            guard let chunk = found[index], chunk.before == items.count else {
                throw AnalemmaError(.invalidState, "list field \(field.debugDescription): chunk \(index) does not follow the one before")
            }
            let raw = try decode(chunk, dictionary: stream, field: field)
            if stream.count < Deflate.maxDictionary { stream += raw.prefix(Deflate.maxDictionary - stream.count) }
            for item in Self.split(raw, chunk.lengths) {
                digest.add(item)
                items.append(Array(item))
            }
        }
        guard items.count == shape.items, digest.hex == ref.sha256 else {
            throw AnalemmaError(.invalidState, "list field \(field.debugDescription) does not match its digest (corrupt or tampered)")
        }
        return items
    }

    /// The last `count` items (fewer when the list is shorter): the chunks that hold them, and the list's base.
    package func last(_ count: Int, of ref: FieldRef, owner: String, field: String) async throws -> [[UInt8]] {
        let shape = try self.shape(ref, field)
        let want = max(0, min(count, shape.items))
        var walked: [ListChunk] = []
        var hash: String? = ref.block
        while let h = hash, walked.last.map({ $0.before > shape.items - want }) ?? true {
            let chunk = try await self.chunk(h, owner: owner)
            guard chunk.index == shape.chunks - 1 - walked.count else {
                throw AnalemmaError(.invalidState, "list field \(field.debugDescription): chunk \(h.prefix(12)) is out of place")
            }
            walked.append(chunk)
            hash = chunk.previous
        }
        let needed = walked.map(\.dictionary).max() ?? 0
        var dictionary: [UInt8] = []
        if needed > 0 {
            guard let base = shape.base else {  // the base still grows: at most 16 chunks or 32 KiB, read it whole
                return Array(try await items(ref, owner: owner, field: field).suffix(want))
            }
            dictionary = try await bases.value(owner + "#" + base) { try await self.base(base, owner: owner, field: field) }
        }
        guard dictionary.count >= needed else {
            throw AnalemmaError(.invalidState, "list field \(field.debugDescription): a chunk needs more than the list's base")
        }
        var items: [[UInt8]] = []
        for chunk in walked.reversed() {
            items += Self.split(try decode(chunk, dictionary: dictionary, field: field), chunk.lengths).map(Array.init)
        }
        return Array(items.suffix(want))
    }

    /// The hashes of every chunk `ref`'s chain reaches, but not those in `seen` (nor what lies behind them). With
    /// `tolerant`, a chunk that does not exist is skipped (a commit that crashed before uploading it).
    package func chain(_ ref: FieldRef, owner: String, skipping seen: Set<String> = [], tolerant: Bool = false) async throws -> [String] {
        guard ref.encoding == ListShape.encoding, ref.list != nil, !seen.contains(ref.block) else { return [] }
        var out: [String] = []
        var visited = seen
        var frontier = [ref.block] + (ref.list?.base.map { [$0] } ?? [])
        while !frontier.isEmpty {
            let wanted = frontier.filter { visited.insert($0).inserted }
            frontier = []
            for (hash, _, chunk) in try await fetch(wanted.map { ($0, nil) }, owner: owner, tolerant: tolerant) {
                out.append(hash)
                frontier += chunk.skip + (chunk.previous.map { [$0] } ?? [])
            }
        }
        return out
    }

    func shape(_ ref: FieldRef, _ field: String) throws -> ListShape {
        guard ref.encoding == ListShape.encoding, let shape = ref.list, shape.chunks >= 1, shape.items >= 0 else {
            throw AnalemmaError(.invalidState, "field \(field.debugDescription) is not a stored list")
        }
        return shape
    }

    /// The list's first bytes up to the base's end, from the base chunks the completing chunk names.
    func base(_ hash: String, owner: String, field: String) async throws -> [UInt8] {
        let last = try await chunk(hash, owner: owner)
        let names = last.skip.enumerated().map { ($0.element, Optional(last.skipStart + $0.offset)) }
        let fetched = try await fetch(names, owner: owner).sorted { $0.2.index < $1.2.index }
        var stream: [UInt8] = []
        for (i, (_, expected, chunk)) in fetched.enumerated() {
            guard chunk.index == expected, chunk.index == i else {
                throw AnalemmaError(.invalidState, "list field \(field.debugDescription): base chunk \(i) is out of place")
            }
            stream += try decode(chunk, dictionary: stream, field: field)
        }
        guard stream.count >= last.dictionary else {
            throw AnalemmaError(.invalidState, "list field \(field.debugDescription): its base is incomplete")
        }
        return Array(stream.prefix(last.dictionary))
    }

    /// A chunk's items, raw.
    func decode(_ chunk: ListChunk, dictionary: [UInt8], field: String) throws -> [UInt8] {
        guard chunk.dictionary <= dictionary.count else {
            throw AnalemmaError(.invalidState, "list field \(field.debugDescription): chunk \(chunk.index) needs a longer dictionary")
        }
        do {
            return try Deflate.decompress(chunk.payload, dictionary: dictionary[0..<chunk.dictionary], count: chunk.rawBytes)
        } catch {
            throw AnalemmaError(.invalidState, "list field \(field.debugDescription): chunk \(chunk.index) is unreadable: \(error)")
        }
    }

    /// Fetches chunks concurrently (at most ``ConcurrentRequests`` at a time).
    func fetch(_ wanted: [(String, Int?)], owner: String, tolerant: Bool = false) async throws -> [(String, Int?, ListChunk)] {
        try await ConcurrentRequests.map(wanted) { hash, expected in
            do { return (hash, expected, try await self.chunk(hash, owner: owner)) } catch let e as AWSError
                where tolerant && e.status == 404
            {
                return nil
            }
        }.compactMap { $0 }
    }

    static func split(_ raw: [UInt8], _ lengths: [Int]) -> [ArraySlice<UInt8>] {
        var at = 0
        return lengths.map { n in
            defer { at += n }
            return raw[at..<at + n]
        }
    }
}
