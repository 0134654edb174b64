import Foundation
import Testing

@testable import Analemma

/// Time travel for users: naming checkpoints, comparing them, and what a fork request may say.
@Suite("Time travel and fork")
struct TimeTravelTests {
    static func ref(_ digest: String, size: Int = 3, block: String = "b") -> FieldRef {
        FieldRef(block: block, offset: 0, length: size, size: size, sha256: digest, encoding: "identity", temperature: .warm, mutations: 1)
    }

    static func checkpoint(_ id: String, version: Int) -> ExecutionHistory.Checkpoint {
        var m = Manifest(parentManifestID: nil, executionID: "e", ownerID: "o", segmentIndex: version, fields: [:])
        m.manifestID = id
        return ExecutionHistory.Checkpoint(manifest: m, version: version, preparedAtMillis: 0, fields: [:], changed: [], removed: [])
    }

    static let chain = [checkpoint("aaaaaaaa11", version: 1), checkpoint("aaaaaaaa22", version: 2), checkpoint("bbbbbbbb33", version: 3)]

    @Test("a checkpoint is named by version, by a unique manifest-id prefix of 8 or more, or is the head")
    func find() throws {
        #expect(try ExecutionHistory.find(nil, in: Self.chain).version == 3)
        #expect(try ExecutionHistory.find("v2", in: Self.chain).manifest.manifestID == "aaaaaaaa22")
        #expect(try ExecutionHistory.find("bbbbbbbb", in: Self.chain).version == 3)
        for bad in ["aaaaaaaa", "v9", "bbbb", "v-1", "vx", ""] {
            #expect(throws: AnalemmaError.self) { try ExecutionHistory.find(bad, in: Self.chain) }
        }
        #expect(throws: AnalemmaError.self) { try ExecutionHistory.find(nil, in: []) }
    }

    @Test("a diff names each field added, removed or changed by content, not by where its bytes moved")
    func diff() {
        let a = ["same": Self.ref("s", block: "b1"), "moved": Self.ref("m", block: "b1"), "gone": Self.ref("g"), "edited": Self.ref("e1")]
        let b = [
            "same": Self.ref("s", block: "b1"), "moved": Self.ref("m", block: "b2"), "new": Self.ref("n", size: 9),
            "edited": Self.ref("e2"),
        ]
        let changes = ExecutionHistory.diff(a, b)
        #expect(changes.map(\.field) == ["edited", "gone", "new"])
        #expect(changes.map(\.kind) == [.changed, .removed, .added])
        #expect(changes.last?.after == 9 && changes[1].before == 3)
    }

    static func parse(_ json: String) throws -> ForkRequest { try ForkRequest.parse(Data(json.utf8)) }

    @Test("a fork request keeps its set values as raw JSON and names what it needs")
    func forkRequest() throws {
        let r = try Self.parse(
            #"{"execution_id": "arn:e", "owner_id": "team-a", "at": "abc", "set": {"notes": "x", "n": 1e3}, "from": "publish"}"#)
        #expect(r.executionID == "arn:e" && r.ownerID == "team-a" && r.at == "abc" && r.from == "publish")
        #expect(r.set["notes"] == Data(#""x""#.utf8) && r.set["n"] == Data("1e3".utf8))
        for bad in [
            #"{"owner_id": "a", "at": "x"}"#, #"{"execution_id": "e", "owner_id": "a", "at": 5}"#,
            #"{"execution_id": "e", "owner_id": "a", "at": "x", "set": [1]}"#,
            #"{"execution_id": "e", "owner_id": "a", "at": "x", "other": 1}"#,
            #"{"execution_id": "", "owner_id": "a", "at": "x"}"#, "[]",
        ] {
            let error = #expect(throws: AnalemmaError.self) { try Self.parse(bad) }
            #expect(error?.code == .invalidEvent)
        }
    }

    @Test("a fork never sets a protected field")
    func protected() throws {
        var bag = StateBag()
        for name in ["cursor", "lineage", "owner_id", "llm_usage"] {
            let error = #expect(throws: AnalemmaError.self) { try bag.merge([name: Data("{}".utf8)], from: .fork) }
            #expect(error?.code == .protectedField)
        }
        try bag.merge(["notes": Data(#""ok""#.utf8)], from: .fork)
        #expect(bag["notes"] == Data(#""ok""#.utf8))
    }
}
