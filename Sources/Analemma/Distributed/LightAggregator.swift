#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// The light aggregator: a Distributed Map's statistics from its ResultWriter `manifest.json` and `DescribeMapRun`
/// counts only. It never downloads result files, so its memory and bytes read depend on the number of result files,
/// not on the number of items.
package struct LightAggregator: Sendable {
    package let s3: S3
    package let stepFunctions: StepFunctions
    /// Manifests are refused outside this bucket (the state bucket).
    package let bucket: String

    package init(s3: S3, stepFunctions: StepFunctions, bucket: String) {
        self.s3 = s3
        self.stepFunctions = stepFunctions
        self.bucket = bucket
    }

    /// Statistics: counts, result files by status, the manifest pointer, bytes read.
    /// The map run must belong to `executionID` (DescribeMapRun says so) and its manifest must be the ResultWriter's
    /// own (`map-runs/<map run id>/manifest.json` in the state bucket): anything else is refused before any read.
    package func aggregate(mapRunArn: String, executionID: String, manifestBucket: String, manifestKey: String) async throws -> MapAggregate
    {
        let runID = mapRunArn.split(separator: ":").last.map(String.init) ?? ""
        let location = S3Location(bucket: manifestBucket, key: manifestKey)
        guard manifestBucket == bucket, !runID.isEmpty, !runID.contains("/"),
            manifestKey == "\(S3ExecutionArtifacts.resultWriterPrefix)/\(runID)/manifest.json"
        else {
            throw AnalemmaError(
                .forgedPointer, "refusing manifest \(location): not map run \(runID.debugDescription)'s in the state bucket")
        }
        let run: StepFunctions.MapRun
        do { run = try await stepFunctions.describeMapRun(mapRunArn) } catch let e as AWSError where !e.isThrottling && !e.isServerError {
            throw AnalemmaError(.forgedPointer, "map run \(mapRunArn.debugDescription) cannot be read (\(e.code))")
        }
        guard run.executionArn == executionID else {
            throw AnalemmaError(.forgedPointer, "map run \(mapRunArn.debugDescription) belongs to another execution")
        }
        let body = try await s3.getObject(bucket: bucket, key: manifestKey).body
        struct ResultWriterManifest: Decodable {
            var MapRunArn: String?
            var ResultFiles: [String: [MapAggregate.ResultFile]]
        }
        guard let manifest = try? JSONDecoder().decode(ResultWriterManifest.self, from: body) else {
            throw AnalemmaError(.invalidState, "\(location) is not a ResultWriter manifest")
        }
        if let arn = manifest.MapRunArn, arn != mapRunArn {
            throw AnalemmaError(.invalidState, "manifest belongs to map run \(arn), not \(mapRunArn)")
        }
        var out = MapAggregate()
        out.mapRunArn = mapRunArn
        out.status = run.status
        out.bucket = bucket
        out.manifest = location.description
        out.itemCounts = MapAggregate.Counts(run.itemCounts)
        out.executionCounts = MapAggregate.Counts(run.executionCounts)
        out.resultFiles = manifest.ResultFiles
        out.resultBytes = manifest.ResultFiles.values.joined().reduce(0) { $0 + ($1.size ?? 0) }
        out.bytesRead = body.count
        return out
    }
}

/// The `light-aggregator` Tiny Handler: `{"map_run": <the Map state's ResultWriter output>, "execution_id",
/// "trace_id"}` in, ``LightAggregator`` statistics out.
public struct LightAggregatorService: LambdaHandler {
    package let aggregator: LightAggregator
    package let events: any EventSink

    package init(aggregator: LightAggregator, events: any EventSink) {
        self.aggregator = aggregator
        self.events = events
    }

    /// Builds the function on the system's sockets (HTTP, TLS); the settings are those of the next initialiser.
    public init(environment: FunctionEnvironment, logger: Logger) throws {
        try self.init(environment: environment, logger: logger, transport: SocketTransport())
    }

    /// Reads `STATE_BUCKET` and the AWS settings from the function environment.
    package init(environment: FunctionEnvironment, logger: Logger, transport: any HTTPTransport) throws {
        let client = try AWSClient(environment: environment, transport: transport)
        self.init(
            aggregator: LightAggregator(
                s3: try S3(client: client), stepFunctions: try StepFunctions(client: client),
                bucket: try environment.require("STATE_BUCKET", "the state bucket")),
            events: LogEventSink(logger: logger))
    }

    struct Event: Decodable {
        struct MapRun: Decodable {
            struct Details: Decodable {
                var Bucket: String
                var Key: String
            }
            var MapRunArn: String
            var ResultWriterDetails: Details
        }
        var map_run: MapRun
        var execution_id: String?
        var trace_id: String?
        var owner_id: String?
    }

    public func handle(_ event: Data, context: LambdaContext) async throws -> Data {
        let e: Event
        do { e = try JSONDecoder().decode(Event.self, from: event) } catch {
            throw AnalemmaError(
                .invalidEvent, "light-aggregator event needs map_run {MapRunArn, ResultWriterDetails {Bucket, Key}}: \(error)")
        }
        guard let executionID = e.execution_id else {
            throw AnalemmaError(.invalidEvent, "light-aggregator event needs execution_id (the map run's execution)")
        }
        let stats: MapAggregate
        do {
            stats = try await aggregator.aggregate(
                mapRunArn: e.map_run.MapRunArn, executionID: executionID, manifestBucket: e.map_run.ResultWriterDetails.Bucket,
                manifestKey: e.map_run.ResultWriterDetails.Key)
        } catch { throw ScopedError.wrap(error, traceID: e.trace_id, executionID: executionID, ownerID: e.owner_id) }
        var summary: [String: String] = ["map_run_arn": e.map_run.MapRunArn]
        if let c = stats.itemCounts {
            for (k, v) in [
                ("succeeded", c.succeeded), ("failed", c.failed), ("pending", c.pending), ("running", c.running),
                ("timed_out", c.timedOut), ("aborted", c.aborted), ("total", c.total),
            ] {
                summary[k] = String(v)
            }
        }
        // To the function's log only: the owner's event log gets map_aggregated from map_done, which is bound to state.
        events.emit(KernelEvent(.mapRead, executionID: executionID, traceID: e.trace_id ?? "", ownerID: e.owner_id ?? "", summary))
        await events.flush(requestID: context.requestID)
        return try CanonicalJSON.encode(stats)
    }
}
