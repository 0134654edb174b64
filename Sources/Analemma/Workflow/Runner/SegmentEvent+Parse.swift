#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

extension SegmentEvent {
    /// Parses an invocation event; anything malformed is `Analemma.InvalidEvent` naming what.
    package static func parse(_ event: Data) throws -> SegmentEvent {
        guard let top = JSONScanner.object(event) else { throw invalid("not a JSON object") }
        guard let a = top["action"], let name = try? JSONDecoder().decode(String.self, from: a), let action = Action(rawValue: name)
        else {
            throw invalid("\"action\" must be one of \(Action.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        switch action {
        case .initialize:
            guard let executionID = try string(top["execution_id"], "execution_id"), let start = top["start"] else {
                throw invalid("initialize needs execution_id and start")
            }
            return .initialize(executionID: executionID, start: start)
        case .mapChunk:
            guard let raw = top["item"] else { throw invalid("map_chunk needs item (the Distributed Map item)") }
            do { return .mapChunk(try JSONDecoder().decode(MapChunkItem.self, from: raw)) } catch {
                throw AnalemmaError(.invalidEvent, "map_chunk item is not a Distributed Map item: \(error)")
            }
        default: break
        }
        guard let raw = top["kernel"] else { throw invalid("\(action.rawValue) needs \"kernel\" (the previous step's payload)") }
        let k: KernelPayload
        do { k = try JSONDecoder().decode(KernelPayload.self, from: raw) } catch {
            throw invalid("\"kernel\" is not a kernel payload: \(error)")
        }
        let inner = JSONScanner.object(raw) ?? [:]
        switch action {
        case .run: return .run(k)
        case .finalize: return .finalize(k)
        case .batchPoll: return .batchPoll(k)
        case .ask:
            guard let token = try string(top["task_token"], "task_token") else { throw invalid("ask needs task_token") }
            return .ask(k, taskToken: token)
        case .resume: return .resume(k, response: inner["human_response"])
        case .mapDone:
            guard let agg = inner["map_agg"], let stats = JSONScanner.object(agg)?["stats"] else {
                throw invalid("map_done needs kernel.map_agg.stats (the light aggregator's result)")
            }
            return .mapDone(k, stats: try MapAggregate.decode(stats))
        case .heal:
            let info = try caught(inner["error_info"], "error_info")
            guard let type = info.type else { throw invalid("heal needs kernel.error_info (the caught error)") }
            return .heal(k, Caught(type: type, cause: info.cause))
        case .fail:
            let info = try caught(inner["error_info"], "error_info")
            var caught =
                info.type == nil && info.cause == nil ? nil : Caught(type: info.type ?? ErrorCode.unhandled.rawValue, cause: info.cause)
            // Heal's own invocation failed (its Catch writes heal_error): report that failure, the original beside it.
            let died = try Self.caught(inner["heal_error"], "heal_error")
            if let type = died.type {
                let detail = SegmentRunnerService.message(fromCause: died.cause) ?? type
                let original = info.type.map { " (healing \($0): \(SegmentRunnerService.message(fromCause: info.cause) ?? $0))" } ?? ""
                caught = Caught(type: type, cause: "the heal step failed: \(detail)\(original)")
            }
            return .fail(k, caught)
        case .initialize, .mapChunk: throw invalid("\(action.rawValue) takes no kernel payload")
        }
    }

    static func invalid(_ why: String) -> AnalemmaError { AnalemmaError(.invalidEvent, "segment runner event: \(why)") }

    /// A string member (absent or null: nil).
    static func string(_ data: Data?, _ name: String) throws -> String? {
        guard let data, data != Data("null".utf8) else { return nil }
        guard let s = try? JSONDecoder().decode(String.self, from: data) else { throw invalid("\(name) must be a string") }
        return s
    }

    /// The members of a Catch result `{"Error", "Cause"}` (each nil when absent).
    static func caught(_ data: Data?, _ name: String) throws -> (type: String?, cause: String?) {
        guard let data, let info = JSONScanner.object(data) else { return (nil, nil) }
        return (try string(info["Error"], "\(name).Error"), try string(info["Cause"], "\(name).Cause"))
    }
}
