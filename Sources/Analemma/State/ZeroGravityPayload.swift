#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// The Step Functions payload: metadata and pointers only, never over 30 KB ("zero gravity").
///
/// Encoding offloads the largest values to S3 (`owners/<owner>/executions/<execution key>/payloads/<sha256>`: the
/// execution's own, expired with it) and leaves
/// `{"$pointer":"s3://…"}` in their place until the document fits; kernel fields always stay inline.
/// Hydration fetches pointed-to values only after checking each pointer belongs to the owner and bucket.
package struct ZeroGravityPayload: Sendable {
    /// The seed's "golden ratio": 30 KB, well under Step Functions' 256 KB and API Gateway's 128 KB frames.
    package static let limit = 30 * 1024

    package let s3: S3
    package let bucket: String

    package init(s3: S3, bucket: String) {
        self.s3 = s3
        self.bucket = bucket
    }

    /// Encodes `fields` (raw JSON values) as a JSON object of at most `limit` bytes (default ``limit``) for `ownerID`.
    package func encode(_ fields: [String: Data], ownerID: String, executionID: String, limit: Int = Self.limit) async throws -> Data {
        var fields = fields
        var size = Self.encodedSize(fields)
        // Only values bigger than the pointer that would replace them are worth a PUT.
        let candidates = fields.filter { !StateBag.protectedFields.contains($0.key) && $0.value.count > 512 }
            .sorted { $0.value.count > $1.value.count }
        for (name, value) in candidates where size > limit {
            let hash = Digest.hex(Digest.sha256(value))
            let pointer = try StatePointer(
                bucket: bucket, ownerID: ownerID, path: "executions/\(StatePointer.executionKey(executionID))/payloads/\(hash)")
            do {
                try await s3.putObject(
                    bucket: bucket, key: pointer.key, body: value, precondition: .createOnly, contentType: "application/json")
            } catch let e as AWSError where e.status == 412 {}  // same content already there
            let replacement = Data(#"{"$pointer":\#(JSONText.quoted(pointer.description))}"#.utf8)
            size += replacement.count - value.count
            fields[name] = replacement
        }
        guard size <= limit else {
            throw AnalemmaError(
                .invalidState, "payload is \(size) bytes after offloading every value; the limit is \(limit) (too many fields?)")
        }
        var bag = StateBag()
        try bag.merge(fields, from: .kernel)
        return bag.jsonObject()
    }

    /// The payload with every `{"$pointer": …}` value replaced by what it points to (pointers checked first).
    package func hydrate(_ payload: Data, ownerID: String) async throws -> [String: Data] {
        var fields = try JSONScanner.fields(of: payload)
        for (name, value) in fields {
            guard value.first == UInt8(ascii: "{"), let inner = try? JSONScanner.members(of: value), inner.count == 1,
                inner[0].key == "$pointer",
                let text = try? JSONDecoder().decode(String.self, from: value.subdata(in: inner[0].range))
            else { continue }
            let pointer = try StatePointer(parsing: text, stateBucket: bucket, ownerID: ownerID)
            fields[name] = try await s3.getObject(bucket: bucket, key: pointer.key).body
        }
        return fields
    }

    static func encodedSize(_ fields: [String: Data]) -> Int {
        2 + fields.reduce(0) { $0 + JSONText.quoted($1.key).utf8.count + 1 + $1.value.count } + max(0, fields.count - 1)
    }
}
