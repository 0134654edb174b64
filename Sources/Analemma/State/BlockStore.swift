#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// Content-addressed block storage, scoped per owner (no cross-tenant deduplication).
package protocol BlockStore: Sendable {
    /// Stores a block create-only; storing a block that already exists succeeds (same name, same bytes).
    func put(owner: String, hash: String, bytes: Data) async throws
    /// Reads a block, or a byte range of it.
    func get(owner: String, hash: String, range: Range<Int>?) async throws -> Data
}

/// Blocks in S3 under `owners/<owner>/blocks/<hash>`, written with `If-None-Match: *`.
package struct S3BlockStore: BlockStore {
    package let s3: S3
    package let bucket: String

    package init(s3: S3, bucket: String) {
        self.s3 = s3
        self.bucket = bucket
    }

    func key(_ owner: String, _ hash: String) throws -> String {
        try StatePointer(bucket: bucket, ownerID: owner, path: "blocks/\(hash)").key
    }

    package func put(owner: String, hash: String, bytes: Data) async throws {
        do {
            try await s3.putObject(bucket: bucket, key: try key(owner, hash), body: bytes, precondition: .createOnly)
        } catch let e as AWSError where e.status == 412 {
            return  // the block exists: content addressing makes it the same bytes
        }
    }

    package func get(owner: String, hash: String, range: Range<Int>?) async throws -> Data {
        try await s3.getObject(bucket: bucket, key: try key(owner, hash), range: range.map { $0.lowerBound...($0.upperBound - 1) }).body
    }
}

/// Blocks in memory, counting what a real store would be asked for (unit tests, benchmarks).
package actor InMemoryBlockStore: BlockStore {
    package private(set) var blocks: [String: Data] = [:]
    package private(set) var puts = 0
    package private(set) var bytesWritten = 0
    package private(set) var gets = 0
    package private(set) var bytesRead = 0

    package init() {}

    package func put(owner: String, hash: String, bytes: Data) async throws {
        puts += 1
        let key = "owners/\(owner)/blocks/\(hash)"
        guard blocks[key] == nil else { return }
        bytesWritten += bytes.count
        blocks[key] = bytes
    }

    package func get(owner: String, hash: String, range: Range<Int>?) async throws -> Data {
        guard let block = blocks["owners/\(owner)/blocks/\(hash)"] else {
            throw AWSError(
                service: "s3", code: "NoSuchKey", message: "no block \(hash)", status: 404, requestID: nil, rawBody: nil,
                cancellationReasons: [])
        }
        let slice = range.map { block.subdata(in: $0) } ?? block
        gets += 1
        bytesRead += slice.count
        return slice
    }

    /// Overwrites a stored block with other bytes (what an attacker with write access to the bucket could do).
    package func replace(owner: String, hash: String, bytes: Data) {
        blocks["owners/\(owner)/blocks/\(hash)"] = bytes
    }

    /// Resets the counters (between measured phases).
    package func resetCounters() {
        (puts, bytesWritten, gets, bytesRead) = (0, 0, 0, 0)
    }
}
