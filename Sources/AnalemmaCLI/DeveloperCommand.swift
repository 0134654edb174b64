import Analemma
import Foundation
import Glibc

/// `analemma validate FILE…` and `analemma codesign "DESCRIPTION" [--repairs N] [--out FILE]`.
enum DeveloperCommand {
    static let usage = """
        usage: analemma validate WORKFLOW.json...          check definitions as the segment runner does
               analemma schema SCHEMA.json                 the schema with its node types derived from the node kinds
               analemma catalogue README.md                the README with its event catalogue generated from EventKind
               analemma results s3://BUCKET/…/results/index.json [--owner ID]
                                                           stream a map's results, one chunk file at a time, as JSON lines
               analemma codesign "DESCRIPTION" [--repairs N] [--out FILE]
                                                           draft a workflow with the model (MODEL_PROVIDER, MODEL_CATALOG, …)
               analemma token OWNER [--ttl SECONDS]        a WebSocket connect token for OWNER (CONNECT_TOKEN_SECRET; default 1 h)
               analemma outcome EXECUTION_ARN              where a run ended, following its continue-as-new chain
               analemma cost EXECUTION_ARN                 what the run cost so far, by service (PRICE_TABLE; STATE_BUCKET, MANIFEST_TABLE)
               analemma history EXECUTION_ARN [--owner ID] each checkpoint: version, step, time, status, nodes, changed fields and sizes
               analemma state EXECUTION_ARN [--at CHECKPOINT] [--owner ID] [FIELD...]
                                                           the state (or those fields) at a checkpoint (default: the head)
               analemma diff A B [--owner ID]              what changed between two checkpoints (EXECUTION_ARN@CHECKPOINT, or CHECKPOINT)
               analemma fork EXECUTION_ARN --at CHECKPOINT [--set FIELD=JSON]... [--from NODE]
                                                           a new execution from that checkpoint, sharing its blocks
               analemma metrics LOG...                     the Embedded Metric Format lines of function logs, summed per metric
               (CHECKPOINT: v<version> or a manifest id, 8 characters at least; history, state and diff need STATE_BUCKET
               and MANIFEST_TABLE)
        """

    /// Runs a command line; returns the exit status (0 ok, 1 invalid or failed, 2 usage).
    static func main(_ argv: [String], environment: FunctionEnvironment) async -> Int32 {
        let args = Array(argv.dropFirst())
        guard let command = args.first else { return fail(usage, 2) }
        switch command {
        case "validate" where args.count > 1: return validate(Array(args.dropFirst()))
        case "schema" where args.count == 2: return schema(args[1])
        case "catalogue" where args.count == 2:
            do {
                print(try EventKind.splice(into: String(decoding: try read(args[1]), as: UTF8.self)), terminator: "")
                return 0
            } catch { return fail("\(args[1]): \((error as? AnalemmaError)?.message ?? "\(error)")", 1) }
        case "codesign" where args.count > 1: return await codesign(Array(args.dropFirst()), environment: environment)
        case "results" where args.count > 1: return await results(Array(args.dropFirst()), environment: environment)
        case "outcome" where args.count == 2: return await outcome(args[1], environment: environment)
        case "cost" where args.count == 2: return await cost(args[1], environment: environment)
        case "history" where args.count > 1: return await history(Array(args.dropFirst()), environment: environment)
        case "state" where args.count > 1: return await state(Array(args.dropFirst()), environment: environment)
        case "diff" where args.count > 1: return await diff(Array(args.dropFirst()), environment: environment)
        case "fork" where args.count > 1: return await fork(Array(args.dropFirst()), environment: environment)
        case "metrics" where args.count > 1: return metrics(Array(args.dropFirst()))
        case "token" where args.count == 2 || (args.count == 4 && args[2] == "--ttl"):
            return token(owner: args[1], ttl: args.count == 4 ? Int64(args[3]) : 3600, environment: environment)
        default: return fail(usage, 2)
        }
    }

    /// Prints a connect token for the viewer and other WebSocket clients (DESIGN.md §2).
    static func token(owner: String, ttl: Int64?, environment: FunctionEnvironment) -> Int32 {
        guard let ttl, ttl > 0 else { return fail("--ttl must be a positive number of seconds", 2) }
        do {
            let secret = try environment.require("CONNECT_TOKEN_SECRET", "the secret the websocket-notifier checks tokens with")
            print(try ConnectToken.issue(ownerID: owner, expiresAt: SystemWallClock().nowMillis() / 1000 + ttl, secret: secret))
            return 0
        } catch {
            return fail("\((error as? AnalemmaError)?.message ?? "\(error)")", 1)
        }
    }

