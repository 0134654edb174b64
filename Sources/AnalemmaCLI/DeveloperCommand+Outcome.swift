import Analemma
import Foundation

/// `analemma outcome EXECUTION_ARN`: where a run ended, following a continue-as-new chain from its first execution.
extension DeveloperCommand {
    /// The chain's executions from `first` on, each as Step Functions describes it (at most `limit`: a chain never
    /// loops, the bound only stops a forged output from leading on forever).
    static func chain(from first: String, stepFunctions: StepFunctions, limit: Int = 10_000) async throws -> [StepFunctions.Execution] {
        var out: [StepFunctions.Execution] = []
        var arn = first
        while out.count < limit {
            let execution = try await stepFunctions.describeExecution(arn)
            out.append(execution)
            guard execution.status == "SUCCEEDED", let output = execution.output,
                case .object(let o) = try? JSONValue(json: Data(output.utf8)), o["outcome"] == .string("CONTINUED_AS_NEW"),
                case .string(let next)? = o["continued_as"], next != arn
            else { return out }
            arn = next
        }
        throw AnalemmaError(.invalidState, "execution \(first.debugDescription) leads through more than \(limit) executions")
    }

    /// Prints `{"execution_id", "status", "output"|"error"/"cause", "chain": [ARN…]}` of the chain's last execution.
    static func outcome(_ arn: String, environment: FunctionEnvironment) async -> Int32 {
        do {
            let executions = try await chain(from: arn, stepFunctions: try StepFunctions(client: try AWSClient(environment: environment)))
            guard let last = executions.last else { return fail("no execution \(arn)", 1) }
            var doc: [String: JSONValue] = [
                "execution_id": .string(last.executionArn), "status": .string(last.status),
                "chain": .array(executions.map { .string($0.executionArn) }),
            ]
            if let output = last.output { doc["output"] = (try? JSONValue(json: Data(output.utf8))) ?? .string(output) }
            if let error = last.error { doc["error"] = .string(error) }
            if let cause = last.cause { doc["cause"] = .string(cause) }
            print(String(decoding: JSONValue.object(doc).jsonData(), as: UTF8.self))
            return last.status == "SUCCEEDED" ? 0 : 1
        } catch {
            return fail("\((error as? AnalemmaError)?.description ?? "\(error)")", 1)
        }
    }
}
