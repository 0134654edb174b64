import Foundation
import Testing

@testable import Analemma

/// Numbers from outside are checked where they are parsed; workflow size and budgets are refused at validation.
@Suite("Numbers, limits and budgets")
struct LimitsTests {
    static func workflow(_ nodes: String, edges: String = "[]", extra: String = "") -> Data {
        Data(#"{"workflow_id":"w","entry":"a","nodes":[\#(nodes)],"edges":\#(edges)\#(extra)}"#.utf8)
    }

    static func check(_ document: Data) throws { try NodeExecutor().check(try WorkflowDefinition.decode(document)) }

    static let llm = #"{"id":"a","type":"llm","reads":[],"writes":["out"],"config":{"prompt":"hi""#
    static let map =
        #"{"id":"a","type":"map","reads":["docs"],"writes":["scores"],"config":{"items":"docs","workflow":{"entry":"s","nodes":[{"id":"s","type":"route"}],"edges":[]}"#

    @Test(
        "extreme numbers in every numeric config field are located errors, never a crash",
        arguments: [
            (llm + #","max_output_tokens":1e300}}"#, "config.max_output_tokens"),
            (llm + #","latency_budget_ms":-1e300}}"#, "latency_budget_ms"),
            (llm + #","temperature":1e300}}"#, "temperature"), (llm + #","thinking_budget":2.5}}"#, "thinking_budget"),
            (llm + #","max_steps":1e300}}"#, "max_steps"), (map + #","chunk_size":1e300}}"#, "config.chunk_size"),
            (map + #","inline_max_chunks":1e300}}"#, "inline_max_chunks"), (map + #","max_concurrency":-1}}"#, "max_concurrency"),
            (map + #","tolerated_failure_count":1e300}}"#, "tolerated_failure_count"),
            (map + #","tolerated_failure_percentage":-0.5}}"#, "tolerated_failure_percentage must be 0–100"),
        ])
    func extremeNumbers(node: String, names: String) {
        #expect { try Self.check(Self.workflow(node)) } throws: { error in
            (error as? AnalemmaError)?.code == .invalidWorkflow && "\(error)".contains(names) && "\(error)".contains(#"node "a""#)
        }
    }

    @Test(
        "Bounded never traps: non-finite, fractional and huge values are nil",
        arguments: [Double.nan, .infinity, -.infinity, 1e300, -1e300, 2.5, 0x1p63])
    func bounded(value: Double) {
        #expect(Bounded.integer(value, in: Int.min...Int.max) == nil)
        #expect(Bounded.integer(7, in: 0...10) == 7 && Bounded.integer(11, in: 0...10) == nil)
    }

    @Test(
        "unknown config keys of each node type are refused, naming the key",
        arguments: [
            (llm + #","complexty":"high"}}"#, "complexty"), (llm + #","temprature":0.2}}"#, "temprature"),
            (map + #","intoo":"x"}}"#, "intoo"),
            (#"{"id":"a","type":"hitp","writes":["x"],"config":{"question":"q","parts":[]}}"#, "parts"),
            (#"{"id":"a","type":"skill","skill":"template","writes":["x"],"config":{"template":"t","tempalte":"u"}}"#, "tempalte"),
            (#"{"id":"a","type":"route","config":{"when":1}}"#, "when"),
        ])
    func unknownKeys(node: String, key: String) {
        #expect { try Self.check(Self.workflow(node)) } throws: { error in
            (error as? AnalemmaError)?.code == .invalidWorkflow && "\(error)".contains("unknown config key \"\(key)\"")
        }
    }

    @Test("workflow size limits and budgets are refused at validation, before any state")
    func limits() throws {
        let many = (0...WorkflowLimits.maxNodes).map { #"{"id":"n\#($0)","type":"route"}"# }.joined(separator: ",")
        #expect { try Self.check(Self.workflow(many.replacingOccurrences(of: #""n0""#, with: #""a""#))) } throws: {
            "\($0)".contains("nodes; the limit is \(WorkflowLimits.maxNodes)")
        }
        let writers = (0...WorkflowLimits.maxStateFields).map { #"{"id":"w\#($0)","type":"route","writes":["f\#($0)"]}"# }
        #expect { try Self.check(Self.workflow(#"{"id":"a","type":"route"},"# + writers.joined(separator: ","))) } throws: {
            "\($0)".contains("state fields written; the limit is \(WorkflowLimits.maxStateFields)")
        }
        let loop = #"[{"from":"a","to":"b"},{"from":"b","to":"a","max_traversals":1000000000}]"#
        #expect { try Self.check(Self.workflow(#"{"id":"a","type":"route"},{"id":"b","type":"route"}"#, edges: loop)) } throws: {
            "\($0)".contains("max_traversals must be 1–\(WorkflowLimits.maxTraversals)")
        }
        #expect { try Self.check(Self.workflow(#"{"id":"a","type":"route"}"#, extra: #","budget":{"node_runs":1e9}"#)) } throws: {
            "\($0)".contains("budget.node_runs must be 1–1000000")
        }
        #expect { try Self.check(Self.workflow(#"{"id":"a","type":"route"}"#, extra: #","budget":{"node_runz":5}"#)) } throws: {
            "\($0)".contains("unknown key \"node_runz\"")
        }
        #expect { try Self.check(Data(repeating: 32, count: WorkflowLimits.maxDocumentBytes + 1)) } throws: {
            "\($0)".contains("bytes; the limit")
        }
        try Self.check(Self.workflow(#"{"id":"a","type":"route"}"#, extra: #","budget":{"node_runs":50,"wall_seconds":60}"#))
    }

    @Test("with inputs declared, a read that no node writes and no input declares is a validation error")
    func declaredInputs() throws {
        let nodes = #"{"id":"a","type":"skill","skill":"template","reads":["topc"],"writes":["q"],"config":{"template":"{{topc}}"}}"#
        #expect { try Self.check(Self.workflow(nodes, extra: #","inputs":["topic"]"#)) } throws: {
            "\($0)".contains(#"reads "topc", which no node writes and inputs does not declare"#)
        }
        try Self.check(Self.workflow(nodes.replacingOccurrences(of: "topc", with: "topic"), extra: #","inputs":["topic"]"#))
        let edges = #"[{"from":"a","to":"b","when":{"field":"aproval","equals":"yes"}},{"from":"a","to":"b"}]"#
        #expect {
            try Self.check(Self.workflow(#"{"id":"a","type":"route"},{"id":"b","type":"route"}"#, edges: edges, extra: #","inputs":[]"#))
        } throws: { "\($0)".contains(#"tests "aproval""#) }
    }

    @Test("a budget stops the run before the node that would exceed it, naming the limit")
    func budget() throws {
        let budget = Budget(nodeRuns: 3, modelTokens: 100, wallSeconds: 10)
        try budget.check(runs: 2, tokens: 99, startedAtMillis: 0, now: 9_999)
        #expect { try budget.check(runs: 3, tokens: 0, startedAtMillis: 0, now: 0) } throws: { "\($0)".contains("budget.node_runs") }
        #expect { try budget.check(runs: 0, tokens: 100, startedAtMillis: 0, now: 0) } throws: { "\($0)".contains("budget.model_tokens") }
        #expect { try budget.check(runs: 0, tokens: 0, startedAtMillis: 0, now: 10_000) } throws: {
            ($0 as? AnalemmaError)?.code == .budgetExceeded && "\($0)".contains("budget.wall_seconds")
        }
        #expect(Budget().limit(\.nodeRuns) == Budget.defaults.nodeRuns)
    }

    @Test("a model answer with an impossible token count is a model error, not a crash")
    func tokenCounts() {
        let body = #"{"candidates":[{"content":{"parts":[{"text":"x"}]}}],"usageMetadata":{"promptTokenCount":1e300}}"#
        #expect { _ = try GeminiWire.Response.parse(Data(body.utf8)) } throws: { ($0 as? AnalemmaError)?.code == .modelError }
    }
}

@Suite("Unicode of outside JSON")
struct UnicodeCheckTests {
    @Test(
        "a lone surrogate escape is found and named; pairs, escaped backslashes and plain text pass",
        arguments: [
            (#"{"a":"\ud800"}"#, "\\ud800"), (#"{"a":"\udc00x"}"#, "\\udc00"), (#"{"a":"\ud83d\u0041"}"#, "\\ud83d"),
            (#"{"a":"ok","b":["\ud800"]}"#, "\\ud800"),
        ])
    func lone(json: String, names: String) {
        #expect(UnicodeCheck.problem(in: Array(json.utf8))?.contains(names) == true)
    }

    @Test("valid text passes", arguments: [#"{"a":"\ud83d\ude00"}"#, #"{"a":"\\ud800"}"#, #"{"a":"é ✓ \u00e9"}"#, "[]"])
    func valid(json: String) {
        #expect(UnicodeCheck.problem(in: Array(json.utf8)) == nil)
    }

    @Test("invalid UTF-8 is named")
    func invalidUTF8() {
        #expect(UnicodeCheck.problem(in: [0x22, 0xFF, 0x22]) == "invalid UTF-8")
    }
}

@Suite("The published workflow schema")
struct WorkflowSchemaTests {
    @Test("its per-type config keys are the ones the executor accepts", arguments: ["llm", "hitp", "map"])
    func configKeys(type: String) throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let data = try Data(contentsOf: root.appendingPathComponent("Deploy/examples/workflows/workflow.schema.json"))
        let schema = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let node = try #require((schema["$defs"] as? [String: Any])?["node"] as? [String: Any])
        let rules = try #require(node["allOf"] as? [[String: Any]])
        let rule = try #require(
            rules.first { (($0["if"] as? [String: Any])?["properties"] as? [String: Any])?["type"] as? [String: String] == ["const": type] }
        )
        let config = try #require(((rule["then"] as? [String: Any])?["properties"] as? [String: Any])?["config"] as? [String: Any])
        let listed = try #require((config["propertyNames"] as? [String: Any])?["enum"] as? [String])
        #expect(Set(listed) == NodeExecutor.configKeys[type])
    }
}
