#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// Continue-as-new: a Standard execution fails when its history reaches 25,000 events, so a long workflow hands its
/// cursor to a new execution of the same state machine before that, and the chain carries on: same trace id, the
/// manifest chain continued (the new execution's first manifest is a fork of the last one), budgets counted across
/// the chain (their counters live in the cursor), the first execution's output naming the next one.
/// https://docs.aws.amazon.com/step-functions/latest/dg/tutorial-use-step-functions-to-continue-an-execution.html
extension Cursor {
    /// Where an execution stands in a chain of executions that continue one another.
    package struct Chain: Codable, Sendable, Equatable {
        /// The first execution's ARN.
        package var root: String
        /// This execution's place in the chain (0: the first).
        package var index: Int
        /// The execution this one continues.
        package var previous: String?
        /// The cursor's step when this execution began: the steps since count toward its history.
        package var startStep: Int
        /// The execution that continues this one, once it hands over: its name and ARN.
        package var next: String?
        package var nextARN: String?

        package init(root: String, index: Int, previous: String?, startStep: Int, next: String?, nextARN: String?) {
            self.root = root
            self.index = index
            self.previous = previous
            self.startStep = startStep
            self.next = next
            self.nextARN = nextARN
        }

        enum CodingKeys: String, CodingKey {
            case root, index, previous, next
            case startStep = "start_step"
            case nextARN = "next_arn"
        }
    }

    /// History events one kernel step may cost, at most (a Task state's five events, the route Choice's two, a
    /// retry or catch now and then).
    package static let historyEventsPerStep = 10

    /// Steps one execution may take before it hands over, for a history limit of `historyLimit` events (90 % of it).
    package static func stepsPerExecution(historyLimit: Int) -> Int {
        max(4, historyLimit / 10 * 9 / historyEventsPerStep)
    }

    /// The cursor to commit: when it would go on running in `executionID` past `steps` steps, it hands over to the
    /// next execution of the chain instead (status `continue_as_new`, `chain.next` named and deterministic, so a
    /// retried step and a retried StartExecution name the same execution). Executions without an ARN never hand over.
    package func handingOver(in executionID: String, afterSteps steps: Int) -> Cursor {
        let here = chain?.startStep ?? 0
        guard status == .continue, step - here >= steps, let colon = executionID.lastIndex(of: ":"),
            executionID.hasPrefix("arn:"), executionID.contains(":execution:")
        else { return self }
        let root = chain?.root ?? executionID
        let rootName = root.split(separator: ":").last.map(String.init) ?? "run"
        let index = (chain?.index ?? 0) + 1
        let name = "\(rootName.prefix(48))-\(Digest.hex(Digest.sha256(Array(root.utf8))).prefix(12))-c\(index)"
        var next = self
        next.status = .continueAsNew
        next.chain = Chain(
            root: root, index: chain?.index ?? 0, previous: chain?.previous, startStep: here, next: name,
            nextARN: executionID[..<colon] + ":" + name)
        return next
    }

    /// The cursor execution `executionID` starts from when `previous` (whose cursor this is) hands over to it; nil
    /// when it does not (it hands over to no one, or to another execution).
    package func continued(as executionID: String, from previous: String) -> Cursor? {
        guard status == .continueAsNew, let chain, chain.nextARN == executionID else { return nil }
        var next = self
        next.status = .continue
        next.step += 1
        next.chain = Chain(root: chain.root, index: chain.index + 1, previous: previous, startStep: next.step, next: nil, nextARN: nil)
        return next
    }
}
