#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// Embedded Metric Format lines read back and summed per metric and dimension values (`analemma metrics`): what
/// CloudWatch would chart, from a local log. A line that breaks the format's rules is counted as invalid, never summed.
/// https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html
package struct MetricSummary: Sendable {
    package struct Key: Hashable, Sendable {
        package var namespace: String
        package var metric: String
        package var unit: String
        /// The dimension set's names and their values, in the set's order.
        package var dimensions: [Dimension]
    }

    package struct Dimension: Hashable, Sendable {
        package var name: String
        package var value: String
    }

    package struct Figures: Sendable, Equatable {
        package var count = 0
        package var sum = 0.0
        package var min = Double.infinity
        package var max = -Double.infinity
    }

    package private(set) var figures: [Key: Figures] = [:]
    package private(set) var lines = 0
    package private(set) var invalid: [String] = []

    package init() {}

    /// Reads one log line (a function log's prefix before the JSON is skipped); lines without `_aws` are not EMF.
    package mutating func add(line: String) {
        guard let start = line.firstIndex(of: "{"), line.contains("\"_aws\"") else { return }
        guard case .object(let doc)? = try? JSONValue(json: Data(line[start...].utf8)) else { return }
        guard doc["_aws"] != nil else { return }
        lines += 1
        do { try add(doc) } catch { invalid.append(String(describing: (error as? AnalemmaError)?.message ?? "\(error)")) }
    }

    mutating func add(_ doc: [String: JSONValue]) throws {
        func bad(_ why: String) -> AnalemmaError { AnalemmaError(.invalidState, "EMF: \(why)") }
        guard case .object(let aws)? = doc["_aws"], case .number(let ts)? = aws["Timestamp"], ts.isFinite, ts >= 0 else {
            throw bad("_aws.Timestamp must be epoch milliseconds")
        }
        guard case .array(let directives)? = aws["CloudWatchMetrics"], !directives.isEmpty else {
            throw bad("_aws.CloudWatchMetrics must be a non-empty array")
        }
        var adds: [(Key, Double)] = []
        for directive in directives {
            guard case .object(let d) = directive, case .string(let ns)? = d["Namespace"], !ns.isEmpty,
                case .array(let sets)? = d["Dimensions"], case .array(let metrics)? = d["Metrics"], (1...100).contains(metrics.count)
            else { throw bad("each directive needs Namespace, Dimensions and 1–100 Metrics") }
            var dimensionSets: [[Dimension]] = []
            for set in sets {
                guard case .array(let names) = set, names.count <= 30 else { throw bad("a dimension set holds at most 30 names") }
                var pairs: [Dimension] = []
                for name in names {
                    guard case .string(let n) = name, case .string(let v)? = doc[n] else {
                        throw bad("dimension \(name.text) has no string value at the root")
                    }
                    pairs.append(Dimension(name: n, value: v))
                }
                dimensionSets.append(pairs)
            }
            for metric in metrics {
                guard case .object(let m) = metric, case .string(let name)? = m["Name"], case .number(let value)? = doc[name],
                    value.isFinite
                else { throw bad("metric \(metric.text.prefix(80)) has no finite number at the root") }
                let unit = if case .string(let u)? = m["Unit"] { u } else { "None" }
                for pairs in dimensionSets {
                    adds.append((Key(namespace: ns, metric: name, unit: unit, dimensions: pairs), value))
                }
            }
        }
        for (key, value) in adds {  // all of a line or none of it
            var f = figures[key] ?? Figures()
            f.count += 1
            f.sum += value
            f.min = Swift.min(f.min, value)
            f.max = Swift.max(f.max, value)
            figures[key] = f
        }
    }

    /// One JSON object per metric and dimension values, sorted.
    package func report() -> [JSONValue] {
        func label(_ k: Key) -> String { k.metric + k.dimensions.map { "|\($0.name)=\($0.value)" }.joined() }
        return figures.sorted { label($0.key) < label($1.key) }.map { key, f in
            .object([
                "namespace": .string(key.namespace), "metric": .string(key.metric), "unit": .string(key.unit),
                "dimensions": .object(Dictionary(key.dimensions.map { ($0.name, JSONValue.string($0.value)) }) { a, _ in a }),
                "count": .number(Double(f.count)), "sum": .number(f.sum), "min": .number(f.min), "max": .number(f.max),
            ])
        }
    }
}
