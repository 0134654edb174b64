/// An invocation's kernel events as spans: execution → segment → node → model call / tool call, in the GenAI
/// semantic conventions (``OTLP/schemaURL``) where they apply. A start and its finish are one span when both happen
/// in the invocation (they always do for segments and nodes); an execution's root span is written when it ends, with
/// the time it started (a continue-as-new chain is one trace with one root: its first execution's span, written when
/// the last one ends, each segment under it naming its own execution); a map chunk, a human question, a heal round and a checkpoint are spans under their parents.
/// Large content (prompts, answers) stays in state and in the event log's bodies: a span names sizes, never bodies.
package enum SpanBuilder {
    package static func spans(from events: [KernelEvent]) -> [Span] {
        var out: [Span] = []
        var segments: [String: (start: Int64, id: [UInt8])] = [:]  // by execution
        var nodes: [String: (start: Int64, id: [UInt8])] = [:]  // by execution and node
        for e in events {
            let a = e.fields
            let trace = Span.traceID(e.traceID)
            let root = Span.rootID(e.traceRoot ?? e.executionID)
            let segmentID = segments[e.executionID]?.id ?? root
            func span(_ name: String, _ id: [UInt8], parent: [UInt8]?, start: Int64, _ attributes: [(String, Span.Value)]) -> Span {
                var s = Span(traceID: trace, spanID: id, parentID: parent, name: name, startMillis: start, endMillis: e.timeMillis)
                s.attributes = [("analemma.execution_id", .string(e.executionID))] + attributes
                return s
            }
            func int(_ key: String) -> Span.Value? { a[key].flatMap { Int64($0) }.map(Span.Value.int) }
            func text(_ key: String, as name: String? = nil) -> [(String, Span.Value)] {
                guard let v = a[key], !v.isEmpty else { return [] }
                return [(name ?? "analemma.\(key)", .string(v))]
            }
            let node = a["node"] ?? ""
            switch e.kind {
            case .segmentStarted:
                segments[e.executionID] = (e.timeMillis, Span.spanID("segment", e.executionID, a["segment"] ?? "", String(e.timeMillis)))
            case .segmentFinished:
                guard let open = segments.removeValue(forKey: e.executionID) else { continue }
                var attrs = text("segment") + text("status") + text("exit")
                if let n = int("hydrated_bytes") { attrs.append(("analemma.hydrated_bytes", n)) }
                out.append(span("segment \(a["segment"] ?? "")", open.id, parent: root, start: open.start, attrs))
            case .nodeStarted:
                nodes[e.executionID + "#" + node] = (e.timeMillis, Span.spanID("node", e.executionID, node, String(e.timeMillis)))
            case .nodeFinished:
                guard let open = nodes.removeValue(forKey: e.executionID + "#" + node) else { continue }
                out.append(
                    span("node \(node)", open.id, parent: segmentID, start: open.start, text("node") + text("type") + text("attempts")))
            case .llmCall:
                let model = a["gen_ai.response.model"] ?? ""
                let latency = Int64(a["latency_ms"] ?? "") ?? 0
                var attrs: [(String, Span.Value)] = [
                    ("gen_ai.operation.name", .string(a["gen_ai.operation.name"] ?? "generate_content")),
                    ("gen_ai.provider.name", .string("gcp.gemini")), ("gen_ai.system", .string("gemini")),
                ]
                attrs +=
                    text("gen_ai.request.model", as: "gen_ai.request.model") + text("gen_ai.response.model", as: "gen_ai.response.model")
                for key in ["gen_ai.usage.input_tokens", "gen_ai.usage.output_tokens"] { if let n = int(key) { attrs.append((key, n)) } }
                if let n = int("tokens_thought") { attrs.append(("gen_ai.usage.reasoning_tokens", n)) }
                if let reasons = a["gen_ai.response.finish_reasons"], !reasons.isEmpty {
                    attrs.append(("gen_ai.response.finish_reasons", .strings(reasons.split(separator: ",").map(String.init))))
                }
                if let cost = a["estimated_cost_usd"].flatMap(Double.init), cost.isFinite {
                    attrs.append(("analemma.cost_usd", .double(cost)))
                }
                attrs += text("route") + text("fallbacks") + text("remapped_from") + text("cache") + text("batch_job") + text("node")
                let parent = nodes[e.executionID + "#" + node]?.id ?? segmentID
                var s = span(
                    "\(a["gen_ai.operation.name"] ?? "generate_content") \(model)",
                    Span.spanID("llm", e.executionID, node, String(e.timeMillis)),
                    parent: parent, start: e.timeMillis - max(0, latency), attrs)
                s.kind = .client
                out.append(s)
            case .toolCall:
                let tool = a["tool"] ?? ""
                var s = span(
                    "execute_tool \(tool)", Span.spanID("tool", e.executionID, node, tool, String(e.timeMillis)),
                    parent: nodes[e.executionID + "#" + node]?.id ?? segmentID, start: e.timeMillis,
                    [("gen_ai.operation.name", .string("execute_tool")), ("gen_ai.tool.name", .string(tool))] + text("ok"))
                if a["ok"] == "false" { s.error = String((a["error"] ?? "tool failed").prefix(500)) }
                out.append(s)
            case .humanAnswered:  // the human step as a node span: from the question to the answer, across invocations
                let asked = Int64(a["asked_ms"] ?? "").flatMap { $0 > 0 && $0 <= e.timeMillis ? $0 : nil } ?? e.timeMillis
                var s = span(
                    "node \(node)", Span.spanID("node", e.executionID, node, String(asked)), parent: segmentID, start: asked,
                    text("node") + [("analemma.type", .string("hitp"))] + text("fields"))
                s.attributes.append(("analemma.waited_ms", .int(e.timeMillis - asked)))
                out.append(s)
            case .checkpoint, .humanWaiting, .healAttempt, .mapStarted, .mapFinished, .mapBatch, .mapChunk:
                var attrs = text("node") + text("manifest_id") + text("round") + text("code") + text("chunk") + text("items")
                for key in ["bytes", "s3_puts", "failed", "failed_items_count"] {
                    if let n = int(key) { attrs.append(("analemma.\(key)", n)) }
                }
                let parent = e.kind == .mapChunk ? root : segmentID
                out.append(
                    span(e.type, Span.spanID(e.type, e.executionID, node, String(e.timeMillis)), parent: parent, start: e.timeMillis, attrs)
                )
            case .executionFinished, .executionFailed:
                let started = Int64(a["started_ms"] ?? "").flatMap { $0 > 0 ? $0 : nil } ?? e.timeMillis
                var s = span("execution", root, parent: nil, start: started, text("status") + text("code") + text("step"))
                if let first = e.traceRoot, first != e.executionID {
                    s.attributes =
                        [("analemma.execution_id", .string(first)), ("analemma.last_execution_id", .string(e.executionID))]
                        + s.attributes.dropFirst()
                }
                s.kind = .server
                if e.kind == .executionFailed { s.error = String((a["message"] ?? a["code"] ?? "failed").prefix(500)) }
                out.append(s)
            default: continue
            }
        }
        return out
    }
}
