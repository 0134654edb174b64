import Foundation
import Testing

@testable import Analemma

/// The node type `docs/adding-a-node-type.md` adds: the one new file.
struct WordCountNode: NodeKind {
    let name = "word_count"
    let guide = "config.from names a read text field; its one write receives the number of words"
    let place = NodePlace.chained
    var configKeys: Set<String>? { ["from"] }

    func check(_ node: WorkflowDefinition.Node, executor: NodeExecutor) throws {
        guard case .string(let from)? = node.config?["from"], (node.reads ?? []).contains(from), node.writes?.count == 1 else {
            throw AnalemmaError(.invalidWorkflow, "node \(node.id.debugDescription): word_count needs config.from (a read) and one write")
        }
    }

    func run(_ node: WorkflowDefinition.Node, _ input: SkillInput, executor: NodeExecutor) async throws -> NodeOutcome {
        guard case .string(let text)? = try input.value(try input.string("from")) else {
            throw AnalemmaError(.skillFailed, "node \(node.id.debugDescription): config.from is not a text field")
        }
        let words = text.split(whereSeparator: { $0 == " " || $0 == "\n" }).count
        return NodeOutcome(updates: [try input.target(): JSONValue.number(Double(words)).jsonData()], attempts: 1)
    }
}

@Suite("Node kinds: one registry that the validator, partitioner, executor, schema and co-designer read")
struct NodeKindTests {
    /// The one registration line.
    static let kinds = NodeKinds.standard.adding(WordCountNode())

    static let workflow = WorkflowDefinition(
        workflowID: "count", entry: "draft",
        nodes: [
            .init(id: "draft", type: "skill", writes: ["text"], skill: "template", config: ["template": .string("one two three")]),
            .init(id: "count", type: "word_count", reads: ["text"], writes: ["words"], config: ["from": .string("text")]),
        ],
        edges: [.init(from: "draft", to: "count")])

    @Test("an unregistered type is refused, naming the known ones")
    func unknown() {
        #expect { try NodeExecutor().check(Self.workflow) } throws: {
            "\($0)".contains(#"unknown node type "word_count""#) && "\($0)".contains("hitp, llm, map, route, skill")
        }
    }

    @Test("a registered kind is validated, chained into its segment and run like a built-in")
    func added() async throws {
        let executor = NodeExecutor(kinds: Self.kinds)
        try executor.check(Self.workflow)
        #expect(try SegmentPartitioner.partition(Self.workflow, kinds: Self.kinds).map(\.nodes) == [["draft", "count"]])
        let node = Self.workflow.nodes[1]
        let out = try await executor.run(node, fields: ["text": Data(#""one two three""#.utf8)])
        #expect(out.updates == ["words": Data("3".utf8)])
        var typo = Self.workflow
        typo.nodes[1].config = ["form": .string("text")]
        #expect { try executor.check(typo) } throws: { "\($0)".contains(#"unknown config key "form" for a word_count node (known: from)"#) }
    }

    @Test("the schema and the co-designer's prompt list the new kind")
    func derived() throws {
        let schema = try WorkflowSchema.derive(
            .object(["$defs": .object(["node": .object(["properties": .object(["type": .object([:])])])])]), kinds: Self.kinds)
        #expect(
            try schema.value(at: "$defs.node.properties.type.enum")
                == .array(["skill", "llm", "hitp", "route", "map", "word_count"].map(JSONValue.string)))
        #expect(CoDesigner.instructions(NodeExecutor(kinds: Self.kinds)).contains(#""word_count" (config.from names a read text field"#))
    }

    @Test("where each built-in runs: model calls, human waits and maps end their segment; skills and routes chain")
    func places() {
        let places = Dictionary(uniqueKeysWithValues: NodeKinds.standard.all.map { ($0.name, $0.place) })
        #expect(places == ["skill": .chained, "route": .chained, "llm": .own, "hitp": .human, "map": .map])
        #expect(NodeKinds.standard.all.filter(\.callsModel).map(\.name) == ["llm"])
    }
}