    static func validate(_ files: [String]) -> Int32 {
        var status: Int32 = 0
        for file in files {
            do {
                let definition = try WorkflowDefinition.decode(try read(file))
                try NodeExecutor().check(definition)
                let segments = try SegmentPartitioner.partition(definition)
                print(
                    "\(file): valid, \(definition.nodes.count) nodes in \(segments.count) segments: "
                        + segments.map { "[" + $0.nodes.joined(separator: " ") + "]" }.joined(separator: " "))
            } catch {
                status = 1
                print("\(file): \((error as? AnalemmaError)?.message ?? "\(error)")")
            }
        }
        return status
    }

    /// Prints `path` (the published workflow schema) with its node types and rules derived from ``NodeKinds``.
    static func schema(_ path: String) -> Int32 {
        do {
            let derived = try WorkflowSchema.derive(try JSONValue(json: try read(path)))
            let object = try JSONSerialization.jsonObject(with: derived.jsonData())
            let pretty = try JSONSerialization.data(
                withJSONObject: object, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
            print(String(decoding: pretty, as: UTF8.self))
            return 0
        } catch {
            return fail("\(path): \((error as? AnalemmaError)?.message ?? "\(error)")", 1)
        }
    }

    static func codesign(_ args: [String], environment: FunctionEnvironment) async -> Int32 {
        var description: String?
        var repairs = 3
        var out: String?
        var i = 0
        while i < args.count {
            switch args[i] {
            case "--repairs" where i + 1 < args.count:
                repairs = Int(args[i + 1]) ?? repairs
                i += 1
            case "--out" where i + 1 < args.count:
                out = args[i + 1]
                i += 1
            default: description = description.map { $0 + " " + args[i] } ?? args[i]
            }
            i += 1
        }
        guard let description else { return fail(usage, 2) }
        do {
            let logger = Logger(level: .warn, format: .text, sink: StandardErrorSink())
            let model = try ModelConfiguration.languageModel(environment: environment, logger: logger)
            let outcome = try await CoDesigner(model: model, maxRepairs: repairs).design(description)
            guard let workflow = outcome.workflow else {
                return fail(
                    "no valid workflow after \(outcome.rounds) rounds with \(outcome.model ?? "?"): "
                        + outcome.problems.joined(separator: "; "), 1)
            }
            let pretty = String(decoding: workflow, as: UTF8.self)
            if let out {
                guard let f = fopen(out, "w") else { return fail("cannot write \(out)", 1) }
                fputs(pretty + "\n", f)
                fclose(f)
            }
            print(pretty)
            StandardErrorSink().write("valid after \(outcome.rounds) round(s) with \(outcome.model ?? "?")")
            return 0
        } catch {
            return fail("\((error as? AnalemmaError)?.description ?? "\(error)")", 1)
        }
    }

    /// Streams a map's per-item results: the index, then each chunk's result file in turn (never all at once).
    static func results(_ args: [String], environment: FunctionEnvironment) async -> Int32 {
        let pointer = args[0]
        do {
            let client = try AWSClient(environment: environment)
            let reader = MapResultReader(s3: try S3(client: client))
            var printed = 0
            try await reader.forEach(index: pointer) { index, result in
                print(#"{"index":\#(index),"result":\#(String(decoding: result, as: UTF8.self))}"#)
                printed += 1
            }
            StandardErrorSink().write("\(printed) results")
            return 0
        } catch {
            return fail("\((error as? AnalemmaError)?.description ?? "\(error)")", 1)
        }
    }

    static func read(_ path: String) throws -> Data {
        guard let f = fopen(path, "r") else { throw AnalemmaError(.invalidWorkflow, "cannot read \(path)") }
        defer { fclose(f) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = fread(&buffer, 1, buffer.count, f)
            if n <= 0 { break }
            bytes += buffer[0..<n]
        }
        return Data(bytes)
    }

    static func fail(_ message: String, _ status: Int32) -> Int32 {
        StandardErrorSink().write(message)
        return status
    }
}

/// Log lines to standard error (command-line tools keep stdout for their output).
struct StandardErrorSink: LogSink {
    func write(_ line: String) {
        var bytes = Array((line + "\n").utf8)
        _ = Glibc.write(2, &bytes, bytes.count)
    }
}
