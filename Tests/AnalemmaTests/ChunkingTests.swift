import Foundation
import Testing

@testable import Analemma

@Suite("Map chunking and items")
struct ChunkingTests {
    @Test("chunks keep every item in order, at most `size` items and 256 KB each", arguments: 0..<30)
    func properties(seed: Int) throws {
        var rng = SplitMix(seed: UInt64(seed))
        let count = Int(rng.next() % 400)
        let items = (0..<count).map { i in
            Int(rng.next() % 10) == 0 ? #"{"big":"\#(String(repeating: "x", count: Int(rng.next() % 90_000)))"}"# : #"{"i":\#(i)}"#
        }
        let array = Data(("[" + items.joined(separator: ", ") + "]").utf8)
        let size = 1 + Int(rng.next() % 50)
        let chunks = try DistributedChunkService.chunks(of: array, size: size)
        #expect(chunks.flatMap { $0 }.map { String(decoding: $0, as: UTF8.self) } == items)
        for c in chunks {
            #expect(c.count <= size && !c.isEmpty)
            #expect(c.count == 1 || c.reduce(0) { $0 + $1.count } <= DistributedChunkService.maxChunkBytes)
        }
    }

    @Test(
        "the chunking rule: about four waves of max_concurrency, 1 to 1000 items per chunk",
        arguments: [(0, 40, 1), (10, 40, 1), (1000, 40, 7), (10_000, 40, 63), (1_000_000, 40, 1000), (1000, 1, 250)])
    func rule(items: Int, concurrency: Int, expected: Int) {
        #expect(DistributedChunkService.chunkSize(items: items, maxConcurrency: concurrency) == expected)
    }

