import Analemma
import Foundation
import Testing

@Suite("Delta checkpoints: content-addressed blocks, manifests, surgical hydration, time travel")
struct CheckpointTests {
    /// Deterministic text that compresses like prose, not like repeated characters.
    static func prose(_ seed: Int, bytes: Int) -> String {
        let words = ["tide", "moon", "orbit", "analemma", "segment", "kernel", "state", "block", "delta", "pointer", "gravity", "agent"]
        var out = ""
        var x = UInt64(seed &+ 1) &* 6_364_136_223_846_793_005
        while out.utf8.count < bytes {
            x = x &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            out += words[Int(x >> 33) % words.count] + (x % 7 == 0 ? ". " : " ")
        }
        return out
    }

    static func json(_ s: String) -> Data { try! JSONEncoder().encode(s) }

    func initial() throws -> StateBag {
        var bag = try StateBag(executionID: "ex-1", ownerID: "owner-1", traceID: "Root=1-a")
        var fields: [String: Data] = [:]
        for i in 0..<10 { fields["small_\(i)"] = Self.json(Self.prose(i, bytes: 200 + 100 * i)) }
        fields["big"] = Self.json(Self.prose(99, bytes: 200_000))
        try bag.merge(fields, from: .node("setup"))
        return bag
    }

    @Test("round trip: every field comes back byte-identical from the blocks")
    func roundTrip() async throws {
        let store = InMemoryBlockStore()
        let state = try initial()
        let (manifest, blocks) = try BatchedDehydrator().checkpoint(
            state, previous: nil, executionID: "ex-1", ownerID: "owner-1", segmentIndex: 0)
        for b in blocks { try await store.put(owner: "owner-1", hash: b.hash, bytes: b.bytes) }
        #expect(blocks.count == 2, "one group block for the small fields, one for the large field")
        #expect(try await StateHydrator(store: store).hydrate(manifest) == state)
        #expect(manifest.isIntact && manifest.parentManifestID == nil)
    }

    @Test("a checkpoint writes only what changed; unchanged fields keep their blocks")
    func delta() async throws {
        let d = BatchedDehydrator()
        let state = try initial()
        let (first, _) = try d.checkpoint(state, previous: nil, executionID: "ex-1", ownerID: "owner-1", segmentIndex: 0)
        var next = state
        try next.merge(["small_3": Self.json("changed")], from: .node("n"))
        let (second, blocks) = try d.checkpoint(next, previous: first, executionID: "ex-1", ownerID: "owner-1", segmentIndex: 1)
        #expect(blocks.count == 1)
        #expect(second.parentManifestID == first.manifestID)
        #expect(second.fields["big"]?.block == first.fields["big"]?.block)
        #expect(second.fields["small_3"]?.block == blocks[0].hash && second.fields["small_3"]?.mutations == 2)
        let (third, none) = try d.checkpoint(next, previous: second, executionID: "ex-1", ownerID: "owner-1", segmentIndex: 2)
        #expect(none.isEmpty && third.fields.mapValues(\.block) == second.fields.mapValues(\.block))
    }

    @Test("a one-field hydration reads about that field's stored bytes, even inside a group block")
    func surgical() async throws {
        let store = InMemoryBlockStore()
        let (manifest, blocks) = try BatchedDehydrator().checkpoint(
            try initial(), previous: nil, executionID: "ex-1", ownerID: "owner-1", segmentIndex: 0)
        for b in blocks { try await store.put(owner: "owner-1", hash: b.hash, bytes: b.bytes) }
        await store.resetCounters()
        let one = try await StateHydrator(store: store).hydrate(manifest, fields: ["small_4"])
        #expect(one.fields.keys.sorted() == ["small_4"])
        #expect(await store.bytesRead == manifest.fields["small_4"]!.length)
        await #expect(throws: AnalemmaError.self) { _ = try await StateHydrator(store: store).hydrate(manifest, fields: ["nope"]) }
    }

    @Test("time travel: every manifest of the chain reconstructs its own state; a fork starts from any of them")
    func timeTravel() async throws {
        let store = InMemoryBlockStore()
        let d = BatchedDehydrator()
        var state = try initial()
        var previous: Manifest?
        var history: [(Manifest, StateBag)] = []
        for segment in 0..<6 {
            try state.merge(
                ["small_\(segment % 3)": Self.json("segment \(segment)"), "counter": Data("\(segment)".utf8)], from: .node("n"))
            let (m, blocks) = try d.checkpoint(state, previous: previous, executionID: "ex-1", ownerID: "owner-1", segmentIndex: segment)
            for b in blocks { try await store.put(owner: "owner-1", hash: b.hash, bytes: b.bytes) }
            history.append((m, state))
            previous = m
        }
        for (m, expected) in history { #expect(try await StateHydrator(store: store).hydrate(m) == expected) }
        var fork = try await StateHydrator(store: store).hydrate(history[2].0)
        try fork.merge(["execution_id": Self.json("ex-2")], from: .kernel)
        let (forked, newBlocks) = try d.checkpoint(fork, previous: history[2].0, executionID: "ex-2", ownerID: "owner-1", segmentIndex: 3)
        #expect(forked.parentManifestID == history[2].0.manifestID && forked.executionID == "ex-2")
        #expect(newBlocks.count == 1, "a fork shares every block but the one holding its new identity")
    }

    @Test("a corrupt block or a tampered manifest is refused, naming it")
    func integrity() async throws {
        let store = InMemoryBlockStore()
        let (manifest, _) = try BatchedDehydrator().checkpoint(
            try initial(), previous: nil, executionID: "ex-1", ownerID: "owner-1", segmentIndex: 0)
        let ref = manifest.fields["small_1"]!
        try await store.put(owner: "owner-1", hash: ref.block, bytes: Data(repeating: 0x41, count: ref.offset + ref.length))
        await #expect { _ = try await StateHydrator(store: store).hydrate(manifest, fields: ["small_1"]) } throws: {
            ($0 as? AnalemmaError)?.code == .invalidState && "\($0)".contains("small_1")
        }
        var tampered = manifest
        tampered.fields["small_2"]!.size += 1
        await #expect { _ = try await StateHydrator(store: store).hydrate(tampered) } throws: { "\($0)".contains("does not match its id") }
    }

    @Test("temperature follows mutation frequency; the registry overrides it")
    func temperature() {
        let r = TemperatureRegistry(overrides: ["pinned": .cold], prefixOverrides: [("log_", .hot)])
        #expect(r.classify("x", mutations: 10, checkpoints: 10) == .hot)
        #expect(r.classify("x", mutations: 2, checkpoints: 10) == .warm)
        #expect(r.classify("x", mutations: 1, checkpoints: 10) == .cold)
        #expect(r.classify("x", mutations: 0, checkpoints: 1) == .warm)
        #expect(r.classify("pinned", mutations: 10, checkpoints: 10) == .cold)
        #expect(r.classify("log_trace", mutations: 0, checkpoints: 10) == .hot)
    }
}
