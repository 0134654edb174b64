import Analemma
import Foundation

/// What the kernel decodes from outside, fed arbitrary bytes: the first byte picks the decoder, the rest is its
/// input. Decoders must refuse bad input with a coded error; anything else (a crash, a trap, a hang) is a finding.
enum FuzzTargets {
    static let names = ["workflow", "segment-event", "connect-token", "state-pointer", "json", "pruner", "model-response", "handler"]

    static func run(_ data: Data) {
        guard let selector = data.first else { return }
        let body = Data(data.dropFirst())
        switch Int(selector) % names.count {
        case 0:
            if let workflow = try? WorkflowDefinition.decode(body) {
                _ = try? NodeExecutor().check(workflow)
                _ = try? SegmentPartitioner.partition(workflow)
            }
        case 1: _ = try? SegmentEvent.parse(body)
        case 2: _ = try? ConnectToken.verify(String(decoding: body, as: UTF8.self), secret: "fuzz-secret-0123456789", nowSeconds: 1)
        case 3: _ = try? StatePointer(parsing: String(decoding: body, as: UTF8.self), stateBucket: "b", ownerID: "team-a")
        case 4:
            _ = JSONScanner.object(body)
            _ = try? JSONValue(json: body)
        case 6:
            _ = try? GeminiWire.Response.parse(body)
            _ = try? GeminiBatch.parse(body)
        case 7: HandlerTargets.run(body)
        default:
            if let value = try? JSONValue(json: body) {
                for message in MessagePruner(limit: 2048).messages(records: [value, value], executionID: "e", traceID: "t", shard: "s") {
                    precondition(message.count <= 2048, "pruned message over its limit")
                }
            }
        }
    }
}

#if ANALEMMA_FUZZ
    /// libFuzzer's entry point (`make fuzz` builds with `--sanitize fuzzer -DANALEMMA_FUZZ`).
    @_cdecl("LLVMFuzzerTestOneInput")
    public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
        FuzzTargets.run(Data(UnsafeBufferPointer(start: data, count: size)))
        return 0
    }
#else
    /// Replays inputs (files, or folders of them) through the same decoders: reproduces a finding without the fuzzer.
    @main
    struct Replay {
        static func main() throws {
            var count = 0
            for path in CommandLine.arguments.dropFirst() {
                let url = URL(fileURLWithPath: path)
                var isDirectory: ObjCBool = false
                guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { continue }
                let files =
                    isDirectory.boolValue
                    ? try FileManager.default.contentsOfDirectory(at: url, includingPropertiesForKeys: nil) : [url]
                for file in files {
                    FuzzTargets.run(try Data(contentsOf: file))
                    count += 1
                }
            }
            print(#"{"bench":"fuzz.replay","metric":"inputs","value":\#(count),"unit":"inputs"}"#)
        }
    }
#endif