    @Test("a chunk's frame reads back as itself, at the range its encoding occupies among others")
    func frames() throws {
        let chunks: [[Data]] = [[Data(#"{"i":0}"#.utf8), Data("[1,2]".utf8)], [Data(#""x""#.utf8)], [Data("null".utf8), Data("3".utf8)]]
        var object = Data()
        var ranges: [Range<Int>] = []
        var first = 0
        for (i, c) in chunks.enumerated() {
            let frame = ChunkFrame(index: i, first: first, items: c).encoded()
            ranges.append(object.count..<object.count + frame.count)
            object.append(frame)
            object.append(UInt8(ascii: "\n"))
            first += c.count
        }
        for (i, r) in ranges.enumerated() {
            let frame = try ChunkFrame.parse(object.subdata(in: r), index: i, items: 5, chunkSize: 2)
            #expect(frame.items == chunks[i] && frame.first == [0, 2, 3][i])
        }
    }

    @Test(
        "a range that is not exactly the claimed chunk's frame is refused",
        arguments: [
            #"{"chunk":1,"first":0,"items":[1]}"#,  // another chunk's frame
            #"{"chunk":0,"first":0,"items":[1]}{"chunk":1,"first":1,"items":[2]}"#,  // two frames
            #"{"chunk":0,"first":0,"items":[1]}"# + "\n" + #"{"#,  // a frame and more
            #""chunk":0,"first":0,"items":[1]}"#,  // part of one
            #"{"chunk":0,"first":0,"items":[1],"x":1}"#, #"{"chunk":0,"chunk":0,"items":[1]}"#,  // other members
            #"{"chunk":0,"first":-1,"items":[1]}"#, #"{"chunk":0,"first":1e300,"items":[1]}"#, #"{"chunk":"0","first":0,"items":[1]}"#,
            #"{"chunk":0,"first":9,"items":[1]}"#,  // past the map's items
            #"{"chunk":0,"first":0,"items":[1,2,3]}"#,  // more than chunk_size
            #"{"chunk":0,"first":0,"items":[]}"#, #"{"chunk":0,"first":0,"items":{}}"#, "[1]", "",
        ])
    func forgedFrames(text: String) {
        #expect(throws: AnalemmaError.self) { try ChunkFrame.parse(Data(text.utf8), index: 0, items: 5, chunkSize: 2) }
    }

    @Test("a chunk's pointer for redrive names its frame's inclusive byte range")
    func rangePointer() {
        let object = S3Location(bucket: "b", key: "owners/o/executions/e/map/m/1/chunks.jsonl")
        #expect(ChunkRange(offset: 10, length: 5).pointer(object) == "s3://b/owners/o/executions/e/map/m/1/chunks.jsonl#bytes=10-14")
        #expect(ChunkRange(offset: 10, length: 5).bytes == 10...14)
    }

    @Test("chunk names are 1-based and zero-padded as in the seed")
    func names() {
        #expect(DistributedChunkService.chunkName(0) == "chunk_0001.json")
        #expect(DistributedChunkService.chunkName(9999) == "chunk_10000.json")
    }

    @Test("not an array is InvalidState")
    func notArray() {
        #expect { _ = try DistributedChunkService.chunks(of: Data("{}".utf8), size: 1) } throws: {
            ($0 as? AnalemmaError)?.code == .invalidState
        }
    }

    static func spec(_ workflow: String, extra: String = "") throws -> MapSpec {
        let config = try JSONDecoder().decode(
            [String: JSONValue].self, from: Data(#"{"items":"docs",\#(extra)"workflow":\#(workflow)}"#.utf8))
        return try MapSpec(node: .init(id: "m", type: "map", reads: ["docs"], writes: ["out"], config: config), executor: NodeExecutor())
    }

    @Test("an item runs through the sub-workflow; its result is the declared outputs")
    func item() async throws {
        let spec = try Self.spec(
            #"{"entry":"a","outputs":["y"],"nodes":[{"id":"a","type":"skill","skill":"json_extract","reads":["item"],"writes":["t"],"config":{"from":"item","path":"t"}},{"id":"b","type":"skill","skill":"template","reads":["t"],"writes":["y"],"config":{"template":"<{{t}}>"}}],"edges":[{"from":"a","to":"b"}]}"#
        )
        let executor = MapExecutor(executor: NodeExecutor(), chunks: DistributedChunkService(s3: try S3.unused(), bucket: "b"))
        let out = try await executor.runItem(Data(#"{"t":"hi"}"#.utf8), spec: spec)
        #expect(String(decoding: out, as: UTF8.self) == #"{"y":"<hi>"}"#)
    }

    @Test("a sub-workflow may not wait for a human or fan out again; tolerance is a percentage")
    func badSpecs() {
        #expect { _ = try Self.spec(#"{"entry":"h","nodes":[{"id":"h","type":"hitp","writes":["x"]}],"edges":[]}"#) } throws: {
            "\($0)".contains("cannot wait for a human")
        }
        #expect { _ = try Self.spec(#"{"entry":"a","nodes":[{"id":"a","type":"route"}],"edges":[{"from":"a","to":"z"}]}"#) } throws: {
            "\($0)".contains("config.workflow") && "\($0)".contains("\"z\"")
        }
    }

    static let trivial =
        #"{"entry":"a","nodes":[{"id":"a","type":"skill","skill":"template","writes":["y"],"config":{"template":"x"}}],"edges":[]}"#

    @Test(
        "tolerance: a percentage, a count, or both (either exceeded fails); neither tolerates nothing",
        arguments: [
            ("", 0.0, nil), (#""tolerated_failure_percentage":5,"#, 5.0, nil), (#""tolerated_failure_count":3,"#, 100.0, 3),
            (#""tolerated_failure_percentage":5,"tolerated_failure_count":3,"#, 5.0, 3),
        ] as [(String, Double, Int?)])
    func tolerance(_ extra: String, percentage: Double, count: Int?) throws {
        let spec = try Self.spec(Self.trivial, extra: extra)
        #expect(spec.toleratedFailurePercentage == percentage && spec.toleratedFailureCount == count)
    }

    @Test("a tolerated failure count must be a non-negative integer", arguments: ["-1", "1.5", "\"2\""])
    func badCount(_ value: String) {
        #expect { _ = try Self.spec(Self.trivial, extra: #""tolerated_failure_count":\#(value),"#) } throws: {
            "\($0)".contains("tolerated_failure_count")
        }
    }
}

/// Deterministic PRNG for property tests.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed &+ 0x9E37_79B9_7F4A_7C15 }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

extension S3 {
    /// A client that is never called (pure-logic tests).
    static func unused() throws -> S3 {
        try S3(client: AWSClient(credentials: AWSCredentials(accessKeyID: "k", secretAccessKey: "s"), region: "us-east-1"))
    }
}
