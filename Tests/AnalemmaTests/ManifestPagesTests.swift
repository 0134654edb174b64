import Analemma
import Foundation
import Testing

@Suite("Paged manifests: a content-addressed tree of field references")
struct ManifestPagesTests {
    static func ref(_ i: Int, _ version: Int = 0) -> FieldRef {
        FieldRef(
            block: Digest.hex(Digest.sha256(Data("block-\(version)".utf8))), offset: i * 10, length: 10, size: 12,
            sha256: Digest.hex(Digest.sha256(Data("\(i)-\(version)".utf8))), encoding: "gzip", temperature: .cold, mutations: 1)
    }

    static func flat(_ fields: [String: FieldRef]) -> Manifest {
        Manifest(parentManifestID: nil, executionID: "ex", ownerID: "o", segmentIndex: 0, fields: fields)
    }

    /// Uploads what a compaction wrote, as the checkpoint writer does before the record.
    static func compact(_ m: Manifest, _ pages: ManifestPages, _ store: InMemoryBlockStore) async throws -> Manifest {
        let (folded, written) = try await pages.compact(m)
        for block in written { try await store.put(owner: m.ownerID, hash: block.hash, bytes: block.bytes) }
        return folded
    }

    @Test("a record with few fields stays flat; past the overlay limit it folds into pages and reads back the same table")
    func folds() async throws {
        let store = InMemoryBlockStore()
        let pages = ManifestPages(store: store)
        let few = Self.flat(Dictionary(uniqueKeysWithValues: (0..<ManifestPages.overlayLimit).map { ("f\($0)", Self.ref($0)) }))
        #expect(try await Self.compact(few, pages, store) == few, "within the limit nothing is written")
        let table = Dictionary(uniqueKeysWithValues: (0..<5_000).map { ("f\($0)", Self.ref($0)) })
        let paged = try await Self.compact(Self.flat(table), pages, store)
        #expect(paged.root != nil && paged.fields.isEmpty && paged.isIntact)
        #expect(try await ManifestPages(store: store).all(paged) == table)
        #expect(
            try await ManifestPages(store: store).refs(paged, ["f17", "f4999", "nope"]) == ["f17": Self.ref(17), "f4999": Self.ref(4999)])
    }

    @Test("hydrating one field of a large state reads only the pages on its path", arguments: [1_000, 20_000])
    func pathRead(fields: Int) async throws {
        let store = InMemoryBlockStore()
        let table = Dictionary(uniqueKeysWithValues: (0..<fields).map { ("f\($0)", Self.ref($0)) })
        let paged = try await Self.compact(Self.flat(table), ManifestPages(store: store), store)
        let pageCount = await store.blocks.count
        await store.resetCounters()
        let cold = ManifestPages(store: store)  // nothing cached
        #expect(try await cold.refs(paged, ["f\(fields / 2)"]) == ["f\(fields / 2)": Self.ref(fields / 2)])
        let (gets, bytes) = (await store.gets, await store.bytesRead)
        let depth = Int((log(Double(fields) / Double(ManifestPages.leafCapacity)) / log(16)).rounded(.up)) + 1
        #expect(gets <= depth, "\(gets) pages read of \(pageCount)")
        #expect(bytes < 12 * 1024 * depth, "\(bytes) bytes of manifest read")
    }

    @Test("changing, adding and removing fields rewrites only their paths; every other page is shared")
    func pathWrite() async throws {
        let store = InMemoryBlockStore()
        let pages = ManifestPages(store: store)
        var table = Dictionary(uniqueKeysWithValues: (0..<10_000).map { ("f\($0)", Self.ref($0)) })
        let base = try await Self.compact(Self.flat(table), pages, store)
        let before = Set(await store.blocks.keys)
        var next = base
        for i in 0..<30 { next.fields["f\(i)"] = Self.ref(i, 1) }
        next.fields["new"] = Self.ref(99_999)
        next.removed = ["f9000", "f9001"]
        next = Manifest(
            parentManifestID: base.manifestID, executionID: "ex", ownerID: "o", segmentIndex: 1, fields: next.fields, root: base.root,
            removed: Set(next.removed ?? []))
        let (folded, written) = try await pages.compact(next)
        for block in written { try await store.put(owner: "o", hash: block.hash, bytes: block.bytes) }
        for i in 0..<30 { table["f\(i)"] = Self.ref(i, 1) }
        table["new"] = Self.ref(99_999)
        table["f9000"] = nil
        table["f9001"] = nil
        #expect(try await ManifestPages(store: store).all(folded) == table)
        let depth = 4  // 10,000 fields: root, two inner levels, leaf
        #expect(written.count <= 33 * depth, "\(written.count) pages written for 33 changes")
        #expect(before.count > 10 * written.count, "most pages are shared (\(before.count) before, \(written.count) new)")
        #expect(
            try await ManifestPages(store: store).all(base)
                == Dictionary(uniqueKeysWithValues: (0..<10_000).map { ("f\($0)", Self.ref($0)) }), "time travel: the old tree is intact")
    }

    @Test("a page altered in storage is refused, never read")
    func tampered() async throws {
        let store = InMemoryBlockStore()
        let table = Dictionary(uniqueKeysWithValues: (0..<100).map { ("f\($0)", Self.ref($0)) })
        let paged = try await Self.compact(Self.flat(table), ManifestPages(store: store), store)
        let forged = ManifestPage.leaf(["f1": Self.ref(1, 7)])
        let bytes = try forged.block().bytes
        let root = try #require(paged.root)
        await store.replace(owner: "o", hash: root, bytes: bytes)
        await #expect(throws: AnalemmaError.self) { try await ManifestPages(store: store).refs(paged, ["f1"]) }
    }
}
