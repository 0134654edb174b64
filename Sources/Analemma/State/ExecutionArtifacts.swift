#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// Deletes what one execution alone owns outside its manifests and blocks (one method: testable without the network).
package protocol ExecutionArtifacts: Sendable {
    /// Deletes every object of the execution; returns how many were deleted. Idempotent.
    func purge(executionID: String, ownerID: String) async throws -> Int
}

/// The S3 side of an execution: everything under `owners/<owner>/executions/<execution key>/` (event log shards,
/// map chunks and chunk results, payload offloads) and the ResultWriter files of each of its Distributed Map runs
/// (`map-runs/<map run id>/`, found through the execution's history). For an execution Step Functions no longer
/// knows, its ResultWriter files are left to the bucket's `map-runs/` lifecycle rule (14 days in the template).
package struct S3ExecutionArtifacts: ExecutionArtifacts {
    package let s3: S3
    package let bucket: String
    package let stepFunctions: StepFunctions
    /// Where ResultWriter writes (the state machine's `ResultWriter.Parameters.Prefix`).
    package static let resultWriterPrefix = "map-runs"

    package init(s3: S3, bucket: String, stepFunctions: StepFunctions) {
        self.s3 = s3
        self.bucket = bucket
        self.stepFunctions = stepFunctions
    }

    package func purge(executionID: String, ownerID: String) async throws -> Int {
        var prefixes = [
            try StatePointer(bucket: bucket, ownerID: ownerID, path: "executions/\(StatePointer.executionKey(executionID))").key + "/"
        ]
        prefixes += try await mapRunIDs(executionID).map { "\(Self.resultWriterPrefix)/\($0)/" }
        var deleted = 0
        for prefix in prefixes {
            let keys = try await s3.listObjects(bucket: bucket, prefix: prefix).map(\.key)
            for batch in stride(from: 0, to: keys.count, by: 1000).map({ Array(keys[$0..<min($0 + 1000, keys.count)]) }) {
                let failures = try await s3.deleteObjects(bucket: bucket, keys: batch)
                guard failures.isEmpty else {
                    throw AnalemmaError(
                        .transient, "retention: \(failures.count) objects under \(prefix) were not deleted (the next pass retries)")
                }
                deleted += batch.count
            }
        }
        return deleted
    }

    /// The ids of the execution's map runs (the last part of each `mapRunArn`); none when Step Functions forgot it.
    func mapRunIDs(_ executionID: String) async throws -> [String] {
        let events: [StepFunctions.HistoryEvent]
        do { events = try await stepFunctions.executionHistory(executionID) } catch let e as AWSError
            where stepFunctions.isForeign(e, executionArn: executionID)
        {
            return []
        }
        return events.compactMap { $0.mapRunStartedEventDetails?.mapRunArn.split(separator: ":").last.map(String.init) }
            .filter { !$0.isEmpty && !$0.contains("/") && $0 != "." && $0 != ".." }
    }
}
