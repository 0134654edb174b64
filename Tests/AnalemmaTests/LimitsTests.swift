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
    @Test("its node types and per-type rules are the ones NodeKinds derives (make schema regenerates it)")
    func derived() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let committed = try JSONValue(json: Data(contentsOf: root.appendingPathComponent("Deploy/examples/workflows/workflow.schema.json")))
        #expect(try WorkflowSchema.derive(committed) == committed, "the schema is stale: run make schema")
    }

    @Test("each kind's config rule lists exactly the keys its check accepts", arguments: NodeKinds.standard.names)
    func configKeys(type: String) throws {
        let kind = try #require(NodeKinds.standard[type])
        guard let keys = kind.configKeys else { return }  // a skill node's keys are its skill's
        let node = WorkflowDefinition.Node(id: "n", type: type, config: ["not_a_key": .null])
        #expect { try NodeExecutor.checkConfigKeys(node, known: keys) } throws: { "\($0)".contains("unknown config key \"not_a_key\"") }
        guard case .object(let rule) = kind.schema, case .object(let props)? = rule["properties"],
            case .object(let config)? = props["config"]
        else {
            Issue.record("no config rule for \(type)")
            return
        }
        if keys.isEmpty {
            #expect(config["maxProperties"] == .number(0))
        } else {
            #expect(config["propertyNames"] == .object(["enum": .array(keys.sorted().map(JSONValue.string))]))
        }
    }
}
