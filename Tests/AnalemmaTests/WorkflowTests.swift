import Analemma
import Foundation
import Testing

@Suite("Workflow definitions: validation corpus and partitioning into segments")
struct WorkflowTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    static let corpus: [String] =
        (try? FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent("Fixtures/workflows").path))?
        .filter { $0.hasPrefix("invalid-") }.sorted() ?? []

    struct Case: Decodable {
        let expect_node: String
        let expect: String
        /// `runner`: only the segment runner can tell (skills, templates); otherwise the graph validator already does.
        let level: String?
        let workflow: WorkflowDefinition
    }

    static func example() throws -> WorkflowDefinition {
        let url = root.deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent(
            "Deploy/examples/workflows/research-brief.json")
        return try WorkflowDefinition.decode(Data(contentsOf: url))
    }

    @Test("the corpus covers every error class")
    func corpusSize() { #expect(Self.corpus.count >= 14) }

    @Test("every invalid workflow is rejected with its node id and the reason", arguments: corpus)
    func invalid(file: String) throws {
        let data = try Data(contentsOf: Self.root.appendingPathComponent("Fixtures/workflows/\(file)"))
        let c = try JSONDecoder().decode(Case.self, from: data)
        #expect {
            try NodeExecutor().check(c.workflow)
        } throws: { error in
            guard let e = error as? AnalemmaError else { return false }
            return e.code == .invalidWorkflow && e.message.contains("\"\(c.expect_node)\"") && e.message.contains(c.expect)
        }
        if c.level != "runner" {
            #expect(throws: AnalemmaError.self) { _ = try SegmentPartitioner.partition(c.workflow) }
        }
    }

    @Test("the examples under Deploy/examples/workflows pass every check the runner makes")
    func examplesValid() throws {
        let dir = Self.root.deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Deploy/examples/workflows")
        let files = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter {
            $0.hasSuffix(".json") && !$0.hasSuffix("schema.json")
        }
        #expect(files.count >= 4)
        for file in files {
            try NodeExecutor().check(try WorkflowDefinition.decode(Data(contentsOf: dir.appendingPathComponent(file))))
        }
    }

    @Test("malformed documents name where they are wrong")
    func malformed() {
        #expect {
            _ = try WorkflowDefinition.decode(Data(#"{"workflow_id":"w","entry":"a","nodes":[{"id":"a"}],"edges":[]}"#.utf8))
        } throws: {
            "\($0)".contains("\"type\"") && "\($0)".contains(".nodes[0]")
        }
        #expect(throws: AnalemmaError.self) { _ = try WorkflowDefinition.decode(Data("[]".utf8)) }
        #expect {
            _ = try WorkflowDefinition.decode(Data(#"{"workflow_id":"w","entry":"a","nodes":[{"id":"a","type":"route"}],"edgs":[]}"#.utf8))
        } throws: { "\($0)".contains("missing \"edges\"") }
        #expect {
            _ = try WorkflowDefinition.decode(
                Data(#"{"workflow_id":"w","entry":"a","nodes":[{"id":"a","type":"route","raeds":["x"]}],"edges":[]}"#.utf8))
        } throws: { "\($0)".contains("unknown key \"raeds\" at .nodes[0]") && ($0 as? AnalemmaError)?.code == .invalidWorkflow }
        #expect {
            _ = try WorkflowDefinition.decode(
                Data(#"{"workflow_id":"w","entry":"a","nodes":[],"edges":[{"from":"a","to":"a","when":{"field":"f","equal":1}}]}"#.utf8))
        } throws: { "\($0)".contains("unknown key \"equal\" at .edges[0].when") }
    }

    @Test("the example cuts at the LLM and the human: prepare+normalise | draft | review | decide | publish")
    func example() throws {
        let segments = try SegmentPartitioner.partition(try Self.example())
        #expect(segments.map(\.nodes) == [["prepare", "normalise"], ["draft"], ["review"], ["decide"], ["publish"]])
        #expect(segments[0].reads == ["topic"] && segments[0].writes == ["query"])
        #expect(segments[3].next == [4, 1], "decide goes on to publish or back to draft")
        #expect(segments[4].next.isEmpty)
    }

    /// Random valid-by-construction workflows: a spine from the entry plus random extra forward edges.
    static func random(seed: UInt64, size: Int) -> WorkflowDefinition {
        var x = seed | 1
        func next(_ n: Int) -> Int {
            x ^= x << 13
            x ^= x >> 7
            x ^= x << 17
            return Int(x % UInt64(n))
        }
        let types = ["llm", "skill", "hitp", "map", "route", "skill", "skill"]
        let nodes = (0..<size).map { i in
            WorkflowDefinition.Node(
                id: "n\(i)", type: types[next(types.count)], reads: ["f\(next(5))"], writes: ["f\(next(5))"], skill: "template",
                config: nil,
                timeoutSeconds: nil, retry: nil, heal: nil)
        }
        var edges = (1..<size).map { WorkflowDefinition.Edge(from: "n\(next($0))", to: "n\($0)", when: nil, maxTraversals: nil) }
        for _ in 0..<(size / 2) {
            let a = next(size)
            let b = next(size)
            edges.append(.init(from: "n\(min(a, b))", to: "n\(max(a, b))", when: nil, maxTraversals: a == b ? 1 : nil))
        }
        return WorkflowDefinition(workflowID: "random", version: 1, entry: "n0", nodes: nodes, edges: edges)
    }

    @Test("partitioning properties hold on random workflows", arguments: Array(1...40))
    func properties(seed: Int) throws {
        let w = Self.random(seed: UInt64(seed) &* 0x9E37_79B9, size: 3 + seed % 17)
        let segments = try SegmentPartitioner.partition(w)
        let all = segments.flatMap(\.nodes)
        #expect(all.sorted() == w.nodes.map(\.id).sorted(), "every node in exactly one segment")
        let type = Dictionary(uniqueKeysWithValues: w.nodes.map { ($0.id, $0.type) })
        for s in segments where s.nodes.count > 1 {
            #expect(!s.nodes.contains { ["llm", "hitp", "map"].contains(type[$0]!) }, "a boundary node never shares a segment: \(s.nodes)")
        }
        let edges = Set(w.edges.map { [$0.from, $0.to] })
        for s in segments {
            for (a, b) in zip(s.nodes, s.nodes.dropFirst()) { #expect(edges.contains([a, b]), "segment is a chain of edges") }
            for n in s.next { #expect(edges.contains([s.nodes.last!, segments[n].nodes.first!])) }
        }
        #expect(segments.first?.nodes.first == w.entry)
    }
}
