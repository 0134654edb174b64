#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// The S3 log shards of executions: one JSON Lines object per handler invocation and execution, under
/// `owners/<owner>/executions/<execution key>/events/<time_ms>-<request id>.jsonl`, tagged with the trace id.
///
/// Shards are written once and never changed; their keys sort by time, so listing the prefix replays an
/// execution's events in order.
package struct EventLog: Sendable {
    package let s3: S3
    package let bucket: String

    package init(s3: S3, bucket: String) {
        self.s3 = s3
        self.bucket = bucket
    }

    /// The folder (below the owner's prefix) that holds every shard of an execution.
    static func folder(_ executionID: String) -> String { "executions/\(StatePointer.executionKey(executionID))/events" }

    /// Writes one shard of `events` (all of one execution); returns its pointer.
    package func write(_ events: [KernelEvent], requestID: String) async throws -> StatePointer {
        guard let first = events.first else { throw AnalemmaError(.invalidEvent, "an event shard needs at least one event") }
        let safeRequest = String(
            requestID.unicodeScalars.filter { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "-") })
        let time = String(first.timeMillis)  // zero-padded to 13 digits: keys sort by time
        let name =
            String(repeating: "0", count: max(0, 13 - time.count)) + time + "-"
            + (safeRequest.isEmpty ? "local" : String(safeRequest.prefix(64)))
        let pointer = try StatePointer(bucket: bucket, ownerID: first.ownerID, path: "\(Self.folder(first.executionID))/\(name).jsonl")
        var body = Data()
        for (i, event) in events.enumerated() {
            body.append(event.record(seq: i).jsonData())
            body.append(0x0A)
        }
        try await s3.putObject(
            bucket: bucket, key: pointer.key, body: body, contentType: "application/x-ndjson",
            tags: [("trace_id", first.traceID), ("kind", "event-shard")])
        return pointer
    }

    /// Reads one shard (a pointer already checked against the owner) into its records.
    package func read(_ pointer: StatePointer) async throws -> [JSONValue] {
        let body = try await s3.getObject(bucket: pointer.bucket, key: pointer.key).body
        return try body.split(separator: 0x0A).map { try JSONValue(json: Data($0)) }
    }

    /// The pointers of an execution's shards, oldest first (at most `limit`).
    package func shards(ownerID: String, executionID: String, limit: Int = 1000) async throws -> [StatePointer] {
        let prefix = try StatePointer(bucket: bucket, ownerID: ownerID, path: Self.folder(executionID))
        let keys = try await s3.listObjects(bucket: bucket, prefix: prefix.key + "/", maxKeys: limit).map(\.key)
        return try keys.sorted().map {
            try StatePointer(S3Location(bucket: bucket, key: $0), ownerID: ownerID)
        }
    }
}
