#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// Mutation-frequency class of a field: decides which group block its changes go to.
package enum Temperature: String, Codable, Sendable, CaseIterable {
    case hot = "HOT"
    case warm = "WARM"
    case cold = "COLD"
}

/// Where one field's bytes are: a byte range of a content-addressed block, plus what verifies it.
package struct FieldRef: Codable, Sendable, Equatable {
    /// Hex SHA-256 of the whole stored block (its name under `owners/<owner>/blocks/`).
    package var block: String
    /// This field's stored bytes within the block (a gzip member, or the raw bytes).
    package var offset: Int
    package var length: Int
    /// Raw (uncompressed) size.
    package var size: Int
    /// Hex SHA-256 of the raw bytes: verifies a ranged read without the rest of the block.
    package var sha256: String
    /// `gzip` or `identity`.
    package var encoding: String
    package var temperature: Temperature
    /// In how many checkpoints this field changed (drives its temperature).
    package var mutations: Int
    /// For an append-only list (`encoding` ``ListShape/encoding``): its chunks; `block` is the last one and `sha256`
    /// the ``ListDigest`` of its items.
    package var list: ListShape?

    package init(
        block: String, offset: Int, length: Int, size: Int, sha256: String, encoding: String, temperature: Temperature, mutations: Int,
        list: ListShape? = nil
    ) {
        (self.block, self.offset, self.length, self.size) = (block, offset, length, size)
        (self.sha256, self.encoding, self.temperature, self.mutations) = (sha256, encoding, temperature, mutations)
        self.list = list
    }
}

/// The shape of an append-only list field's chunk chain (see ``ListChunk``).
package struct ListShape: Codable, Sendable, Equatable {
    /// The `encoding` of a list field's reference.
    package static let encoding = "list"
    package var items: Int
    package var chunks: Int
    /// Hex SHA-256 of the chunk that completes the base (it lists the base's chunks); nil while the base grows.
    package var base: String?
    /// The dictionary length every chunk from the base's on is compressed against.
    package var dictionary: Int?

    package init(items: Int, chunks: Int, base: String? = nil, dictionary: Int? = nil) {
        (self.items, self.chunks, self.base, self.dictionary) = (items, chunks, base, dictionary)
    }
}

/// A checkpoint (a commit record): its fields' locations at one segment, chained to its parent (a Merkle chain: the
/// id is the SHA-256 of the canonical encoding of everything else, parent id and page root included).
///
/// The field table is `root` (a content-addressed tree of ``ManifestPage``s in S3, nil for none) overlaid with
/// `fields` (changed since the tree was last written) and without `removed`. A checkpoint adds its changes to the
/// overlay; once the overlay holds more than ``ManifestPages/overlayLimit`` entries they are folded into the tree,
/// which rewrites only the pages on their paths (``ManifestPages/compact(_:)``). The record stays small whatever
/// the state's size. A manifest written before pages existed is all overlay (no root, no removed) and hashes as it did.
package struct Manifest: Codable, Sendable {
    package var manifestID: String
    package var parentManifestID: String?
    package var executionID: String
    package var ownerID: String
    package var segmentIndex: Int
    /// The overlay: fields changed since `root` was written (all of them when there is no root).
    package var fields: [String: FieldRef]
    /// The execution's trace id (absent in manifests written before it was recorded; part of the hashed content).
    package var traceID: String?
    /// Hash of the root ``ManifestPage`` (a block of the owner), nil when every field is in the overlay.
    package var root: String?
    /// Fields of `root` this checkpoint no longer has (sorted; nil when none).
    package var removed: [String]?
    /// What the commit that wrote this manifest uploaded (block hash → stored bytes); not stored, not hashed.
    package var uploaded: [String: Int] = [:]

    enum CodingKeys: String, CodingKey {
        case manifestID = "manifest_id"
        case parentManifestID = "parent_manifest_id"
        case executionID = "execution_id"
        case ownerID = "owner_id"
        case segmentIndex = "segment_index"
        case fields
        case traceID = "trace_id"
        case root
        case removed
    }

    package init(
        parentManifestID: String?, executionID: String, ownerID: String, segmentIndex: Int, fields: [String: FieldRef],
        traceID: String? = nil, root: String? = nil, removed: Set<String> = []
    ) {
        self.manifestID = ""
        self.traceID = traceID
        self.parentManifestID = parentManifestID
        self.executionID = executionID
        self.ownerID = ownerID
        self.segmentIndex = segmentIndex
        self.fields = fields
        self.root = root
        self.removed = root == nil || removed.isEmpty ? nil : removed.sorted()
        self.manifestID = Digest.hex(Digest.sha256(canonicalBytes(includingID: false)))
    }

    /// Sorted-key JSON; without the id when computing it.
    package func canonicalBytes(includingID: Bool = true) -> Data {
        var copy = self
        if !includingID { copy.manifestID = "" }
        return (try? CanonicalJSON.encode(copy)) ?? Data()
    }

    /// True when the id matches the content (a stored manifest was not altered).
    package var isIntact: Bool {
        manifestID
            == Manifest(
                parentManifestID: parentManifestID, executionID: executionID, ownerID: ownerID, segmentIndex: segmentIndex, fields: fields,
                traceID: traceID, root: root, removed: Set(removed ?? [])
            ).manifestID
    }

    /// Whether the field table is all in the record (no page tree to read).
    package var isFlat: Bool { root == nil }

    /// Names removed from `root` (empty when none).
    package var removedNames: Set<String> { Set(removed ?? []) }
}

extension Manifest: Equatable {
    /// Equal content (what was uploaded to write it is not content).
    package static func == (a: Manifest, b: Manifest) -> Bool { a.canonicalBytes() == b.canonicalBytes() }
}

extension Manifest {
    /// The blocks this manifest's overlay uses that `previous`'s did not, with their stored sizes (a flat
    /// manifest's new blocks; what a commit actually uploaded, pages included, is ``uploaded``).
    package func newBlocks(since previous: Manifest?) -> [String: Int] {
        if !uploaded.isEmpty { return uploaded }
        let old = Set(previous?.fields.values.map(\.block) ?? [])
        var sizes: [String: Int] = [:]
        for ref in fields.values where !old.contains(ref.block) { sizes[ref.block] = max(sizes[ref.block] ?? 0, ref.offset + ref.length) }
        return sizes
    }
}
