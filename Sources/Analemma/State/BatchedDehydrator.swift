#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// A content-addressed block to upload.
package struct Block: Sendable, Equatable {
    package let hash: String
    package let bytes: Data

    package init(bytes: Data) {
        self.bytes = bytes
        self.hash = Digest.hex(Digest.sha256(bytes))
    }
}

/// Turns a state and its previous manifest into the next manifest plus the few blocks that hold what changed.
///
/// Unchanged fields keep their location. Changed fields are encoded one by one (each a separate gzip member, so
/// a ranged GET reads one field alone); small ones are grouped per temperature into one block, large ones get a
/// block each. A checkpoint therefore costs one PUT per temperature that changed plus one per large field.
package struct BatchedDehydrator: Sendable {
    package var registry: TemperatureRegistry
    /// Raw size from which a field gets its own block.
    package var largeFieldBytes: Int

    package init(registry: TemperatureRegistry = TemperatureRegistry(), largeFieldBytes: Int = 64 * 1024) {
        self.registry = registry
        self.largeFieldBytes = largeFieldBytes
    }

    /// The next checkpoint: its manifest and the blocks to upload before it (none when nothing changed).
    /// `previous` must be flat (every field in its record); a paged one goes through the delta form.
    package func checkpoint(_ state: StateBag, previous: Manifest?, executionID: String, ownerID: String, segmentIndex: Int) throws -> (
        manifest: Manifest, blocks: [Block]
    ) {
        let trace = state.fields["trace_id"].flatMap { try? JSONDecoder().decode(String.self, from: $0) }
        return try checkpoint(
            changes: state.fields, known: previous?.fields ?? [:], overlay: [:], root: nil, removed: [], previous: previous,
            executionID: executionID, ownerID: ownerID, segmentIndex: segmentIndex, traceID: trace ?? previous?.traceID)
    }

    /// The next checkpoint from a delta: `changes` over `previous`, without the fields in `removed`. Fields neither
    /// changed nor removed keep their location (in the overlay or the tree), so a step that hydrated only a few
    /// fields checkpoints without the rest. `known` holds `previous`'s references of the changed fields (resolved
    /// from its tree; default: its overlay). The result's overlay may exceed the limit: the writer compacts it.
    package func checkpoint(
        delta changes: [String: Data], removed: Set<String> = [], previous: Manifest, known: [String: FieldRef]? = nil,
        executionID: String, ownerID: String, segmentIndex: Int
    ) throws -> (manifest: Manifest, blocks: [Block]) {
        let overlay = previous.fields.filter { changes[$0.key] == nil && !removed.contains($0.key) }
        let gone = previous.root == nil ? [] : previous.removedNames.union(removed).subtracting(changes.keys)
        return try checkpoint(
            changes: changes, known: known ?? previous.fields, overlay: overlay, root: previous.root, removed: gone, previous: previous,
            executionID: executionID, ownerID: ownerID, segmentIndex: segmentIndex, traceID: previous.traceID)
    }

    private func checkpoint(
        changes: [String: Data], known: [String: FieldRef], overlay carried: [String: FieldRef], root: String?, removed: Set<String>,
        previous: Manifest?, executionID: String, ownerID: String, segmentIndex: Int, traceID: String?
    ) throws -> (manifest: Manifest, blocks: [Block]) {
        let checkpoints = (previous?.segmentIndex).map { _ in segmentIndex + 1 } ?? 1
        var refs: [String: FieldRef] = [:]
        for (name, var ref) in carried {
            ref.temperature = registry.classify(name, mutations: ref.mutations, checkpoints: checkpoints)
            refs[name] = ref
        }
        var groups: [Temperature: [(name: String, stored: Data, ref: FieldRef)]] = [:]
        var blocks: [Block] = []
        for (name, raw) in changes.sorted(by: { $0.key < $1.key }) {
            let old = known[name]
            let rawHash = Digest.hex(Digest.sha256(raw))
            if var kept = old, kept.sha256 == rawHash, kept.size == raw.count {
                // Unchanged: where it is (a tree entry stays in the tree; an overlay entry is carried above).
                if root == nil || previous?.fields[name] != nil {
                    kept.temperature = registry.classify(name, mutations: kept.mutations, checkpoints: checkpoints)
                    refs[name] = kept
                }
                continue
            }
            let mutations = (old?.mutations ?? 0) + 1
            let temperature = registry.classify(name, mutations: old == nil ? 0 : mutations, checkpoints: checkpoints)
            let (stored, encoding) = try BlockCodec.encode(raw)
            var ref = FieldRef(
                block: "", offset: 0, length: stored.count, size: raw.count, sha256: rawHash, encoding: encoding, temperature: temperature,
                mutations: mutations)
            if raw.count >= largeFieldBytes {
                let block = Block(bytes: stored)
                blocks.append(block)
                ref.block = block.hash
                refs[name] = ref
            } else {
                groups[temperature, default: []].append((name, stored, ref))  // block and offset filled in below
            }
        }
        for temperature in Temperature.allCases {
            guard var members = groups[temperature], !members.isEmpty else { continue }
            var bytes = Data()
            for i in members.indices {
                members[i].ref.offset = bytes.count
                bytes.append(members[i].stored)
            }
            let block = Block(bytes: bytes)
            blocks.append(block)
            for var m in members {
                m.ref.block = block.hash
                refs[m.name] = m.ref
            }
        }
        let manifest = Manifest(
            parentManifestID: previous?.manifestID, executionID: executionID, ownerID: ownerID, segmentIndex: segmentIndex, fields: refs,
            traceID: traceID, root: root, removed: removed)
        return (manifest, blocks)
    }
}
