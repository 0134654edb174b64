import Foundation
import Synchronization
import Testing

@testable import Analemma

/// A skill that fails a set number of times, then succeeds (retry tests); and one that writes what it is told.
struct FlakySkill: Skill {
    let name = "flaky"
    let calls = Counter()
    let failures: Int
    func run(_ input: SkillInput) async throws -> [String: Data] {
        if calls.next() <= failures { throw FlakyError() }
        return ["out": Data(#""fine""#.utf8)]
    }
    struct FlakyError: Error {}
}

struct RogueSkill: Skill {
    let name = "rogue"
    let writes: [String: Data]
    func run(_ input: SkillInput) async throws -> [String: Data] { writes }
}

final class Counter: Sendable {
    private let value = Mutex(0)
    func next() -> Int {
        value.withLock {
            $0 += 1
            return $0
        }
    }
}

@Suite("Node execution and routing")
struct NodeExecutorTests {
    static func node(_ skill: String, retry: Int? = nil, writes: [String] = ["out"]) -> WorkflowDefinition.Node {
        WorkflowDefinition.Node(
            id: "n", type: "skill", reads: [], writes: writes, skill: skill,
            retry: retry.map { WorkflowDefinition.Limits(maxAttempts: $0) })
    }

    @Test("a failing node is retried retry.max_attempts more times, then fails as SkillFailed naming node and attempts")
    func retries() async throws {
        var registry = SkillRegistry()
        registry.register(FlakySkill(failures: 2))
        let ok = try await NodeExecutor(skills: registry).run(Self.node("flaky", retry: 2), fields: [:])
        #expect(ok.attempts == 3)
        var again = SkillRegistry()
        again.register(FlakySkill(failures: 5))
        await #expect {
            _ = try await NodeExecutor(skills: again).run(Self.node("flaky", retry: 1), fields: [:])
        } throws: {
            ($0 as? AnalemmaError)?.code == .skillFailed && "\($0)".contains("\"n\"") && "\($0)".contains("after 2 attempts")
        }
    }

    @Test(
        "a node may only write its declared, unprotected fields",
        arguments: [("owner_id", ErrorCode.protectedField), ("other", .invalidState)])
    func writes(field: String, code: ErrorCode) async throws {
        var registry = SkillRegistry()
        registry.register(RogueSkill(writes: [field: Data(#""x""#.utf8)]))
        await #expect {
            _ = try await NodeExecutor(skills: registry).run(Self.node("rogue", retry: 3), fields: [:])
        } throws: { ($0 as? AnalemmaError)?.code == code && "\($0)".contains(field) }
    }

    @Test("llm nodes render their prompt from declared reads and write the model's text")
    func llm() async throws {
        let node = WorkflowDefinition.Node(
            id: "ask", type: "llm", reads: ["q"], writes: ["a"], config: ["prompt": .string("Q: {{q}}"), "complexity": .string("low")])
        let out = try await NodeExecutor().run(node, fields: ["q": Data(#""why?""#.utf8)])
        #expect(String(decoding: out.updates["a"]!, as: UTF8.self) == #""[standin] Q: why?""#)
        #expect(out.model?.model == "standin")
    }

    static let branching = WorkflowDefinition(
        workflowID: "w", entry: "a",
        nodes: ["a", "b", "c"].map { WorkflowDefinition.Node(id: $0, type: "route") },
        edges: [
            .init(from: "a", to: "b", when: .init(field: "go", equals: .string("b"), exists: nil)),
            .init(from: "a", to: "c"),
            .init(from: "b", to: "a", maxTraversals: 2),
        ])

    @Test("the first holding condition wins, else the default edge")
    func routing() throws {
        let router = WorkflowRouter(Self.branching)
        var t: [String: Int] = [:]
        #expect(try router.next(after: "a", fields: ["go": Data(#""b""#.utf8)], traversals: &t) == "b")
        #expect(try router.next(after: "a", fields: ["go": Data(#""x""#.utf8)], traversals: &t) == "c")
        #expect(try router.next(after: "a", fields: [:], traversals: &t) == "c")
        #expect(try router.next(after: "c", fields: [:], traversals: &t) == nil)
        #expect(t == ["a->b": 1, "a->c": 2])
    }

    @Test("a bounded edge is skipped once used up; with no other edge that is NoRoute naming the edge")
    func bounds() throws {
        let router = WorkflowRouter(Self.branching)
        var t: [String: Int] = [:]
        #expect(try router.next(after: "b", fields: [:], traversals: &t) == "a")
        #expect(try router.next(after: "b", fields: [:], traversals: &t) == "a")
        #expect { _ = try router.next(after: "b", fields: [:], traversals: &t) } throws: {
            ($0 as? AnalemmaError)?.code == .noRoute && "\($0)".contains("b->a (max_traversals 2)")
        }
    }

    @Test("conditions on edges are hydrated with the segment that routes on them")
    func conditionReads() throws {
        let w = WorkflowDefinition(
            workflowID: "w", entry: "a",
            nodes: [
                .init(id: "a", type: "skill", reads: ["x"], writes: ["y"], skill: "template"),
                .init(id: "b", type: "route"), .init(id: "c", type: "route"),
            ],
            edges: [.init(from: "a", to: "b", when: .init(field: "flag", equals: .bool(true), exists: nil)), .init(from: "a", to: "c")])
        let segments = try SegmentPartitioner.partition(w)
        #expect(segments[0].reads == ["x", "flag"])
    }
}

/// The example from Sources/Analemma/Skills/README.md, kept compiling and working here.
struct WordCountSkill: Skill {
    let name = "word_count"

    func validate(node: WorkflowDefinition.Node) throws {
        guard case .string(let from)? = node.config?["from"], (node.reads ?? []).contains(from) else {
            throw AnalemmaError(.invalidWorkflow, "node \(node.id.debugDescription): word_count needs config.from naming a read")
        }
    }

    func run(_ input: SkillInput) async throws -> [String: Data] {
        let text = try input.value(try input.string("from"))?.text ?? ""
        return [try input.target(): Data(String(text.split(whereSeparator: \.isWhitespace).count).utf8)]
    }
}

@Suite("A user-added skill")
struct UserSkillTests {
    static func workflow(from: String) -> WorkflowDefinition {
        WorkflowDefinition(
            workflowID: "w", entry: "count",
            nodes: [
                .init(id: "count", type: "skill", reads: ["essay"], writes: ["words"], skill: "word_count", config: ["from": .string(from)])
            ],
            edges: [])
    }

    @Test("registered skills are checked at initialize and run like built-ins")
    func registered() async throws {
        var skills = SkillRegistry.standard
        skills.register(WordCountSkill())
        let executor = NodeExecutor(skills: skills)
        try executor.check(Self.workflow(from: "essay"))
        #expect { try executor.check(Self.workflow(from: "other")) } throws: { "\($0)".contains("word_count needs config.from") }
        #expect { try NodeExecutor().check(Self.workflow(from: "essay")) } throws: { "\($0)".contains("unknown skill \"word_count\"") }
        let out = try await executor.run(Self.workflow(from: "essay").nodes[0], fields: ["essay": Data(#""one two  three""#.utf8)])
        #expect(out.updates["words"] == Data("3".utf8))
    }
}

/// Sleeps far longer than any node timeout in these tests.
struct SlowSkill: Skill {
    let name = "slow"
    func run(_ input: SkillInput) async throws -> [String: Data] {
        try await Task.sleep(for: .seconds(600))
        return [:]
    }
}

@Suite("Node timeouts")
struct NodeTimeoutTests {
    @Test("a node that outlives timeout_seconds fails as SkillFailed naming node and timeout, each attempt")
    func timeout() async throws {
        var skills = SkillRegistry()
        skills.register(SlowSkill())
        let node = WorkflowDefinition.Node(
            id: "sleepy", type: "skill", writes: [], skill: "slow", timeoutSeconds: 1, retry: .init(maxAttempts: 1))
        await #expect {
            _ = try await NodeExecutor(skills: skills).run(node, fields: [:])
        } throws: {
            ($0 as? AnalemmaError)?.code == .skillFailed && "\($0)".contains("\"sleepy\" timed out after 1 s")
                && "\($0)".contains("after 2 attempts")
        }
    }
}

@Suite("Self-healing inputs")
struct HealInputTests {
    @Test("a heal instruction reaches an llm prompt and a skill's input")
    func injected() async throws {
        let llm = WorkflowDefinition.Node(id: "ask", type: "llm", reads: [], writes: ["a"], config: ["prompt": .string("Q")])
        let out = try await NodeExecutor().run(llm, fields: [:], healInstruction: "be shorter")
        #expect(
            String(decoding: out.updates["a"]!, as: UTF8.self)
                == #""[standin] Q\n\nA previous attempt failed. Fix instruction: be shorter""#)
        let node = WorkflowDefinition.Node(
            id: "f", type: "skill", writes: ["out"], skill: "fail", config: ["unless_healed": .bool(true), "value": .string("v")])
        await #expect(throws: AnalemmaError.self) { _ = try await NodeExecutor().run(node, fields: [:]) }
        let healed = try await NodeExecutor().run(node, fields: [:], healInstruction: "retry")
        #expect(healed.updates["out"] == Data(#""v""#.utf8))
    }

    @Test("the failed node is read from the error message, only among the segment's nodes")
    func failedNode() {
        #expect(SegmentRunnerService.failedNode(#"node "b" (skill fail): boom"#, among: ["a", "b"]) == "b")
        #expect(SegmentRunnerService.failedNode(#"node "z": boom"#, among: ["a", "b"]) == nil)
        #expect(SegmentRunnerService.failedNode("no node named", among: ["a"]) == nil)
    }
}
