#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// The kernel's figures as CloudWatch metrics: one Embedded Metric Format line beside each event that carries
/// some (CloudWatch Logs extracts them; no PutMetricData call, no extra latency).
/// https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html
///
/// Namespace `Analemma`; every metric under the dimension set `[service]`, model metrics also under
/// `[service, model]` (ids of the catalogue: few). Owners and executions are properties, never dimensions (each
/// distinct dimension value is a metric CloudWatch bills); the event is `kernel_event`, so a query for event lines
/// (`event = "checkpoint"`) never counts a metric line.
package enum MetricLine {
    package static let namespace = "Analemma"

    /// One metric an event kind reports: its name, the attribute it is read from, its CloudWatch unit.
    package struct Metric: Sendable, Equatable {
        package var name: String
        package var attribute: String
        package var unit: String
    }

    /// What each kind reports (nil: none).
    package static func metrics(of kind: EventKind) -> [Metric] {
        func m(_ name: String, _ attribute: String, _ unit: String = "Count") -> Metric {
            Metric(name: name, attribute: attribute, unit: unit)
        }
        switch kind {
        case .checkpoint: return [m("CheckpointBytes", "bytes", "Bytes"), m("CheckpointPuts", "s3_puts"), m("FieldsChanged", "changed")]
        case .segmentFinished: return [m("HydratedBytes", "hydrated_bytes", "Bytes")]
        case .llmCall:
            return [
                m("InputTokens", "gen_ai.usage.input_tokens"), m("OutputTokens", "gen_ai.usage.output_tokens"),
                m("ThoughtTokens", "tokens_thought"), m("ModelCostUSD", "estimated_cost_usd", "None"),
                m("ModelLatency", "latency_ms", "Milliseconds"), m("ModelWait", "waited_ms", "Milliseconds"),
            ]
        case .healAttempt: return [m("HealRounds", "round")]
        case .mapFinished:
            return [m("MapItems", "items"), m("MapFailedItems", "failed_items_count"), m("MapFailedChunks", "failed_chunks")]
        case .executionFinished: return [m("ExecutionCostUSD", "cost_usd", "None")]
        default: return []
        }
    }

    /// The EMF document for `event` (nil when its kind reports nothing or none of its figures is a finite number).
    package static func line(for event: KernelEvent, service: String) -> String? {
        var values: [(Metric, Double)] = []
        for metric in metrics(of: event.kind) {
            guard let text = event.fields[metric.attribute], let v = Double(text), v.isFinite else { continue }
            values.append((metric, metric.name == "HealRounds" ? 1 : v))  // one line per round: the count is 1
        }
        guard !values.isEmpty else { return nil }
        var dimensions: [JSONValue] = [.array([.string("service")])]
        var doc: [String: JSONValue] = ["service": .string(service), "kernel_event": .string(event.type)]
        if event.kind == .llmCall, let model = event.fields["gen_ai.response.model"], !model.isEmpty {
            dimensions.append(.array([.string("service"), .string("model")]))
            doc["model"] = .string(model)
        }
        doc["_aws"] = .object([
            "Timestamp": .number(Double(event.timeMillis)),
            "CloudWatchMetrics": .array([
                .object([
                    "Namespace": .string(namespace), "Dimensions": .array(dimensions),
                    "Metrics": .array(values.map { .object(["Name": .string($0.0.name), "Unit": .string($0.0.unit)]) }),
                ])
            ]),
        ])
        for (metric, value) in values { doc[metric.name] = .number(value) }
        if !event.executionID.isEmpty { doc["execution_id"] = .string(event.executionID) }
        if !event.traceID.isEmpty { doc["trace_id"] = .string(event.traceID) }
        if let request = LogContext.current?.requestID { doc["function_request_id"] = .string(request) }
        return String(decoding: JSONValue.object(doc).jsonData(), as: UTF8.self)
    }
}
