#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// AWS Step Functions over awsJSON 1.0 (`AWSStepFunctions.*`).
///
/// https://docs.aws.amazon.com/step-functions/latest/apireference/API_Operations.html
package struct StepFunctions: Sendable {
    package let service: AWSJSONService
    /// The state machine whose executions this role is granted (nil: none named). `AccessDenied` on one of its
    /// executions is a misconfigured role, not a foreign id (``isForeign(_:executionArn:)``).
    package let stateMachineARN: String?

    package init(client: AWSClient, stateMachineARN: String? = nil) throws {
        service = try AWSJSONService(
            client: client, serviceID: "SFN", signingName: "states", endpointPrefix: "states", targetPrefix: "AWSStepFunctions")
        self.stateMachineARN = stateMachineARN
    }

    struct StartInput: Encodable {
        var stateMachineArn: String
        var name: String?
        var input: String?
    }
    package struct Started: Decodable, Sendable {
        package var executionArn: String
    }

    /// StartExecution. A named start is idempotent (same name and input returns the running execution) and is
    /// retried after ambiguous failures; an unnamed one is not.
    package func startExecution(stateMachineArn: String, name: String? = nil, input: String = "{}") async throws -> Started {
        try await service.call(
            "StartExecution", StartInput(stateMachineArn: stateMachineArn, name: name, input: input), idempotent: name != nil)
    }

    package struct Execution: Decodable, Sendable {
        package var executionArn: String
        package var stateMachineArn: String?
        package var status: String
        package var input: String?
        package var output: String?
        package var error: String?
        package var cause: String?
        package var name: String?
        /// Epoch seconds, once the execution closed.
        package var stopDate: Double?
        /// `REDRIVABLE`, `NOT_REDRIVABLE` or `REDRIVABLE_BY_MAP_RUN` (closed executions).
        package var redriveStatus: String?
    }
    struct ArnInput: Encodable { var executionArn: String }

    package func describeExecution(_ executionArn: String) async throws -> Execution {
        try await service.call("DescribeExecution", ArnInput(executionArn: executionArn), idempotent: true)
    }

    package struct HistoryEvent: Decodable, Sendable {
        package struct MapRunStarted: Decodable, Sendable { package var mapRunArn: String }
        package var id: Int
        package var type: String
        package var mapRunStartedEventDetails: MapRunStarted?
    }
    struct HistoryInput: Encodable {
        var executionArn: String
        var nextToken: String?
        var maxResults: Int?
    }
    struct HistoryOutput: Decodable {
        var events: [HistoryEvent]
        var nextToken: String?
    }

    /// GetExecutionHistory, every page.
    package func executionHistory(_ executionArn: String) async throws -> [HistoryEvent] {
        var events: [HistoryEvent] = []
        var token: String?
        repeat {
            let page = try await service.call(
                "GetExecutionHistory", HistoryInput(executionArn: executionArn, nextToken: token, maxResults: 1000), idempotent: true,
                as: HistoryOutput.self)
            events += page.events
            token = page.nextToken
        } while token != nil
        return events
    }

    struct TaskSuccess: Encodable {
        var taskToken: String
        var output: String
    }
    struct TaskFailure: Encodable {
        var taskToken: String
        var error: String?
        var cause: String?
    }
    struct TaskHeartbeat: Encodable { var taskToken: String }

    /// SendTaskSuccess (a token completes once; a replay fails with `TaskTimedOut`/`InvalidToken`, never twice).
    package func sendTaskSuccess(token: String, output: String) async throws {
        let _: Empty = try await service.call("SendTaskSuccess", TaskSuccess(taskToken: token, output: output), idempotent: true)
    }

    package func sendTaskFailure(token: String, error: String?, cause: String?) async throws {
        let _: Empty = try await service.call(
            "SendTaskFailure", TaskFailure(taskToken: token, error: error, cause: cause), idempotent: true)
    }

    package func sendTaskHeartbeat(token: String) async throws {
        let _: Empty = try await service.call("SendTaskHeartbeat", TaskHeartbeat(taskToken: token), idempotent: true)
    }

    package struct MapRun: Decodable, Sendable {
        package struct Counts: Decodable, Sendable {
            package var pending, running, succeeded, failed, timedOut, aborted, total: Int
            package var resultsWritten: Int?
        }
        package var mapRunArn: String
        /// The execution the map run belongs to.
        package var executionArn: String?
        package var status: String
        package var itemCounts: Counts
        package var executionCounts: Counts
        package var toleratedFailurePercentage: Double?
        package var toleratedFailureCount: Int?
    }
    struct MapRunInput: Encodable { var mapRunArn: String }

    package func describeMapRun(_ mapRunArn: String) async throws -> MapRun {
        try await service.call("DescribeMapRun", MapRunInput(mapRunArn: mapRunArn), idempotent: true)
    }
}

/// Reads a Distributed Map run (one method: map_done's binding is testable without the network).
package protocol MapRunSource: Sendable {
    func describeMapRun(_ mapRunArn: String) async throws -> StepFunctions.MapRun
}

extension StepFunctions: MapRunSource {}
