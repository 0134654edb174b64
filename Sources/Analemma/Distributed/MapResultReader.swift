#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// Streams a map's results for a later step or a command: the results index (a list of chunk result files), then
/// each chunk file in turn, so memory holds one chunk at a time whatever the item count.
package struct MapResultReader: Sendable {
    package let s3: S3

    package init(s3: S3) { self.s3 = s3 }

    /// Calls `body` with each item's index and raw result (`null` for a failed item), in item order.
    package func forEach(index pointer: String, _ body: (Int, Data) async throws -> Void) async throws {
        let indexLocation = try S3Location(parsing: pointer)
        let bucket = indexLocation.bucket
        let index = try await s3.getObject(bucket: bucket, key: indexLocation.key).body
        for range in try JSONScanner.elements(of: index) {
            guard case .string(let file) = try JSONValue(json: index.subdata(in: range)) else {
                throw AnalemmaError(.invalidState, "results index \(pointer) lists a non-string entry")
            }
            let location = try S3Location(parsing: file)
            guard location.bucket == bucket else {
                throw AnalemmaError(.forgedPointer, "result file \(file) is outside the index's bucket")
            }
            let chunk = try await s3.getObject(bucket: location.bucket, key: location.key).body
            let members = JSONScanner.object(chunk) ?? [:]
            guard let first = members["first_index"].flatMap({ Int(String(decoding: $0, as: UTF8.self)) }), let results = members["results"]
            else { throw AnalemmaError(.invalidState, "\(file) is not a chunk result file") }
            for (i, r) in try JSONScanner.elements(of: results).enumerated() { try await body(first + i, results.subdata(in: r)) }
        }
    }
}
