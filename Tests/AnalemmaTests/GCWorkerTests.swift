import Foundation
import Testing

@testable import Analemma

@Suite("GC worker messages")
struct GCWorkerTests {
    static let hash = String(repeating: "ab", count: 32)

    @Test("a candidate names a valid owner and a SHA-256 block")
    func valid() throws {
        let c = try GCWorkerService.candidate(#"{"owner_id":"team-a","block":"\#(Self.hash)","reason":"r"}"#)
        #expect(c.owner_id == "team-a" && c.block == Self.hash)
    }

    @Test(
        "bad candidates are refused by name (they fail alone and end in the DLQ)",
        arguments: [
            (#"not json"#, "is not {\"owner_id\", \"block\"}"), (#"{"owner_id":"../x","block":"\#(hash)"}"#, "owner id"),
            (#"{"owner_id":"a","block":"ABC"}"#, "not a SHA-256 hex digest"),
            (#"{"owner_id":"a","block":"\#(String(repeating: "G", count: 64))"}"#, "not a SHA-256 hex digest"),
        ])
    func refused(body: String, expected: String) {
        #expect { _ = try GCWorkerService.candidate(body) } throws: { "\($0)".contains(expected) }
    }
}
