import Foundation
import Testing

@testable import Analemma

@Suite("Append-only list fields")
struct AppendListTests {
    /// The committed 200-turn agent transcript: each turn's messages (raw JSON each).
    static func transcript() throws -> [[Data]] {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
            "Fixtures/transcripts/agent-200-turns.jsonl.gz")
        let text = Data(try Gzip.decompress(Array(try Data(contentsOf: url))))
        return try text.split(separator: UInt8(ascii: "\n")).map { line in
            let line = Data(line)
            return try JSONScanner.elements(of: line).map { line.subdata(in: $0) }
        }
    }

    static func list(_ items: [Data]) -> Data {
        var out = Data("[".utf8)
        for (i, item) in items.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            out.append(item)
        }
        out.append(UInt8(ascii: "]"))
        return out
    }

    /// Appends `turns` one checkpoint each; returns the last reference and every chunk's size.
    static func append(_ turns: [[Data]], _ lists: AppendLists) async throws -> (ref: FieldRef, sizes: [Int], items: [Data]) {
        var ref: FieldRef?
        var sizes: [Int] = []
        var items: [Data] = []
        for turn in turns {
            items += turn
            guard case .appended(let next, let block) = try await lists.write(list(items), known: ref, owner: "o") else {
                Issue.record("turn \(sizes.count) did not append")
                break
            }
            try await lists.store.put(owner: "o", hash: block.hash, bytes: block.bytes)
            ref = next
            sizes.append(block.bytes.count)
        }
        return (try #require(ref), sizes, items)
    }

    @Test("a 200-turn transcript stores at most 1.2 × gzip(final list) in total, and reads back whole and by its last items")
    func transcriptBound() async throws {
        let turns = try Self.transcript()
        #expect(turns.count == 200)
        let store = InMemoryBlockStore()
        let (ref, sizes, items) = try await Self.append(turns, AppendLists(store: store))
        let final = Self.list(items)
        let gzipped = try Gzip.compress(Array(final), level: 9).count
        let total = sizes.reduce(0, +)
        #expect(Double(total) <= 1.2 * Double(gzipped), "chunks \(total) B against gzip(final) \(gzipped) B")
        #expect(ref.list?.chunks == 200 && ref.list?.items == items.count && ref.size == final.count)
        let cold = AppendLists(store: store)  // a new container: nothing cached
        #expect(try await cold.value(ref, owner: "o", field: "messages") == final)
        let reader = AppendLists(store: store)
        let before = await store.bytesRead
        let last = try await reader.last(4, of: ref, owner: "o", field: "messages")
        #expect(last.map { Data($0) } == Array(items.suffix(4)))
        // The last turn's chunk, the base chunk and the base's chunks: a bounded read, not the list.
        let read = await store.bytesRead - before
        #expect(read < total / 4, "read \(read) B of \(total) B for the last 4 items")
        let again = await store.bytesRead
        _ = try await reader.last(8, of: ref, owner: "o", field: "messages")  // the base is cached now
        #expect(await store.bytesRead - again <= sizes.suffix(2).reduce(0, +))
    }

    @Test("the chain names every chunk once, and a chain already seen is not walked again")
    func chain() async throws {
        let store = InMemoryBlockStore()
        let turns = (0..<40).map { [Data("{\"n\":\($0)}".utf8)] }
        let (ref, sizes, _) = try await Self.append(turns, AppendLists(store: store))
        let all = try await AppendLists(store: store).chain(ref, owner: "o")
        #expect(all.count == sizes.count && Set(all).count == 40)
        #expect(try await AppendLists(store: store).chain(ref, owner: "o", skipping: [ref.block]).isEmpty)
        #expect(try await AppendLists(store: store).items(ref, owner: "o", field: "f").count == 40)
    }

    @Test("a value that is the stored list is unchanged; one that is not an extension starts a new chain; others are plain")
    func writes() async throws {
        let store = InMemoryBlockStore()
        let lists = AppendLists(store: store)
        let (ref, _, items) = try await Self.append((0..<20).map { [Data("\"item \($0)\"".utf8)] }, lists)
        #expect(try await lists.write(Self.list(items), known: ref, owner: "o") == .unchanged)
        let trimmed = Array(items.suffix(5))
        guard case .appended(let rewritten, let block) = try await lists.write(Self.list(trimmed), known: ref, owner: "o") else {
            Issue.record("a trimmed list was not stored")
            return
        }
        try await store.put(owner: "o", hash: block.hash, bytes: block.bytes)
        #expect(rewritten.list?.chunks == 1 && rewritten.list?.items == 5)
        #expect(try await lists.value(rewritten, owner: "o", field: "f") == Self.list(trimmed))
        for plain in ["[]", "{\"a\":1}", "\"text\"", "[1,"] {
            #expect(try await lists.write(Data(plain.utf8), known: ref, owner: "o") == .plain, "\(plain)")
        }
    }

    @Test("a tampered chunk or a forged reference is refused, naming the field")
    func tampered() async throws {
        let store = InMemoryBlockStore()
        let (ref, _, _) = try await Self.append((0..<20).map { [Data("\"item \($0)\"".utf8)] }, AppendLists(store: store))
        var forged = ref
        forged.sha256 = String(repeating: "0", count: 64)
        await #expect(throws: AnalemmaError.self) { try await AppendLists(store: store).value(forged, owner: "o", field: "f") }
        var short = ref
        short.list?.items = 3
        await #expect(throws: AnalemmaError.self) { try await AppendLists(store: store).value(short, owner: "o", field: "f") }
        var more = ref
        more.list?.chunks = 25
        await #expect(throws: AnalemmaError.self) { try await AppendLists(store: store).value(more, owner: "o", field: "f") }
        let other = InMemoryBlockStore()
        let real = try await store.get(owner: "o", hash: ref.block, range: nil)
        var bad = [UInt8](real)
        bad[bad.count - 1] ^= 0xff
        try await other.put(owner: "o", hash: ref.block, bytes: Data(bad))
        await #expect(throws: AnalemmaError.self) { try await AppendLists(store: other).value(ref, owner: "o", field: "f") }
    }

    @Test(
        "chunk headers are parsed strictly",
        arguments: [
            "", "AL", "AL1", "AL2\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}", "AL1\u{0}\u{1}\u{0}\u{0}\u{0}\u{0}", "AL1\u{1}\u{0}\u{0}\u{0}\u{0}\u{0}",
            "AL1\u{0}\u{0}\u{0}\u{ff}\u{ff}\u{ff}\u{ff}\u{7f}",
        ])
    func parse(_ text: String) {
        #expect(throws: AnalemmaError.self) { try ListChunk.parse(Data(text.utf8)) }
    }

    @Test("a chunk's block round-trips")
    func roundTrip() throws {
        let chunk = ListChunk(
            index: 16, before: 40, dictionary: 300, lengths: [3, 4], previous: String(repeating: "ab", count: 32), skipStart: 0,
            skip: (0..<16).map { String(format: "%064x", $0) }, payload: [1, 2, 3])
        #expect(try ListChunk.parse(chunk.block().bytes) == chunk)
    }
}
