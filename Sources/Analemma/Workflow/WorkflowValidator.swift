/// Checks a definition before anything runs or any state is written; every problem names its node or edge.
package enum WorkflowValidator {
    /// One thing wrong, located.
    package struct Problem: Sendable, Equatable, CustomStringConvertible {
        package let node: String?
        package let message: String
        package var description: String { node.map { "node \($0.debugDescription): \(message)" } ?? message }
    }

    /// All problems (empty: valid), in a stable order.
    package static func problems(in w: WorkflowDefinition, kinds: NodeKinds = .standard) -> [Problem] {
        var problems: [Problem] = []
        if w.nodes.count > WorkflowLimits.maxNodes {
            problems.append(Problem(node: nil, message: "\(w.nodes.count) nodes; the limit is \(WorkflowLimits.maxNodes)"))
        }
        if w.edges.count > WorkflowLimits.maxEdges {
            problems.append(Problem(node: nil, message: "\(w.edges.count) edges; the limit is \(WorkflowLimits.maxEdges)"))
        }
        let fields = Set(w.nodes.flatMap { $0.writes ?? [] })
        if fields.count > WorkflowLimits.maxStateFields {
            problems.append(
                Problem(node: nil, message: "\(fields.count) state fields written; the limit is \(WorkflowLimits.maxStateFields)"))
        }
        problems += (w.budget?.problems() ?? []).map { Problem(node: nil, message: $0) }
        guard problems.isEmpty else { return problems }  // too large to check node by node
        var ids = Set<String>()
        for node in w.nodes {
            if !ids.insert(node.id).inserted { problems.append(Problem(node: node.id, message: "duplicate node id")) }
            if node.id.isEmpty { problems.append(Problem(node: node.id, message: "empty node id")) }
            if kinds[node.type] == nil { problems.append(Problem(node: node.id, message: kinds.unknown(node.type))) }
            for field in (node.writes ?? []).sorted() where StateBag.isProtected(field) {
                problems.append(Problem(node: node.id, message: "writes kernel-protected field \(field.debugDescription)"))
            }
            if kinds[node.type] is SkillNode && (node.skill ?? "").isEmpty {
                problems.append(Problem(node: node.id, message: "skill node names no skill"))
            }
            if let t = node.timeoutSeconds, !(1...WorkflowLimits.maxTimeoutSeconds).contains(t) {
                problems.append(Problem(node: node.id, message: "timeout_seconds must be 1–\(WorkflowLimits.maxTimeoutSeconds)"))
            }
            for (name, limits) in [("retry", node.retry), ("heal", node.heal)] {
                if let l = limits, !(0...10).contains(l.maxAttempts) {
                    problems.append(Problem(node: node.id, message: "\(name).max_attempts must be 0–10, got \(l.maxAttempts)"))
                }
            }
        }
        if !ids.contains(w.entry) { problems.append(Problem(node: w.entry, message: "entry is not a node of the workflow")) }
        for (i, edge) in w.edges.enumerated() {
            for end in [edge.from, edge.to] where !ids.contains(end) {
                problems.append(Problem(node: end, message: "edge #\(i) (\(edge.from) → \(edge.to)) refers to an unknown node"))
            }
            if let when = edge.when, when.equals == nil, when.exists == nil {
                problems.append(Problem(node: edge.from, message: "edge #\(i) (\(edge.from) → \(edge.to)): when needs equals or exists"))
            }
            if let m = edge.maxTraversals, !(1...WorkflowLimits.maxTraversals).contains(m) {
                problems.append(Problem(node: edge.from, message: "edge #\(i): max_traversals must be 1–\(WorkflowLimits.maxTraversals)"))
            }
        }
        for field in w.appendOnly ?? [] where StateBag.isProtected(field) || field.isEmpty {
            problems.append(Problem(node: w.entry, message: "append_only names \(field.debugDescription), which is not a workflow field"))
        }
        if let inputs = w.inputs {  // declared inputs: every read is written by a node or declared
            let known = Set(inputs).union(w.nodes.flatMap { $0.writes ?? [] }).union(StateBag.protectedFields)
            for node in w.nodes {
                for field in (node.reads ?? []) where !known.contains(field) {
                    problems.append(
                        Problem(node: node.id, message: "reads \(field.debugDescription), which no node writes and inputs does not declare")
                    )
                }
            }
            for (i, edge) in w.edges.enumerated() {
                if let field = edge.when?.field, !known.contains(field) {
                    problems.append(
                        Problem(
                            node: edge.from,
                            message: "edge #\(i) tests \(field.debugDescription), which no node writes and inputs does not declare"))
                }
            }
        }
        guard problems.isEmpty else { return problems }
        let graph = WorkflowGraph(w)
        let reachable = graph.reachable(from: w.entry)
        for node in w.nodes where !reachable.contains(node.id) {
            problems.append(Problem(node: node.id, message: "unreachable from entry \(w.entry.debugDescription)"))
        }
        for cycle in graph.unboundedCycles() {
            problems.append(
                Problem(
                    node: cycle[0], message: "cycle \(cycle.joined(separator: " → ")) has no bound: give one of its edges max_traversals"))
        }
        return problems
    }

    /// Throws `Analemma.InvalidWorkflow` listing every problem.
    package static func validate(_ w: WorkflowDefinition, kinds: NodeKinds = .standard) throws {
        let found = problems(in: w, kinds: kinds)
        guard found.isEmpty else {
            throw AnalemmaError(
                .invalidWorkflow,
                "workflow \(w.workflowID.debugDescription) is invalid: " + found.map(\.description).joined(separator: "; "))
        }
    }
}

/// Adjacency over node ids.
struct WorkflowGraph {
    let successors: [String: [String]]
    let bounded: Set<[String]>  // edges (from, to) with max_traversals

    init(_ w: WorkflowDefinition) {
        var s: [String: [String]] = [:]
        var b = Set<[String]>()
        for e in w.edges {
            s[e.from, default: []].append(e.to)
            if e.maxTraversals != nil { b.insert([e.from, e.to]) }
        }
        successors = s
        bounded = b
    }

    func reachable(from start: String) -> Set<String> {
        var seen: Set<String> = [start]
        var stack = [start]
        while let n = stack.popLast() {
            for m in successors[n, default: []] where seen.insert(m).inserted { stack.append(m) }
        }
        return seen
    }

    /// Cycles made only of unbounded edges (each reported once, starting at its smallest id).
    func unboundedCycles() -> [[String]] {
        var found = Set<[String]>()
        var path: [String] = []
        var onPath = Set<String>()
        var done = Set<String>()
        func visit(_ n: String) {
            path.append(n)
            onPath.insert(n)
            for m in successors[n, default: []] where !bounded.contains([n, m]) {
                if onPath.contains(m) {
                    var cycle = Array(path[path.firstIndex(of: m)!...])
                    let start = cycle.firstIndex(of: cycle.min()!)!
                    cycle = Array(cycle[start...] + cycle[..<start])
                    found.insert(cycle + [cycle[0]])
                } else if !done.contains(m) {
                    visit(m)
                }
            }
            onPath.remove(n)
            path.removeLast()
            done.insert(n)
        }
        for n in successors.keys.sorted() where !done.contains(n) { visit(n) }
        return found.sorted { $0.joined(separator: ",") < $1.joined(separator: ",") }
    }
}
