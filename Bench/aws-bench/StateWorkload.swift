import Analemma
import Foundation

/// The state-kernel benchmark workload (issue 4): 50 fields, ~2.3 MB, 20 segments, deterministic content.
/// 5 HOT fields (1–5 KB) change every segment, 15 WARM every 5th, 30 COLD never (one is ~1.5 MB of prose).
struct StateWorkload {
    var rng: UInt64 = 0x9E37_79B9_7F4A_7C15

    mutating func next() -> UInt64 {
        rng ^= rng << 13
        rng ^= rng >> 7
        rng ^= rng << 17
        return rng
    }

    static let words = [
        "the", "agent", "reads", "a", "segment", "of", "state", "and", "writes", "its", "delta", "to", "storage", "while", "tides",
        "follow",
        "moon", "orbit", "analemma", "kernel", "pointer", "manifest", "block", "human", "approval", "model", "token", "latency", "budget",
    ]

    mutating func prose(_ bytes: Int) -> String {
        var out = ""
        while out.utf8.count < bytes {
            out += Self.words[Int(next() % UInt64(Self.words.count))]
            out += next() % 9 == 0 ? ". " : " "
        }
        return out
    }

    mutating func code(_ bytes: Int) -> String {
        var out = ""
        var i = 0
        while out.utf8.count < bytes {
            let name = Self.words[Int(next() % UInt64(Self.words.count))]
            out +=
                "func \(name)\(i)(x: Int) -> Int {\n    let y = x * \(next() % 97) + \(next() % 13)\n    return y % \(next() % 1000 + 1)\n}\n"
            i += 1
        }
        return out
    }

    mutating func records(_ bytes: Int) -> String {
        var out = "["
        while out.utf8.count < bytes {
            let hash = Digest.hex(Digest.sha256(Array(String(next()).utf8)))
            out +=
                #"{"id":\#(next() % 100_000),"status":"\#(Self.words[Int(next() % 29)])","score":\#(Double(next() % 10_000) / 100),"sha":"\#(hash)"},"#
        }
        return out.dropLast() + "]"
    }

    /// Field value as JSON bytes (text is a JSON string; records are a JSON array).
    mutating func value(kind: Int, bytes: Int) -> Data {
        switch kind % 3 {
        case 0: return try! JSONEncoder().encode(prose(bytes))
        case 1: return try! JSONEncoder().encode(code(bytes))
        default: return Data(records(bytes).utf8)
        }
    }

    mutating func initial() -> [String: Data] {
        var fields: [String: Data] = [:]
        for i in 0..<5 { fields["hot_\(i)"] = value(kind: i, bytes: 1024 * (i + 1)) }
        for i in 0..<15 { fields["warm_\(i)"] = value(kind: i, bytes: 20 * 1024) }
        for i in 0..<29 { fields["cold_\(i)"] = value(kind: i, bytes: 17 * 1024) }
        fields["cold_corpus"] = try! JSONEncoder().encode(prose(1_500_000))
        return fields
    }

    mutating func changes(segment: Int) -> [String: Data] {
        var fields: [String: Data] = [:]
        for i in 0..<5 { fields["hot_\(i)"] = value(kind: i + segment, bytes: 1024 * (i + 1)) }
        if segment % 5 == 0 { for i in 0..<15 { fields["warm_\(i)"] = value(kind: i + segment, bytes: 20 * 1024) } }
        return fields
    }
}

func gzip6(_ d: Data) -> Int { (try? Gzip.compress(Array(d), level: 6).count) ?? 0 }

/// Runs the workload through the dehydrator (in-memory store: counts, not latency) and the two baselines.
func stateBenchmark() async throws {
    var w = StateWorkload()
    var state = try StateBag(executionID: "ex-bench", ownerID: "owner-bench", traceID: "Root=1-bench")
    try state.merge(w.initial(), from: .node("setup"))
    let store = InMemoryBlockStore()
    let dehydrator = BatchedDehydrator()
    var previous: Manifest?
    var puts: [Int] = []
    var written: [Int] = []
    var changedGzip: [Int] = []
    var wholeBytes: [Int] = []
    var perFieldPuts: [Int] = []
    var perFieldBytes: [Int] = []
    for segment in 0..<20 {
        let before = state
        if segment > 0 { try state.merge(w.changes(segment: segment), from: .node("segment-\(segment)")) }
        let changed = state.delta(from: before).changed
        await store.resetCounters()
        let (manifest, blocks) = try dehydrator.checkpoint(
            state, previous: previous, executionID: "ex-bench", ownerID: "owner-bench", segmentIndex: segment)
        for b in blocks { try await store.put(owner: "owner-bench", hash: b.hash, bytes: b.bytes) }
        previous = manifest
        guard segment > 0 else { continue }
        puts.append(await store.puts)
        written.append(await store.bytesWritten)
        var concatenated = Data()
        for name in changed.sorted() { concatenated.append(state[name]!) }
        changedGzip.append(gzip6(concatenated))
        wholeBytes.append(gzip6(state.jsonObject()))
        perFieldPuts.append(changed.count)
        perFieldBytes.append(changed.reduce(0) { $0 + gzip6(state[$1]!) })
    }
    let manifest = previous!
    func avg(_ xs: [Int]) -> Double { Double(xs.reduce(0, +)) / Double(xs.count) }
    emit("state.checkpoint.delta", "s3_puts_per_checkpoint", avg(puts), "count")
    emit("state.checkpoint.delta", "s3_puts_per_checkpoint_max", Double(puts.max()!), "count")
    emit("state.checkpoint.delta", "bytes_written_per_checkpoint", avg(written), "B")
    emit("state.checkpoint.delta", "bytes_written_over_gzip6_of_changed", avg(written) / avg(changedGzip), "x")
    emit("state.checkpoint.whole_object", "s3_puts_per_checkpoint", 1, "count")
    emit("state.checkpoint.whole_object", "bytes_written_per_checkpoint", avg(wholeBytes), "B")
    emit("state.checkpoint.object_per_field", "s3_puts_per_checkpoint", avg(perFieldPuts), "count")
    emit("state.checkpoint.object_per_field", "bytes_written_per_checkpoint", avg(perFieldBytes), "B")
    let manifestBytes = manifest.canonicalBytes().count
    emit("state.manifest", "bytes", Double(manifestBytes), "B")
    for field in ["hot_0", "warm_3", "cold_corpus"] {
        await store.resetCounters()
        let one = try await StateHydrator(store: store).hydrate(manifest, fields: [field])
        let read = await store.bytesRead
        let own = gzip6(one[field]!)
        emit("state.hydrate_one.\(field)", "bytes_read", Double(read), "B")
        emit("state.hydrate_one.\(field)", "read_over_own_gzip6", Double(read) / Double(own), "x")
        emit("state.hydrate_one.\(field).object_per_field", "bytes_read", Double(own), "B")
        emit("state.hydrate_one.\(field).whole_object", "bytes_read", Double(wholeBytes.last!), "B")
    }
    await store.resetCounters()
    let all = try await StateHydrator(store: store).hydrate(manifest)
    precondition(all == state, "full hydration must be byte-identical")
    emit("state.hydrate_full", "bytes_read", Double(await store.bytesRead), "B")
    emit("state.workload", "raw_state_size", Double(state.jsonObject().count), "B")
}
