/// Numbers from outside (a workflow, an event, a model's or a human's answer), checked where they are parsed:
/// finite, integral where they must be, inside documented bounds — never a trapping conversion.
package enum Bounded {
    /// `value` as an `Int` when it is finite, integral and inside `range`; nil otherwise.
    package static func integer(_ value: Double, in range: ClosedRange<Int>) -> Int? {
        guard value.isFinite, value == value.rounded(), let n = Int(exactly: value), range.contains(n) else { return nil }
        return n
    }

    /// `value` when it is finite and inside `range`; nil otherwise.
    package static func number(_ value: Double, in range: ClosedRange<Double>) -> Double? {
        value.isFinite && range.contains(value) ? value : nil
    }

    /// The integer at `key` of a node's config: nil when absent; a located `InvalidWorkflow` when it is not an
    /// integer inside `range`.
    package static func integer(_ config: [String: JSONValue]?, _ key: String, in range: ClosedRange<Int>, node: String) throws -> Int? {
        guard let value = config?[key] else { return nil }
        guard case .number(let n) = value, let i = integer(n, in: range) else {
            throw AnalemmaError(
                .invalidWorkflow,
                "node \(node.debugDescription): config.\(key) must be an integer \(range.lowerBound)–\(range.upperBound), got \(value.text.prefix(80))"
            )
        }
        return i
    }

    /// The number at `key` of a node's config: nil when absent; a located `InvalidWorkflow` when outside `range`.
    package static func number(_ config: [String: JSONValue]?, _ key: String, in range: ClosedRange<Double>, node: String) throws -> Double?
    {
        guard let value = config?[key] else { return nil }
        guard case .number(let n) = value, let x = number(n, in: range) else {
            throw AnalemmaError(
                .invalidWorkflow,
                "node \(node.debugDescription): config.\(key) must be \(describe(range)), got \(value.text.prefix(80))")
        }
        return x
    }

    /// `0–100` for a range of whole numbers, else its bounds as Swift prints them.
    static func describe(_ range: ClosedRange<Double>) -> String {
        func text(_ x: Double) -> String { integer(x, in: -(1 << 53)...(1 << 53)).map(String.init) ?? "\(x)" }
        return "\(text(range.lowerBound))–\(text(range.upperBound))"
    }
}
