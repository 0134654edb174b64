import Analemma
import Foundation

/// Time travel and fork for users: `analemma history`, `state`, `diff` and `fork`, read from the manifest table and
/// the blocks (`STATE_BUCKET`, `MANIFEST_TABLE`), never from a running function.
extension DeveloperCommand {
    /// The options these commands take: `--at CHECKPOINT`, `--owner ID`, `--set FIELD=JSON` (repeated), `--from NODE`;
    /// the other arguments in order.
    struct HistoryArguments {
        var positional: [String] = []
        var at: String?
        var owner: String?
        var from: String?
        var set: [(String, Data)] = []

        init(_ args: [String]) throws {
            var i = 0
            while i < args.count {
                let a = args[i]
                if ["--at", "--owner", "--from", "--set"].contains(a) {
                    guard i + 1 < args.count else { throw AnalemmaError(.invalidEvent, "\(a) needs a value") }
                    let v = args[i + 1]
                    switch a {
                    case "--at": at = v
                    case "--owner": owner = v
                    case "--from": from = v
                    default:
                        guard let eq = v.firstIndex(of: "="), eq != v.startIndex else {
                            throw AnalemmaError(.invalidEvent, "--set takes FIELD=JSON, not \(v.prefix(80).debugDescription)")
                        }
                        let value = Data(v[v.index(after: eq)...].utf8)
                        guard (try? JSONValue(json: value)) != nil else {
                            throw AnalemmaError(.invalidEvent, "--set \(v[..<eq]): the value is not JSON (quote strings: '\"text\"')")
                        }
                        set.append((String(v[..<eq]), value))
                    }
                    i += 2
                } else {
                    positional.append(a)
                    i += 1
                }
            }
        }
    }

    static func history(environment: FunctionEnvironment) throws -> ExecutionHistory {
        let client = try AWSClient(environment: environment)
        return ExecutionHistory(
            manifests: ManifestStore(
                db: try DynamoDB(client: client), table: try environment.require("MANIFEST_TABLE", "the manifest table")),
            hydrator: StateHydrator(
                store: S3BlockStore(s3: try S3(client: client), bucket: try environment.require("STATE_BUCKET", "the state bucket"))))
    }

    /// The checkpoints of `execution`, refused when `owner` is given and is not the execution's.
    static func checkpoints(_ execution: String, owner: String?, in history: ExecutionHistory) async throws -> [ExecutionHistory.Checkpoint]
    {
        let chain = try await history.checkpoints(executionID: execution)
        guard let first = chain.first else { throw AnalemmaError(.invalidState, "execution \(execution) has no checkpoint") }
        if let owner, first.manifest.ownerID != owner {
            throw AnalemmaError(.forbidden, "execution \(execution) is not owner \(owner.debugDescription)'s")
        }
        return chain
    }

    static func run(_ body: () async throws -> Void) async -> Int32 {
        do {
            try await body()
            return 0
        } catch {
            return fail("\((error as? AnalemmaError)?.description ?? "\(error)")", 1)
        }
    }

    static func emit(_ doc: [String: JSONValue]) { print(String(decoding: JSONValue.object(doc).jsonData(), as: UTF8.self)) }

    /// `analemma history EXECUTION [--owner ID]`: one JSON line per checkpoint, first to head.
    static func history(_ args: [String], environment: FunctionEnvironment) async -> Int32 {
        await run {
            let a = try HistoryArguments(args)
            guard a.positional.count == 1 else { throw AnalemmaError(.invalidEvent, "history takes one EXECUTION_ARN") }
            let history = try history(environment: environment)
            let chain = try await checkpoints(a.positional[0], owner: a.owner, in: history)
            let owner = chain[0].manifest.ownerID
            var workflow: WorkflowDefinition?
            for c in chain {
                let cursor = try SegmentRunnerService.decodeCursor(
                    try await history.hydrator.hydrate(c.manifest, present: ["cursor"])["cursor"])
                if workflow == nil, let bucket = environment["STATE_BUCKET"] {
                    workflow = try? await WorkflowStore(s3: try S3(client: try AWSClient(environment: environment)), bucket: bucket)
                        .get(cursor.workflow, ownerID: owner)
                }
                let wrote = Set(c.changed)
                let nodes = (workflow?.nodes ?? []).filter { !wrote.isDisjoint(with: $0.writes ?? []) }.map(\.id)
                emit([
                    "version": .number(Double(c.version)), "manifest_id": .string(c.manifest.manifestID),
                    "step": .number(Double(c.manifest.segmentIndex)), "time": .string(Self.isoTime(c.preparedAtMillis)),
                    "status": .string(cursor.status.rawValue), "next_segment": cursor.segment.map { .number(Double($0)) } ?? .null,
                    "nodes": .array(nodes.map { .string($0) }),
                    "changed": .object(Dictionary(uniqueKeysWithValues: c.changed.map { ($0, .number(Double(c.fields[$0]?.size ?? 0))) })),
                    "removed": .array(c.removed.map { .string($0) }), "fields": .number(Double(c.fields.count)),
                    "state_bytes": .number(Double(c.fields.values.reduce(0) { $0 + $1.size })),
                ])
            }
        }
    }

