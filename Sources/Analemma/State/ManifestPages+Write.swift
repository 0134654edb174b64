#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// Folding a manifest's overlay into its page tree.
extension ManifestPages {
    /// One change to the tree: a field's new reference, or nil to remove it.
    struct Change {
        var name: String
        var path: [UInt8]
        var ref: FieldRef?
    }

    /// `manifest` with its overlay folded into a new tree when it holds more than ``overlayLimit`` entries (else
    /// unchanged), and the pages to upload before it. Only pages on the changed fields' paths are new.
    package func compact(_ manifest: Manifest, force: Bool = false) async throws -> (manifest: Manifest, pages: [Block]) {
        let removed = manifest.removedNames
        guard force || manifest.fields.count + removed.count > Self.overlayLimit else { return (manifest, []) }
        var changes = manifest.fields.map { Change(name: $0.key, path: Self.path($0.key), ref: $0.value) }
        changes += removed.map { Change(name: $0, path: Self.path($0), ref: nil) }
        var written: [String: Block] = [:]
        let root = try await apply(owner: manifest.ownerID, page: manifest.root, depth: 0, changes: changes, written: &written)
        let folded = Manifest(
            parentManifestID: manifest.parentManifestID, executionID: manifest.executionID, ownerID: manifest.ownerID,
            segmentIndex: manifest.segmentIndex, fields: [:], traceID: manifest.traceID, root: root)
        return (folded, written.values.sorted { $0.hash < $1.hash })
    }

    /// The page replacing `hash` (nil: none) after `changes`, all of whose paths agree on their first `depth` digits.
    /// Nil when nothing is left under it.
    func apply(owner: String, page hash: String?, depth: Int, changes: [Change], written: inout [String: Block]) async throws -> String? {
        guard !changes.isEmpty else { return hash }
        var current: ManifestPage?
        if let hash { current = try await page(owner: owner, hash: hash) }
        switch current {
        case .inner(var children)?:
            for (digit, group) in Self.byDigit(changes, depth) {
                children[digit] = try await apply(owner: owner, page: children[digit], depth: depth + 1, changes: group, written: &written)
            }
            return children.isEmpty ? nil : try write(.inner(children), replacing: hash, into: &written)
        case .leaf(let refs)?:
            return try await leaf(refs, owner: owner, replacing: hash, depth: depth, changes: changes, written: &written)
        case nil:
            return try await leaf([:], owner: owner, replacing: nil, depth: depth, changes: changes, written: &written)
        }
    }

    /// A leaf with `changes` applied: still a leaf when it fits, else split into an inner node by the next digit.
    private func leaf(
        _ refs: [String: FieldRef], owner: String, replacing hash: String?, depth: Int, changes: [Change], written: inout [String: Block]
    ) async throws -> String? {
        var entries = refs
        for change in changes { entries[change.name] = change.ref }
        if entries.isEmpty { return nil }
        // Paths are 64 hex digits: past them (never in practice) a leaf takes any number of fields.
        if entries.count <= Self.leafCapacity || depth >= 64 { return try write(.leaf(entries), replacing: hash, into: &written) }
        var children: [String: String] = [:]
        let all = entries.map { Change(name: $0.key, path: Self.path($0.key), ref: $0.value) }
        for (digit, group) in Self.byDigit(all, depth) {
            children[digit] = try await apply(owner: owner, page: nil, depth: depth + 1, changes: group, written: &written)
        }
        return try write(.inner(children), replacing: hash, into: &written)
    }

    /// The block of `page`, recorded for upload unless it is the page it replaces.
    private func write(_ page: ManifestPage, replacing hash: String?, into written: inout [String: Block]) throws -> String {
        let block = try page.block()
        if block.hash != hash { written[block.hash] = block }
        return block.hash
    }

    static func byDigit(_ changes: [Change], _ depth: Int) -> [(String, [Change])] {
        Dictionary(grouping: changes) { String(UnicodeScalar($0.path[min(depth, $0.path.count - 1)])) }.sorted { $0.key < $1.key }
    }
}
