#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// One node of a manifest's field tree: a leaf of field references, or an inner node naming up to 16 children by
/// the next hex digit of SHA-256(field name). Stored gzip-compressed as an owner's block, named by its hash.
package enum ManifestPage: Codable, Sendable, Equatable {
    case leaf([String: FieldRef])
    case inner([String: String])

    enum CodingKeys: String, CodingKey { case leaf, inner }

    package init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        if let leaf = try c.decodeIfPresent([String: FieldRef].self, forKey: .leaf) {
            self = .leaf(leaf)
        } else {
            self = .inner(try c.decode([String: String].self, forKey: .inner))
        }
    }

    package func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case .leaf(let refs): try c.encode(refs, forKey: .leaf)
        case .inner(let children): try c.encode(children, forKey: .inner)
        }
    }

    /// The stored block: canonical JSON, gzip level 9 (deterministic, so equal pages are one block).
    package func block() throws -> Block { Block(bytes: Data(try Gzip.compress(Array(CanonicalJSON.encode(self)), level: 9))) }
}

/// Reads and writes manifests' page trees (a hash trie: a field's path is the hex of SHA-256 of its name).
///
/// Reading one field reads the pages on its path: O(log fields) pages of at most ``leafCapacity`` entries or 16
/// children. Writing changes rewrites only the pages on the changed fields' paths; every other page is shared with
/// the previous tree (and with forks). Pages are content-addressed blocks, so references, GC and the sweeper treat
/// them like field blocks. Pages read are cached per container (a hash names one content forever).
package struct ManifestPages: Sendable {
    /// Most fields in a leaf before it splits.
    package static let leafCapacity = 32
    /// Most overlay entries (changed plus removed) a commit record carries before they are folded into the tree.
    package static let overlayLimit = 32
    /// Largest page accepted when decompressing (a leaf is a few KB).
    static let pageLimit = 4 * 1024 * 1024

    package let store: any BlockStore
    let cache: ImmutableCache<ManifestPage>
    /// The append-only list fields' chunk chains (in the same store).
    package let lists: AppendLists

    package init(store: any BlockStore, cacheCapacity: Int = 4096) {
        self.store = store
        self.cache = ImmutableCache(capacity: cacheCapacity)
        self.lists = AppendLists(store: store, cacheCapacity: cacheCapacity)
    }

    /// A field's path in the trie.
    static func path(_ name: String) -> [UInt8] { Array(Digest.hex(Digest.sha256(Data(name.utf8))).utf8) }

    /// One page, verified against its hash.
    package func page(owner: String, hash: String) async throws -> ManifestPage {
        try await cache.value(owner + "#" + hash) {
            let stored = try await store.get(owner: owner, hash: hash, range: nil)
            guard Digest.hex(Digest.sha256(stored)) == hash else {
                throw AnalemmaError(.invalidState, "manifest page \(hash.prefix(12)) does not match its hash (corrupt or tampered)")
            }
            do {
                return try JSONDecoder().decode(ManifestPage.self, from: Data(Gzip.decompress(Array(stored), limit: Self.pageLimit)))
            } catch {
                throw AnalemmaError(.invalidState, "manifest page \(hash.prefix(12)) is unreadable: \(error)")
            }
        }
    }

    /// The references of `names` at `manifest` (names it does not have are left out): overlay first, then the tree.
    package func refs(_ manifest: Manifest, _ names: some Sequence<String>) async throws -> [String: FieldRef] {
        var found: [String: FieldRef] = [:]
        var rest: [String] = []
        let removed = manifest.removedNames
        for name in Set(names) {
            if let ref = manifest.fields[name] { found[name] = ref } else if !removed.contains(name) { rest.append(name) }
        }
        guard let root = manifest.root, !rest.isEmpty else { return found }
        for (name, ref) in try await lookup(owner: manifest.ownerID, page: root, depth: 0, names: rest.map { ($0, Self.path($0)) }) {
            found[name] = ref
        }
        return found
    }

    private func lookup(owner: String, page hash: String, depth: Int, names: [(String, [UInt8])]) async throws -> [String: FieldRef] {
        switch try await page(owner: owner, hash: hash) {
        case .leaf(let refs):
            return refs.filter { ref in names.contains { $0.0 == ref.key } }
        case .inner(let children):
            var found: [String: FieldRef] = [:]
            let groups = Dictionary(grouping: names) { depth < $0.1.count ? String(UnicodeScalar($0.1[depth])) : "" }
            for (digit, members) in groups.sorted(by: { $0.key < $1.key }) {
                guard let child = children[digit] else { continue }
                found.merge(try await lookup(owner: owner, page: child, depth: depth + 1, names: members)) { a, _ in a }
            }
            return found
        }
    }

    /// Every field reference at `manifest` (the whole table: reads every page).
    package func all(_ manifest: Manifest) async throws -> [String: FieldRef] {
        var table: [String: FieldRef] = [:]
        if let root = manifest.root { table = try await tree(owner: manifest.ownerID, root: root).fields }
        for name in manifest.removedNames { table[name] = nil }
        table.merge(manifest.fields) { _, overlay in overlay }
        return table
    }

    /// The pages under `root` not in `skipping`, and the field references of their leaves. With `tolerant`, a page
    /// that does not exist is skipped (a commit that crashed before uploading it).
    package func tree(owner: String, root: String, skipping seen: Set<String> = [], tolerant: Bool = false) async throws -> (
        pages: [String], fields: [String: FieldRef]
    ) {
        var pages: [String] = []
        var fields: [String: FieldRef] = [:]
        var frontier = seen.contains(root) ? [] : [root]
        var visited = seen
        while let hash = frontier.popLast() {
            guard visited.insert(hash).inserted else { continue }
            let node: ManifestPage
            do { node = try await page(owner: owner, hash: hash) } catch let e as AWSError where tolerant && e.status == 404 { continue }
            pages.append(hash)
            switch node {
            case .leaf(let refs): fields.merge(refs) { a, _ in a }
            case .inner(let children): frontier += children.values.filter { !visited.contains($0) }
            }
        }
        return (pages, fields)
    }

    /// Every block `manifest` reaches: its pages, every field's block and every chunk of its list fields (see
    /// ``tree(owner:root:skipping:tolerant:)`` and ``AppendLists/chain(_:owner:skipping:tolerant:)``).
    package func reachable(_ manifest: Manifest, skipping seen: Set<String> = [], tolerant: Bool = false) async throws -> Set<String> {
        var blocks = Set(manifest.fields.values.map(\.block))
        var refs = Array(manifest.fields.values)
        if let root = manifest.root {
            let (pages, fields) = try await tree(owner: manifest.ownerID, root: root, skipping: seen, tolerant: tolerant)
            blocks.formUnion(pages)
            blocks.formUnion(fields.values.map(\.block))
            refs += fields.values
        }
        for ref in refs where ref.list != nil {
            blocks.formUnion(try await lists.chain(ref, owner: manifest.ownerID, skipping: seen, tolerant: tolerant))
        }
        return blocks
    }
}
