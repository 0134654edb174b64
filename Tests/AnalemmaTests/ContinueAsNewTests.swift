import Analemma
import Foundation
import Testing

@Suite("Continue-as-new: a cursor hands over to the chain's next execution before the history limit")
struct ContinueAsNewTests {
    static let arn = "arn:aws:states:us-east-1:123456789012:execution:analemma-workflow:run-1"

    func cursor(step: Int, status: Cursor.Status = .continue) -> Cursor {
        Cursor(status: status, workflowID: "w", workflow: "s3://b/owners/o/workflows/x.json", step: step, segment: 1, traversals: [:])
    }

    @Test("steps per execution keep a 10-events-per-step budget inside 90 % of the limit")
    func stepsPerExecution() {
        #expect(Cursor.stepsPerExecution(historyLimit: 25_000) == 2_250)
        #expect(Cursor.stepsPerExecution(historyLimit: 1_000) == 90)
        #expect(Cursor.stepsPerExecution(historyLimit: 100) == 9)
        #expect(Cursor.stepsPerExecution(historyLimit: 20) == 4)
    }

    @Test("below the threshold, waiting for a human or without an execution ARN, nothing hands over")
    func staysPut() {
        #expect(cursor(step: 89).handingOver(in: Self.arn, afterSteps: 90) == cursor(step: 89))
        #expect(cursor(step: 500, status: .waitHuman).handingOver(in: Self.arn, afterSteps: 90).status == .waitHuman)
        #expect(cursor(step: 500).handingOver(in: "direct-execution", afterSteps: 90).status == .continue)
    }

    @Test("at the threshold the cursor names the next execution, deterministically and within 80 characters")
    func handsOver() throws {
        let handed = cursor(step: 90).handingOver(in: Self.arn, afterSteps: 90)
        #expect(handed.status == .continueAsNew)
        let chain = try #require(handed.chain)
        #expect(chain.root == Self.arn && chain.index == 0 && chain.startStep == 0)
        let name = try #require(chain.next)
        #expect(name.count <= 80 && name.hasPrefix("run-1-") && name.hasSuffix("-c1"))
        #expect(chain.nextARN == "arn:aws:states:us-east-1:123456789012:execution:analemma-workflow:" + name)
        #expect(cursor(step: 90).handingOver(in: Self.arn, afterSteps: 90) == handed)  // a retried step names the same one
        #expect(handed.inPayload.chain == handed.chain)  // the state machine reads the name from the payload
    }

    @Test("the next execution continues the cursor; any other execution is refused")
    func continues() throws {
        let handed = cursor(step: 90).handingOver(in: Self.arn, afterSteps: 90)
        let next = try #require(handed.chain?.nextARN)
        let resumed = try #require(handed.continued(as: next, from: Self.arn))
        #expect(resumed.status == .continue && resumed.segment == 1 && resumed.step == 91)
        #expect(resumed.chain == Cursor.Chain(root: Self.arn, index: 1, previous: Self.arn, startStep: 91, next: nil, nextARN: nil))
        #expect(handed.continued(as: Self.arn + "-forged", from: Self.arn) == nil)
        #expect(cursor(step: 90).continued(as: next, from: Self.arn) == nil)
        // The chain's second hand-over counts its steps from where it began and keeps the root.
        let again = resumed.handingOver(in: next, afterSteps: 90)
        #expect(again.status == .continue)
        var later = resumed
        later.step += 90
        let second = try #require(later.handingOver(in: next, afterSteps: 90).chain)
        #expect(second.root == Self.arn && second.index == 1 && second.next?.hasSuffix("-c2") == true)
    }
}
