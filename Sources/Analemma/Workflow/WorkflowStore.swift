#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// Workflow definitions in the state bucket, content-addressed per owner: `owners/<owner>/workflows/<sha256>.json`.
/// Loading checks the pointer (owner, bucket) and that the bytes still hash to their name.
package struct WorkflowStore: Sendable {
    package let s3: S3
    package let bucket: String
    /// Verified definitions by pointer (content-addressed: a pointer always names the same bytes).
    let cache = ImmutableCache<WorkflowDefinition>(capacity: 32)

    package init(s3: S3, bucket: String) {
        self.s3 = s3
        self.bucket = bucket
    }

    /// Stores a definition's bytes (create-only; the same definition is stored once) and returns its pointer.
    package func put(_ definition: Data, ownerID: String) async throws -> String {
        let pointer = try self.pointer(definition, ownerID: ownerID)
        do {
            try await s3.putObject(
                bucket: bucket, key: pointer.key, body: definition, precondition: .createOnly, contentType: "application/json")
        } catch let e as AWSError where e.status == 412 {}  // already stored
        return pointer.description
    }

    /// Where `put` stores a definition (content-addressed: the same bytes, the same pointer).
    package func pointer(_ definition: Data, ownerID: String) throws -> StatePointer {
        try StatePointer(bucket: bucket, ownerID: ownerID, path: "workflows/\(Digest.hex(Digest.sha256(definition))).json")
    }

    /// The definition a pointer names, after checking it belongs to `ownerID` and is intact.
    package func get(_ pointer: String, ownerID: String) async throws -> WorkflowDefinition {
        let parsed = try StatePointer(parsing: pointer, stateBucket: bucket, ownerID: ownerID)
        return try await cache.value(parsed.description) { try await load(parsed, pointer: pointer) }
    }

    func load(_ parsed: StatePointer, pointer: String) async throws -> WorkflowDefinition {
        let ownerID = parsed.ownerID
        let name = parsed.key.split(separator: "/").last.map(String.init) ?? ""
        guard parsed.key.hasPrefix("owners/\(ownerID)/workflows/"), name.hasSuffix(".json") else {
            throw AnalemmaError(.forgedPointer, "refusing workflow pointer \(pointer.debugDescription): not a stored workflow")
        }
        let bytes = try await s3.getObject(bucket: bucket, key: parsed.key).body
        guard Digest.hex(Digest.sha256(bytes)) + ".json" == name else {
            throw AnalemmaError(.invalidState, "workflow \(pointer.debugDescription) does not match its content hash")
        }
        return try WorkflowDefinition.decode(bytes)
    }
}
