import Analemma
import Foundation

/// A Distributed Map's fan-out on the local stack: writing N chunks as one items object plus the ItemReader input
/// (what `run` does) against the baseline of one object per chunk (the previous layout, 16 PUTs in flight), and one
/// child's read of its chunk (one ranged GET), counted by request and byte, same run.
func fanOutBenchmark(endpoint: String, bucket: String) async throws {
    let (counting, client) = try countingClient(endpoint)
    let s3 = try S3(client: client)
    let service = DistributedChunkService(s3: s3, bucket: bucket)
    let clock = ContinuousClock()
    func ms(_ d: Duration) -> Double { Double(d.components.seconds) * 1000 + Double(d.components.attoseconds) / 1e15 }
    for chunks in [1_000, 10_000] {
        let cut = (0..<chunks).map { [Data(#"{"id":\#($0),"text":"item \#($0) of the map, about sixty bytes long"}"#.utf8)] }
        let prefix = try StatePointer(bucket: bucket, ownerID: "bench", path: "executions/fanout-\(UUID().uuidString.prefix(8))/map/m/1")
        _ = counting.take()
        var written: DistributedChunkService.Written?
        let elapsed = try await clock.measure { written = try await service.write(cut, under: prefix) }
        let tally = counting.take()
        let baselinePrefix = prefix.key + "-baseline"
        let baselineElapsed = try await clock.measure {
            try await ConcurrentRequests.forEach(Array(cut.enumerated())) { i, chunk in
                var body = Data("[".utf8)
                body.append(chunk[0])
                body.append(UInt8(ascii: "]"))
                try await s3.putObject(bucket: bucket, key: baselinePrefix + "/" + DistributedChunkService.chunkName(i), body: body)
            }
        }
        let baseline = counting.take()
        let label = "map.fan_out.\(chunks)_chunks"
        emit(label, "s3_puts", Double(tally.s3Puts), "requests")
        emit(label, "bytes_put", Double(tally.putBytes), "B")
        emit(label, "write_time", ms(elapsed), "ms")
        emit(label + ".baseline_object_per_chunk", "s3_puts", Double(baseline.s3Puts), "requests")
        emit(label + ".baseline_object_per_chunk", "write_time", ms(baselineElapsed), "ms")
        emit(label, "time_over_baseline_ratio", ms(elapsed) / max(ms(baselineElapsed), 0.001), "x")
        guard let written, let range = written.ranges.last else { continue }
        let bytes = try await s3.getObject(bucket: bucket, key: written.items.key, range: range.bytes).body
        let read = counting.take()
        let frame = try ChunkFrame.parse(bytes, index: chunks - 1, items: chunks, chunkSize: 1)
        guard frame.items == cut[chunks - 1] else { throw AnalemmaError(.invalidState, "fan-out bench: the last chunk read back wrong") }
        emit(label + ".child_read", "s3_gets", Double(read.counts["s3:GET", default: 0]), "requests")
        emit(label + ".child_read", "bytes_received", Double(read.s3Received), "B")
    }
}
