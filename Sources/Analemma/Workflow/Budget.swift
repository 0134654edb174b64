/// What one execution may spend: node runs, model tokens and wall time. A workflow may set its own (`budget`),
/// each at most its ceiling; unset values take the defaults. Exceeding one fails the execution with
/// `Analemma.BudgetExceeded` naming it, before the step that would exceed it runs.
package struct Budget: Codable, Sendable, Equatable {
    package var nodeRuns: Int?
    package var modelTokens: Int?
    package var wallSeconds: Int?

    enum CodingKeys: String, CodingKey {
        case nodeRuns = "node_runs"
        case modelTokens = "model_tokens"
        case wallSeconds = "wall_seconds"
    }

    package init(nodeRuns: Int? = nil, modelTokens: Int? = nil, wallSeconds: Int? = nil) {
        self.nodeRuns = nodeRuns
        self.modelTokens = modelTokens
        self.wallSeconds = wallSeconds
    }

    /// 10,000 node runs, 10 M model tokens (input + output + thinking), 7 days.
    package static let defaults = Budget(nodeRuns: 10_000, modelTokens: 10_000_000, wallSeconds: 7 * 86_400)
    /// 1 M node runs, 1 G model tokens, one year (a Standard execution's longest life).
    package static let ceilings = Budget(nodeRuns: 1_000_000, modelTokens: 1_000_000_000, wallSeconds: 366 * 86_400)

    static var fields: [(name: String, value: KeyPath<Budget, Int?>)] {
        [("node_runs", \.nodeRuns), ("model_tokens", \.modelTokens), ("wall_seconds", \.wallSeconds)]
    }

    /// This budget's value for `field`, else the default.
    func limit(_ field: KeyPath<Budget, Int?>) -> Int { self[keyPath: field] ?? Self.defaults[keyPath: field] ?? 0 }

    /// What is wrong with a workflow's budget (each value 1…ceiling).
    func problems() -> [String] {
        Self.fields.compactMap { name, field in
            guard let v = self[keyPath: field], let ceiling = Self.ceilings[keyPath: field] else { return nil }
            return (1...ceiling).contains(v) ? nil : "budget.\(name) must be 1–\(ceiling), got \(v)"
        }
    }

    /// Throws `BudgetExceeded` when running one more node would go past a limit.
    func check(runs: Int, tokens: Int, startedAtMillis: Int64?, now: Int64) throws {
        if runs >= limit(\.nodeRuns) {
            throw AnalemmaError(.budgetExceeded, "budget.node_runs: \(runs) node runs reached the limit of \(limit(\.nodeRuns))")
        }
        if tokens >= limit(\.modelTokens) {
            throw AnalemmaError(.budgetExceeded, "budget.model_tokens: \(tokens) model tokens reached the limit of \(limit(\.modelTokens))")
        }
        if let started = startedAtMillis, now - started >= Int64(limit(\.wallSeconds)) * 1000 {
            throw AnalemmaError(
                .budgetExceeded,
                "budget.wall_seconds: the execution has run \((now - started) / 1000) s, the limit is \(limit(\.wallSeconds)) s")
        }
    }
}

/// Limits on a workflow's size, checked at validation before any state is written (each refusal names the limit).
package enum WorkflowLimits {
    /// Bytes of a workflow document.
    package static let maxDocumentBytes = 1_048_576
    package static let maxNodes = 2_000
    package static let maxEdges = 10_000
    /// Distinct state fields (declared writes plus input fields): the manifest is one DynamoDB item (400 KB), about
    /// 263 bytes a field, so past ~1,550 fields a commit fails; this keeps a margin.
    package static let maxStateFields = 1_000
    /// An edge's `max_traversals`.
    package static let maxTraversals = 100_000
    /// A node's `timeout_seconds` (a human step's wait included): one year.
    package static let maxTimeoutSeconds = 366 * 86_400
}
