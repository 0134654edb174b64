import Synchronization

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// Attributes what one instance's ``MeteredTransport`` counts, and its Lambda time, to executions.
///
/// Lambda runs one invocation per instance at a time. What an invocation counts before a commit goes into that
/// commit's cursor (`usage`), with the invocation's Lambda request and state transitions; what it counts after (the
/// commit itself, its events, its Lambda duration) waits here for the execution's next commit or `finalize` on this
/// instance. When that next step runs on another instance the remainder is not counted: the report errs low by one
/// commit's requests and one invocation's duration per instance switch, never high.
package final class UsageLedger: Sendable {
    private struct Running {
        var executionID: String?
        var transitions = 0
        /// Whether a commit already recorded this invocation's request and transitions.
        var charged = false
        var mark = Usage()
        var started = ContinuousClock.now
    }

    private let meter: MeteredTransport?
    private let memoryMegabytes: Int
    private let running = Mutex(Running())
    private let unrecorded = Mutex<(usage: [String: Usage], order: [String])>(([:], []))

    /// Executions whose remainder is kept (the oldest is dropped beyond this: an instance serving many executions).
    package static let capacity = 256
    /// - Parameter meter: the transport the instance's AWS clients send through (nil: only Lambda and Step
    ///   Functions figures are counted).
    package init(meter: MeteredTransport?, memoryMegabytes: Int) {
        self.meter = meter
        self.memoryMegabytes = max(0, memoryMegabytes)
    }

    /// Starts an invocation for `executionID` (nil: one whose use is not attributed, such as a map chunk's) that
    /// enters `transitions` states of the workflow state machine (``SegmentEvent/transitions``).
    package func begin(_ executionID: String?, transitions: Int) {
        let reading = meter?.total ?? Usage()
        running.withLock { $0 = Running(executionID: executionID, transitions: transitions, mark: reading, started: .now) }
    }

    /// What the execution's next commit records: its remainder here, what this invocation counted so far and, at
    /// its first commit, the invocation's Lambda request and state transitions (so those never wait for the next).
    package func take(for executionID: String) -> Usage {
        let reading = meter?.total ?? Usage()
        let counted = running.withLock { r -> Usage in
            guard r.executionID == executionID else { return Usage() }
            var counted = reading - r.mark
            if !r.charged {
                counted.lambdaRequests = 1
                counted.transitions = r.transitions
                r.charged = true
            }
            r.mark = reading
            return counted
        }
        return counted + remove(executionID)
    }

    /// Puts back what a commit that failed had taken (so the retry's commit records it).
    package func giveBack(_ usage: Usage, for executionID: String) { add(usage, for: executionID) }

    /// What `finalize` reports beyond the stored cursor: ``take(for:)`` plus this invocation's Lambda request,
    /// duration so far and transitions (it commits nothing after).
    package func closing(for executionID: String) -> Usage {
        defer { abandon() }  // reported here: not again at ``end()``
        return take(for: executionID) + invocation()
    }

    /// Ends the invocation: what it counted after its last commit, and its Lambda figures, wait for the next one.
    package func end() {
        let reading = meter?.total ?? Usage()
        let (executionID, counted) = running.withLock { r in (r.executionID, reading - r.mark) }
        guard let executionID else { return }
        add(counted + invocation(), for: executionID)
        running.withLock { $0.executionID = nil }
    }

    /// Forgets the running invocation (a refused step: its ids are not trusted).
    package func abandon() { running.withLock { $0.executionID = nil } }

    /// This invocation's duration so far (billed per started millisecond, × memory) and, unless a commit recorded
    /// them, its Lambda request and transitions.
    private func invocation() -> Usage {
        let (elapsed, transitions, charged) = running.withLock { (ContinuousClock.now - $0.started, $0.transitions, $0.charged) }
        let (seconds, attoseconds) = elapsed.components
        let perMilli: Int64 = 1_000_000_000_000_000
        let partial: Int = attoseconds % perMilli == 0 ? 0 : 1
        let whole = Int(clamping: seconds).saturatingMultiply(1000).saturatingAdd(Int(attoseconds / perMilli) + partial)
        var usage = Usage()
        usage.lambdaMegabyteMillis = min(Usage.maxCount, max(1, whole).saturatingMultiply(memoryMegabytes))
        if !charged {
            usage.lambdaRequests = 1
            usage.transitions = transitions
        }
        return usage
    }

    private func add(_ usage: Usage, for executionID: String) {
        guard !usage.isEmpty else { return }
        unrecorded.withLock { u in
            if u.usage[executionID] == nil { u.order.append(executionID) }
            u.usage[executionID] = (u.usage[executionID] ?? Usage()) + usage
            while u.order.count > Self.capacity { u.usage[u.order.removeFirst()] = nil }
        }
    }

    private func remove(_ executionID: String) -> Usage {
        unrecorded.withLock { u in
            guard let usage = u.usage.removeValue(forKey: executionID) else { return Usage() }
            u.order.removeAll { $0 == executionID }
            return usage
        }
    }
}

extension Int {
    /// `self * other`, or `Int.max` when that overflows.
    func saturatingMultiply(_ other: Int) -> Int {
        let (product, overflow) = multipliedReportingOverflow(by: other)
        return overflow ? .max : product
    }
}
