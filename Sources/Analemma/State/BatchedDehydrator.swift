#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// A content-addressed block to upload.
public struct Block: Sendable, Equatable {
    public let hash: String
    public let bytes: Data

    public init(bytes: Data) {
        self.bytes = bytes
        self.hash = Digest.hex(Digest.sha256(bytes))
    }
}

/// Turns a state and its previous manifest into the next manifest plus the few blocks that hold what changed.
///
/// Unchanged fields keep their location. Changed fields are encoded one by one (each a separate gzip member, so
/// a ranged GET reads one field alone); small ones are grouped per temperature into one block, large ones get a
/// block each. A checkpoint therefore costs one PUT per temperature that changed plus one per large field.
public struct BatchedDehydrator: Sendable {
    public var registry: TemperatureRegistry
    /// Raw size from which a field gets its own block.
    public var largeFieldBytes: Int

    public init(registry: TemperatureRegistry = TemperatureRegistry(), largeFieldBytes: Int = 64 * 1024) {
        self.registry = registry
        self.largeFieldBytes = largeFieldBytes
    }

    /// The next checkpoint: its manifest and the blocks to upload before it (none when nothing changed).
    public func checkpoint(_ state: StateBag, previous: Manifest?, executionID: String, ownerID: String, segmentIndex: Int) throws -> (
        manifest: Manifest, blocks: [Block]
    ) {
        let checkpoints = (previous?.segmentIndex).map { _ in segmentIndex + 1 } ?? 1
        var refs: [String: FieldRef] = [:]
        var groups: [Temperature: [(name: String, stored: Data, encoding: String, raw: Data, mutations: Int)]] = [:]
        var blocks: [Block] = []
        for name in state.fields.keys.sorted() {
            let raw = state.fields[name]!
            let old = previous?.fields[name]
            let rawHash = Digest.hex(Digest.sha256(raw))
            if var kept = old, kept.sha256 == rawHash, kept.size == raw.count {
                kept.temperature = registry.classify(name, mutations: kept.mutations, checkpoints: checkpoints)
                refs[name] = kept
                continue
            }
            let mutations = (old?.mutations ?? 0) + 1
            let temperature = registry.classify(name, mutations: old == nil ? 0 : mutations, checkpoints: checkpoints)
            let (stored, encoding) = try BlockCodec.encode(raw)
            if raw.count >= largeFieldBytes {
                let block = Block(bytes: stored)
                blocks.append(block)
                refs[name] = FieldRef(
                    block: block.hash, offset: 0, length: stored.count, size: raw.count, sha256: rawHash, encoding: encoding,
                    temperature: temperature, mutations: mutations)
            } else {
                groups[temperature, default: []].append((name, stored, encoding, raw, mutations))
            }
        }
        for temperature in Temperature.allCases {
            guard let members = groups[temperature], !members.isEmpty else { continue }
            var bytes = Data()
            var placed: [(String, Int, Int, Data, String, Int)] = []
            for m in members {
                placed.append((m.name, bytes.count, m.stored.count, m.raw, m.encoding, m.mutations))
                bytes.append(m.stored)
            }
            let block = Block(bytes: bytes)
            blocks.append(block)
            for (name, offset, length, raw, encoding, mutations) in placed {
                refs[name] = FieldRef(
                    block: block.hash, offset: offset, length: length, size: raw.count, sha256: Digest.hex(Digest.sha256(raw)),
                    encoding: encoding, temperature: temperature, mutations: mutations)
            }
        }
        let manifest = Manifest(
            parentManifestID: previous?.manifestID, executionID: executionID, ownerID: ownerID, segmentIndex: segmentIndex, fields: refs)
        return (manifest, blocks)
    }
}
