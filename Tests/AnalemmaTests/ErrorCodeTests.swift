import Foundation
import Testing

@testable import Analemma

@Suite("Stable error codes")
struct ErrorCodeTests {
    @Test("codes are unique and namespaced Analemma.*")
    func unique() {
        let raw = ErrorCode.allCases.map(\.rawValue)
        #expect(Set(raw).count == raw.count)
        #expect(raw.allSatisfy { $0.hasPrefix("Analemma.") })
        #expect(ErrorCode.lambdaServiceErrors.allSatisfy { $0.hasPrefix("Lambda.") })
    }

    @Test("every ErrorEquals in StateMachines/*.asl.json is a known code, a Lambda or StartExecution service error or States.*")
    func aslUsesKnownCodes() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let dir = root.appendingPathComponent("StateMachines")
        let files = (try? FileManager.default.contentsOfDirectory(atPath: dir.path))?.filter { $0.hasSuffix(".asl.json") } ?? []
        #expect(files.contains("workflow.asl.json"))
        let known = Set(
            ErrorCode.allCases.map(\.rawValue) + ErrorCode.lambdaServiceErrors + ErrorCode.instanceDeathErrors
                + ErrorCode.startExecutionErrors)
        for file in files {
            let doc = try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent(file)))
            for name in Self.errorEquals(doc) {
                #expect(name.hasPrefix("States.") || known.contains(name), "\(file) matches unknown error \(name)")
            }
        }
    }

    @Test("every Lambda task of the state machines retries an instance's death, bounded, before its Catch")
    func instanceDeathRetried() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let url = root.appendingPathComponent("StateMachines/workflow.asl.json")
        let doc = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
        var tasks = 0
        func walk(_ states: [String: Any]) {
            for (name, value) in states {
                guard let state = value as? [String: Any] else { continue }
                if let processor = state["ItemProcessor"] as? [String: Any], let inner = processor["States"] as? [String: Any] {
                    walk(inner)
                }
                guard (state["Resource"] as? String)?.hasPrefix("arn:aws:states:::lambda:invoke") == true else { continue }
                tasks += 1
                let retries = state["Retry"] as? [[String: Any]] ?? []
                let death = retries.first { Set($0["ErrorEquals"] as? [String] ?? []) == Set(ErrorCode.instanceDeathErrors) }
                #expect(death != nil, "\(name) does not retry \(ErrorCode.instanceDeathErrors)")
                let attempts = death?["MaxAttempts"] as? Int ?? 0
                #expect((1...3).contains(attempts), "\(name): MaxAttempts \(attempts) for an instance's death")
            }
        }
        walk(try #require(doc["States"] as? [String: Any]))
        #expect(tasks >= 10)
    }

    /// Every state of workflow.asl.json by name, Distributed Map processors included.
    static func workflowStates() throws -> [String: [String: Any]] {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let url = root.appendingPathComponent("StateMachines/workflow.asl.json")
        let doc = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
        var out: [String: [String: Any]] = [:]
        func walk(_ states: [String: Any]) {
            for (name, value) in states {
                guard let state = value as? [String: Any] else { continue }
                out[name] = state
                if let processor = state["ItemProcessor"] as? [String: Any], let inner = processor["States"] as? [String: Any] {
                    walk(inner)
                }
            }
        }
        walk(try #require(doc["States"] as? [String: Any]))
        return out
    }

    static func analemmaCodes(_ entries: Any?) -> Set<String> {
        Set(errorEquals(entries ?? []).filter { $0.hasPrefix("Analemma.") })
    }

    @Test("the state machine's Retry and Catch lists follow each code's disposition (retry, heal, refuse, final)")
    func dispositions() throws {
        let states = try Self.workflowStates()
        let tasks = states.filter { ($0.value["Resource"] as? String)?.hasPrefix("arn:aws:states:::lambda:invoke") == true }
        #expect(tasks.count >= 10)
        for (name, state) in tasks {
            let retried = Self.analemmaCodes(state["Retry"])
            #expect(retried.contains(ErrorCode.transient.rawValue), "\(name) does not retry Analemma.Transient")
            #expect(retried.isSubset(of: ErrorCode.codes(.retry)), "\(name) retries \(retried.subtracting(ErrorCode.codes(.retry)))")
        }
        for name in ["RunSegment", "Heal", "PollBatch"] {  // the steps that call models: every retried code
            #expect(Self.analemmaCodes(try #require(states[name])["Retry"]) == ErrorCode.codes(.retry), "\(name)")
        }
        let catches = try #require(states["RunSegment"]?["Catch"] as? [[String: Any]])
        let toHeal = catches.filter { $0["Next"] as? String == "Heal" }
        #expect(Self.analemmaCodes(toHeal) == ErrorCode.codes(.heal))
        let initialize = try #require(states["Initialize"]?["Catch"] as? [[String: Any]])
        let rejected = Self.analemmaCodes(initialize.filter { $0["Next"] as? String == "ReadRejection" })
        #expect(
            ErrorCode.codes(.refuse).isSubset(of: rejected), "Initialize does not report \(ErrorCode.codes(.refuse).subtracting(rejected))")
        #expect(SegmentRunnerService.refusals.map(\.rawValue).sorted() == ErrorCode.codes(.refuse).sorted())
    }

    @Test("the ASL scanner finds ErrorEquals at any depth")
    func scanner() throws {
        let doc = try JSONSerialization.jsonObject(
            with: Data(
                #"{"States":{"A":{"Retry":[{"ErrorEquals":["X"]}],"Iterator":{"States":{"B":{"Catch":[{"ErrorEquals":["Y","States.ALL"]}]}}}}}}"#
                    .utf8))
        #expect(Set(Self.errorEquals(doc)) == ["X", "Y", "States.ALL"])
    }

    static func errorEquals(_ node: Any) -> [String] {
        if let dict = node as? [String: Any] {
            return dict.flatMap { key, value in key == "ErrorEquals" ? (value as? [String] ?? []) : errorEquals(value) }
        }
        if let list = node as? [Any] { return list.flatMap(errorEquals) }
        return []
    }

    @Test("a missing required variable names the variable")
    func requireNames() {
        #expect { try FunctionEnvironment([:]).require("STATE_BUCKET", "the state bucket") } throws: { error in
            (error as? AnalemmaError)?.code == .invalidConfiguration && "\(error)".contains("STATE_BUCKET")
        }
        #expect { try FunctionEnvironment(["N": "x"]).integer("N", default: 1) } throws: { "\($0)".contains("N=\"x\"") }
        #expect((try? FunctionEnvironment([:]).integer("N", default: 7)) == 7)
    }
}
