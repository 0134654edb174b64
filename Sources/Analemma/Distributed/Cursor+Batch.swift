#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

extension Cursor {
    /// A map whose items one batch job answers: where its items are stored and which job to poll.
    package struct Batch: Codable, Sendable, Equatable {
        package var node: String
        package var ticket: BatchTicket
        package var bucket: String
        /// Key of the items' ItemReader index (`items.json`), as for a fan-out.
        package var key: String
        /// S3 prefix (key) of the chunks and their result files.
        package var prefix: String
        package var items: Int
        package var chunks: Int
        package var chunkSize: Int
        /// The node's `batch_poll_seconds`: the first wait, and the shortest.
        package var pollSeconds: Int
        package var submittedAtMillis: Int64

        /// The longest wait between polls (unless the node asks for longer).
        package static let maxWaitSeconds = 600

        enum CodingKeys: String, CodingKey {
            case node, ticket, bucket, key, prefix, items, chunks
            case chunkSize = "chunk_size"
            case pollSeconds = "poll_seconds"
            case submittedAtMillis = "submitted_ms"
        }

        /// Seconds until the next poll: the node's pace at first, then a tenth of the time the job has run, at most
        /// ten minutes, so a job that takes the Batch API's full 24 hours is polled a few hundred times (each poll
        /// is about nine history events, far under Step Functions' 25,000).
        package func nextWait(nowMillis: Int64) -> Int {
            let ran = max(0, nowMillis - submittedAtMillis) / 1000
            return Int(min(Int64(max(Self.maxWaitSeconds, pollSeconds)), max(Int64(pollSeconds), ran / 10)))
        }
    }
}
