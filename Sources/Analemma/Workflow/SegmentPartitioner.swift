/// A run of nodes executed in one Lambda invocation between two checkpoints.
package struct Segment: Sendable, Equatable {
    package var index: Int
    /// Node ids in execution order (a chain).
    package var nodes: [String]
    /// Fields the segment must hydrate: what its nodes (and its edges' conditions) read before any of them wrote it.
    package var reads: [String]
    /// Fields the segment may change.
    package var writes: [String]
    /// Segments that may run next (by index), from the last node's edges.
    package var next: [Int]
}

/// Cuts a validated workflow into segments at its boundaries: a node whose kind is a boundary
/// (``NodePlace/isBoundary``: `llm`, `hitp`, `map`) is always a segment of its own, so every model call and every
/// human wait ends at a checkpoint; other nodes are chained into one segment while the graph is a straight line
/// (one successor, one predecessor).
package enum SegmentPartitioner {
    package static func partition(_ w: WorkflowDefinition, kinds: NodeKinds = .standard) throws -> [Segment] {
        try WorkflowValidator.validate(w, kinds: kinds)
        let byID = Dictionary(w.nodes.map { ($0.id, $0) }) { first, _ in first }
        let router = WorkflowRouter(w)
        var successors: [String: [String]] = [:]
        var predecessors: [String: Int] = [:]
        for e in w.edges {
            if !(successors[e.from]?.contains(e.to) ?? false) {
                successors[e.from, default: []].append(e.to)
                predecessors[e.to, default: 0] += 1
            }
        }
        func isBoundary(_ id: String) -> Bool { byID[id].map { kinds.place(of: $0).isBoundary } ?? false }
        // A node starts a segment if it is the entry, a boundary, a join, a branch target, or follows a boundary.
        var starts = Set<String>([w.entry])
        for node in w.nodes {
            let succ = successors[node.id, default: []]
            if isBoundary(node.id) { starts.insert(node.id) }
            if predecessors[node.id, default: 0] > 1 { starts.insert(node.id) }
            if succ.count > 1 || isBoundary(node.id) { starts.formUnion(succ) }
            for s in succ where isBoundary(s) { starts.insert(s) }
        }
        // Order segments by a breadth-first walk from the entry (stable indices).
        var order: [String] = []
        var seen: Set<String> = [w.entry]
        var queue = [w.entry]
        while !queue.isEmpty {
            let n = queue.removeFirst()
            order.append(n)
            for m in successors[n, default: []] where seen.insert(m).inserted { queue.append(m) }
        }
        var segments: [Segment] = []
        var segmentOf: [String: Int] = [:]
        for start in order where starts.contains(start) {
            var chain = [start]
            var current = start
            while !isBoundary(current), let succ = successors[current], succ.count == 1, !starts.contains(succ[0]) {
                current = succ[0]
                chain.append(current)
            }
            var written = Set<String>()
            var reads: [String] = []
            var writes: [String] = []
            for id in chain {
                for f in byID[id]?.reads ?? [] where !written.contains(f) && !reads.contains(f) { reads.append(f) }
                for f in byID[id]?.writes ?? [] where !writes.contains(f) {
                    writes.append(f)
                    written.insert(f)
                }
                // Routing after the node reads its edges' condition fields (possibly just written by it).
                for f in router.conditionFields(of: id) where !written.contains(f) && !reads.contains(f) { reads.append(f) }
            }
            for id in chain { segmentOf[id] = segments.count }
            segments.append(Segment(index: segments.count, nodes: chain, reads: reads, writes: writes, next: []))
        }
        for i in segments.indices {
            var next: [Int] = []
            for s in successors[segments[i].nodes.last ?? "", default: []] {
                if let index = segmentOf[s], !next.contains(index) { next.append(index) }
            }
            segments[i].next = next
        }
        return segments
    }
}
