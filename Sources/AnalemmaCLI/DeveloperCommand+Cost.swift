import Analemma
import Foundation

/// `analemma cost EXECUTION_ARN`: what a run cost, over its continue-as-new chain, priced by `PRICE_TABLE`.
extension DeveloperCommand {
    /// Prints `{"execution_id", "status", "chain", "source", "cost": {"usage", "usd"}}` for the chain's last execution:
    /// an ended run's report as `finalize` put it in the output (`"source": "output"`), else the usage its state
    /// records so far priced now (`"source": "state"`; it leaves out the invocation running now). Needs
    /// `STATE_BUCKET` and `MANIFEST_TABLE` (the segment runner's) for the second.
    static func cost(_ arn: String, environment: FunctionEnvironment) async -> Int32 {
        do {
            let client = try AWSClient(environment: environment)
            let executions = try await chain(from: arn, stepFunctions: try StepFunctions(client: client))
            guard let last = executions.last else { return fail("no execution \(arn)", 1) }
            var doc: [String: JSONValue] = [
                "execution_id": .string(last.executionArn), "status": .string(last.status),
                "chain": .array(executions.map { .string($0.executionArn) }),
            ]
            if let output = last.output, case .object(let o)? = try? JSONValue(json: Data(output.utf8)), let reported = o["cost"],
                (try? JSONDecoder().decode(CostReport.self, from: reported.jsonData())) != nil
            {
                doc["source"] = .string("output")
                doc["cost"] = reported
            } else {
                let prices = try PriceTable(environment: environment)
                let store = S3BlockStore(
                    s3: try S3(client: client), bucket: try environment.require("STATE_BUCKET", "the state bucket"))
                let reader = ExecutionCost(
                    manifests: ManifestStore(
                        db: try DynamoDB(client: client), table: try environment.require("MANIFEST_TABLE", "the manifest table")),
                    hydrator: StateHydrator(store: store))
                guard let report = try await reader.report(executionID: last.executionArn, prices: prices) else {
                    return fail("execution \(last.executionArn) has no checkpoint yet", 1)
                }
                doc["source"] = .string("state")
                doc["cost"] = try JSONValue(json: try JSONEncoder().encode(report))
            }
            print(String(decoding: JSONValue.object(doc).jsonData(), as: UTF8.self))
            return 0
        } catch {
            return fail("\((error as? AnalemmaError)?.description ?? "\(error)")", 1)
        }
    }
}
