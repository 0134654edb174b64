#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// Reads state back from a manifest: all of it, or surgically only the fields a step asks for.
///
/// A field inside a group block is fetched with a ranged GET of its own bytes; when the requested fields cover
/// most of a block, the block is read once whole. Every field is checked against its SHA-256.
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
        var values: [String: Data] = [:]
        for (block, members) in byBlock.sorted(by: { $0.key < $1.key }) {
            let refs = members.map { ($0, manifest.fields[$0]!) }
            let wantedBytes = refs.reduce(0) { $0 + $1.1.length }
            let blockEnd = manifest.fields.values.filter { $0.block == block }.map { $0.offset + $0.length }.max() ?? 0
            if refs.count > 1 && wantedBytes * 2 >= blockEnd {
                let whole = try await store.get(owner: manifest.ownerID, hash: block, range: nil)
                for (name, ref) in refs {
                    guard ref.offset + ref.length <= whole.count else {
                        throw AnalemmaError(.invalidState, "block \(block.prefix(12)) is shorter than field \(name.debugDescription) needs")
                    }
                    values[name] = try BlockCodec.decode(whole.subdata(in: ref.offset..<ref.offset + ref.length), ref: ref, field: name)
                }
            } else {
                for (name, ref) in refs {
                    let stored = try await store.get(owner: manifest.ownerID, hash: block, range: ref.offset..<ref.offset + ref.length)
                    values[name] = try BlockCodec.decode(stored, ref: ref, field: name)
                }
            }
        }
        var bag = StateBag()
        try bag.merge(values, from: .kernel)
        return bag
    }
}
