#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// Reads state back from a manifest: all of it, or surgically only the fields a step asks for.
///
/// A field inside a group block is fetched with a ranged GET of its own bytes; when the requested fields cover
/// most of a block, the block is read once whole. The GETs run concurrently. Every field is checked against its SHA-256.
public struct StateHydrator: Sendable {
    public let store: any BlockStore

    public init(store: any BlockStore) { self.store = store }

    /// The state at `manifest` (time travel: any manifest of the chain), or only `fields` of it.
    /// Unknown field names are an error naming them.
    public func hydrate(_ manifest: Manifest, fields wanted: [String]? = nil) async throws -> StateBag {
        guard manifest.isIntact else {
            throw AnalemmaError(.invalidState, "manifest \(manifest.manifestID.prefix(12)) does not match its id")
        }
        let names = wanted ?? Array(manifest.fields.keys)
        if let unknown = names.first(where: { manifest.fields[$0] == nil }) {
            throw AnalemmaError(.invalidState, "manifest \(manifest.manifestID.prefix(12)) has no field \(unknown.debugDescription)")
        }
        var byBlock: [String: [String]] = [:]
        for name in names { byBlock[manifest.fields[name]!.block, default: []].append(name) }
        // One GET per job: a whole block when the wanted fields cover most of it, else one ranged GET per field.
        var jobs: [(block: String, range: Range<Int>?, refs: [(String, FieldRef)])] = []
        for (block, members) in byBlock.sorted(by: { $0.key < $1.key }) {
            let refs = members.map { ($0, manifest.fields[$0]!) }
            let wantedBytes = refs.reduce(0) { $0 + $1.1.length }
            let blockEnd = manifest.fields.values.filter { $0.block == block }.map { $0.offset + $0.length }.max() ?? 0
            if refs.count > 1 && wantedBytes * 2 >= blockEnd {
                jobs.append((block, nil, refs))
            } else {
                for (name, ref) in refs { jobs.append((block, ref.offset..<ref.offset + ref.length, [(name, ref)])) }
            }
        }
        let owner = manifest.ownerID
        let store = self.store
        var values: [String: Data] = [:]
        try await withThrowingTaskGroup(of: [(String, Data)].self) { group in
            for job in jobs {
                group.addTask {
                    let bytes = try await store.get(owner: owner, hash: job.block, range: job.range)
                    return try job.refs.map { name, ref in
                        let start = job.range == nil ? ref.offset : 0
                        guard start + ref.length <= bytes.count else {
                            throw AnalemmaError(
                                .invalidState, "block \(job.block.prefix(12)) is shorter than field \(name.debugDescription) needs")
                        }
                        return (name, try BlockCodec.decode(bytes.subdata(in: start..<start + ref.length), ref: ref, field: name))
                    }
                }
            }
            for try await decoded in group { for (name, value) in decoded { values[name] = value } }
        }
        var bag = StateBag()
        try bag.merge(values, from: .kernel)
        return bag
    }
}
