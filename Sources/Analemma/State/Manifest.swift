#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// Mutation-frequency class of a field: decides which group block its changes go to.
public enum Temperature: String, Codable, Sendable, CaseIterable {
    case hot = "HOT"
    case warm = "WARM"
    case cold = "COLD"
}

/// Where one field's bytes are: a byte range of a content-addressed block, plus what verifies it.
public struct FieldRef: Codable, Sendable, Equatable {
    /// Hex SHA-256 of the whole stored block (its name under `owners/<owner>/blocks/`).
    public var block: String
    /// This field's stored bytes within the block (a gzip member, or the raw bytes).
    public var offset: Int
    public var length: Int
    /// Raw (uncompressed) size.
    public var size: Int
    /// Hex SHA-256 of the raw bytes: verifies a ranged read without the rest of the block.
    public var sha256: String
    /// `gzip` or `identity`.
    public var encoding: String
    public var temperature: Temperature
    /// In how many checkpoints this field changed (drives its temperature).
    public var mutations: Int
}

/// A checkpoint: every field's location at one segment, chained to its parent (a Merkle chain: the id is the
/// SHA-256 of the canonical encoding of everything else, parent id included).
public struct Manifest: Codable, Sendable, Equatable {
    public var manifestID: String
    public var parentManifestID: String?
    public var executionID: String
    public var ownerID: String
    public var segmentIndex: Int
    public var fields: [String: FieldRef]
    /// The execution's trace id (absent in manifests written before it was recorded; part of the hashed content).
    public var traceID: String?

    enum CodingKeys: String, CodingKey {
        case manifestID = "manifest_id"
        case parentManifestID = "parent_manifest_id"
        case executionID = "execution_id"
        case ownerID = "owner_id"
        case segmentIndex = "segment_index"
        case fields
        case traceID = "trace_id"
    }

    public init(
        parentManifestID: String?, executionID: String, ownerID: String, segmentIndex: Int, fields: [String: FieldRef],
        traceID: String? = nil
    ) {
        self.manifestID = ""
        self.traceID = traceID
        self.parentManifestID = parentManifestID
        self.executionID = executionID
        self.ownerID = ownerID
        self.segmentIndex = segmentIndex
        self.fields = fields
        self.manifestID = Digest.hex(Digest.sha256(canonicalBytes(includingID: false)))
    }

    /// Sorted-key JSON; without the id when computing it.
    public func canonicalBytes(includingID: Bool = true) -> Data {
        var copy = self
        if !includingID { copy.manifestID = "" }
        return (try? CanonicalJSON.encode(copy)) ?? Data()
    }

    /// True when the id matches the content (a stored manifest was not altered).
    public var isIntact: Bool {
        manifestID
            == Manifest(
                parentManifestID: parentManifestID, executionID: executionID, ownerID: ownerID, segmentIndex: segmentIndex, fields: fields,
                traceID: traceID
            ).manifestID
    }
}

extension Manifest {
    /// The blocks this manifest uses that `previous` did not (what its checkpoint uploaded), with their stored sizes.
    public func newBlocks(since previous: Manifest?) -> [String: Int] {
        let old = Set(previous?.fields.values.map(\.block) ?? [])
        var sizes: [String: Int] = [:]
        for ref in fields.values where !old.contains(ref.block) { sizes[ref.block] = max(sizes[ref.block] ?? 0, ref.offset + ref.length) }
        return sizes
    }
}