    /// `analemma state EXECUTION [--at CHECKPOINT] [--owner ID] [FIELD…]`: the state (or those fields) at a checkpoint.
    static func state(_ args: [String], environment: FunctionEnvironment) async -> Int32 {
        await run {
            let a = try HistoryArguments(args)
            guard let execution = a.positional.first else { throw AnalemmaError(.invalidEvent, "state takes an EXECUTION_ARN") }
            let history = try history(environment: environment)
            let c = try ExecutionHistory.find(a.at, in: try await checkpoints(execution, owner: a.owner, in: history))
            let names = Array(a.positional.dropFirst())
            let state = try await history.hydrator.hydrate(c.manifest, fields: names.isEmpty ? nil : names)
            emit([
                "execution_id": .string(execution), "version": .number(Double(c.version)), "manifest_id": .string(c.manifest.manifestID),
                "state": .object(try state.fields.mapValues { try JSONValue(json: $0) }),
            ])
        }
    }

    /// `analemma diff A B [--owner ID]`, each `EXECUTION_ARN[@CHECKPOINT]` (a checkpoint alone: of A's execution).
    static func diff(_ args: [String], environment: FunctionEnvironment) async -> Int32 {
        await run {
            let a = try HistoryArguments(args)
            guard a.positional.count == 2 else { throw AnalemmaError(.invalidEvent, "diff takes two checkpoints, A and B") }
            let history = try history(environment: environment)
            func split(_ s: String, default execution: String?) -> (String, String?) {
                if s.hasPrefix("arn:") {
                    guard let at = s.lastIndex(of: "@") else { return (s, nil) }
                    return (String(s[..<at]), String(s[s.index(after: at)...]))
                }
                return (execution ?? s, s)
            }
            let (ea, ca) = split(a.positional[0], default: nil)
            let (eb, cb) = split(a.positional[1], default: ea)
            let left = try ExecutionHistory.find(ca, in: try await checkpoints(ea, owner: a.owner, in: history))
            let right = try ExecutionHistory.find(cb, in: try await checkpoints(eb, owner: a.owner ?? left.manifest.ownerID, in: history))
            let changes = ExecutionHistory.diff(left.fields, right.fields)
            let small = Set(changes.filter { ($0.before ?? 0) <= 1024 && ($0.after ?? 0) <= 1024 }.map(\.field))
            let lv = try await history.hydrator.hydrate(left.manifest, present: changes.map(\.field).filter(small.contains))
            let rv = try await history.hydrator.hydrate(right.manifest, present: changes.map(\.field).filter(small.contains))
            emit([
                "a": .string("\(ea)@\(left.manifest.manifestID)"), "b": .string("\(eb)@\(right.manifest.manifestID)"),
                "changes": .array(
                    try changes.map { c in
                        var o: [String: JSONValue] = ["field": .string(c.field), "kind": .string(c.kind.rawValue)]
                        if let n = c.before { o["before_bytes"] = .number(Double(n)) }
                        if let n = c.after { o["after_bytes"] = .number(Double(n)) }
                        if let v = lv[c.field] { o["before"] = try JSONValue(json: v) }
                        if let v = rv[c.field] { o["after"] = try JSONValue(json: v) }
                        return .object(o)
                    }),
            ])
        }
    }

    /// `analemma fork EXECUTION --at CHECKPOINT [--set FIELD=JSON…] [--from NODE]`: a new execution of the same state
    /// machine, started with StartExecution, from that checkpoint (its owner's; the segment runner checks it again).
    static func fork(_ args: [String], environment: FunctionEnvironment) async -> Int32 {
        await run {
            let a = try HistoryArguments(args)
            guard a.positional.count == 1, let at = a.at else {
                throw AnalemmaError(.invalidEvent, "fork takes one EXECUTION_ARN and --at CHECKPOINT")
            }
            let execution = a.positional[0]
            let history = try history(environment: environment)
            let c = try ExecutionHistory.find(at, in: try await checkpoints(execution, owner: a.owner, in: history))
            let sfn = try StepFunctions(client: try AWSClient(environment: environment))
            guard let machine = try await sfn.describeExecution(execution).stateMachineArn else {
                throw AnalemmaError(.invalidState, "DescribeExecution names no state machine for \(execution)")
            }
            var fork: [String: JSONValue] = [
                "execution_id": .string(execution), "owner_id": .string(c.manifest.ownerID), "at": .string(c.manifest.manifestID),
                "set": .object(try Dictionary(a.set.map { ($0.0, try JSONValue(json: $0.1)) }) { _, last in last }),
            ]
            if let from = a.from { fork["from"] = .string(from) }
            let input = String(decoding: JSONValue.object(["fork": .object(fork)]).jsonData(), as: UTF8.self)
            let started = try await sfn.startExecution(stateMachineArn: machine, input: input)
            emit([
                "execution_id": .string(started.executionArn), "forked_from": .string(execution), "at": .string(c.manifest.manifestID),
                "version": .number(Double(c.version)),
            ])
        }
    }

    /// `YYYY-MM-DDTHH:MM:SS.mmmZ` of an epoch-milliseconds time.
    static func isoTime(_ millis: Int64) -> String {
        let day = ModelConfiguration.date(millis)
        let ms = ((millis % 86_400_000) + 86_400_000) % 86_400_000
        func pad(_ n: Int64, _ w: Int) -> String { String(repeating: "0", count: max(0, w - String(n).count)) + String(n) }
        return "\(day)T\(pad(ms / 3_600_000, 2)):\(pad(ms / 60_000 % 60, 2)):\(pad(ms / 1000 % 60, 2)).\(pad(ms % 1000, 3))Z"
    }
}
