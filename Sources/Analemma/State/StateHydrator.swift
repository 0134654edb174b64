#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// Reads state back from a manifest: all of it, or surgically only the fields a step asks for.
///
/// A field inside a group block is fetched with a ranged GET of its own bytes; when the requested fields cover
/// most of a block, the block is read once whole. The GETs run concurrently. Every field is checked against its SHA-256.
package struct StateHydrator: Sendable {
    package let store: any BlockStore
    /// The manifests' page trees (field references are looked up there when not in the record).
    package let pages: ManifestPages

    package init(store: any BlockStore, pages: ManifestPages? = nil) {
        self.store = store
        self.pages = pages ?? ManifestPages(store: store)
    }

    /// The state at `manifest` (time travel: any manifest of the chain), or only `fields` of it.
    /// Unknown field names are an error naming them.
    package func hydrate(_ manifest: Manifest, fields wanted: [String]? = nil) async throws -> StateBag {
        guard manifest.isIntact else {
            throw AnalemmaError(.invalidState, "manifest \(manifest.manifestID.prefix(12)) does not match its id")
        }
        let table = if let wanted { try await pages.refs(manifest, wanted) } else { try await pages.all(manifest) }
        if let unknown = wanted?.first(where: { table[$0] == nil }) {
            throw AnalemmaError(.invalidState, "manifest \(manifest.manifestID.prefix(12)) has no field \(unknown.debugDescription)")
        }
        return try await read(table, owner: manifest.ownerID)
    }

    /// Those of `fields` that `manifest` has (the others are left out, not an error).
    package func hydrate(_ manifest: Manifest, present fields: [String]) async throws -> StateBag {
        try await read(try await pages.refs(manifest, fields), owner: manifest.ownerID)
    }

    /// Whether `manifest` has the field `name` (reads at most its path's pages).
    package func has(_ manifest: Manifest, _ name: String) async throws -> Bool {
        try await pages.refs(manifest, [name])[name] != nil
    }

    /// The last `count` items of the append-only list field `name` at `manifest` (each raw JSON): reads the chunks
    /// that hold them and, once per container, the list's base. A plain array field is read whole.
    package func last(_ count: Int, of name: String, at manifest: Manifest) async throws -> [Data] {
        guard let ref = try await pages.refs(manifest, [name])[name] else {
            throw AnalemmaError(.invalidState, "manifest \(manifest.manifestID.prefix(12)) has no field \(name.debugDescription)")
        }
        if ref.encoding == ListShape.encoding {
            return try await pages.lists.last(count, of: ref, owner: manifest.ownerID, field: name).map { Data($0) }
        }
        let value = try await read([name: ref], owner: manifest.ownerID)[name] ?? Data()
        return try JSONScanner.elements(of: value).suffix(max(0, count)).map { value.subdata(in: $0) }
    }

    /// The names of every field at `manifest` (reads the whole tree).
    package func names(_ manifest: Manifest) async throws -> [String] { try await pages.all(manifest).keys.sorted() }

    private func read(_ table: [String: FieldRef], owner: String) async throws -> StateBag {
        var byBlock: [String: [(String, FieldRef)]] = [:]
        var lists: [(String, FieldRef)] = []
        for (name, ref) in table {
            if ref.encoding == ListShape.encoding { lists.append((name, ref)) } else { byBlock[ref.block, default: []].append((name, ref)) }
        }
        // One GET per job: one ranged GET of the span when the wanted fields cover most of it, else one per field.
        var jobs: [(block: String, range: Range<Int>, refs: [(String, FieldRef)])] = []
        for (block, refs) in byBlock.sorted(by: { $0.key < $1.key }) {
            let wantedBytes = refs.reduce(0) { $0 + $1.1.length }
            let start = refs.map(\.1.offset).min() ?? 0
            let end = refs.map { $0.1.offset + $0.1.length }.max() ?? 0
            if refs.count > 1 && wantedBytes * 2 >= end - start {
                jobs.append((block, start..<end, refs))
            } else {
                for (name, ref) in refs { jobs.append((block, ref.offset..<ref.offset + ref.length, [(name, ref)])) }
            }
        }
        let store = self.store
        var values: [String: Data] = [:]
        try await withThrowingTaskGroup(of: [(String, Data)].self) { group in
            for job in jobs {
                group.addTask {
                    let bytes = try await store.get(owner: owner, hash: job.block, range: job.range)
                    return try job.refs.map { name, ref in
                        let start = ref.offset - job.range.lowerBound
                        guard start + ref.length <= bytes.count else {
                            throw AnalemmaError(
                                .invalidState, "block \(job.block.prefix(12)) is shorter than field \(name.debugDescription) needs")
                        }
                        return (name, try BlockCodec.decode(bytes.subdata(in: start..<start + ref.length), ref: ref, field: name))
                    }
                }
            }
            for (name, ref) in lists {
                group.addTask { [pages] in [(name, try await pages.lists.value(ref, owner: owner, field: name))] }
            }
            for try await decoded in group { for (name, value) in decoded { values[name] = value } }
        }
        var bag = StateBag()
        try bag.merge(values, from: .kernel)
        return bag
    }
}
