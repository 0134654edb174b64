/// A pointer to state in S3: `s3://<STATE_BUCKET>/owners/<owner_id>/<path>`.
///
/// Parsing is the security boundary of hydration: a pointer into another bucket or another owner's prefix,
/// or one that tries to climb out (`..`, `%2e%2e`, `//`), is refused and never read.
package struct StatePointer: Sendable, Equatable, CustomStringConvertible {
    package let bucket: String
    package let ownerID: String
    /// The key inside the bucket (starts with `owners/<owner_id>/`).
    package let key: String

    package var description: String { location.description }

    /// The plain S3 address.
    package var location: S3Location { S3Location(bucket: bucket, key: key) }

    /// The short, key-safe name of an execution in paths (its ARN holds characters S3 keys should not): SHA-256, 24 hex
    /// digits. Everything one execution alone owns lives under `owners/<owner>/executions/<key>/`.
    package static func executionKey(_ executionID: String) -> String {
        String(Digest.hex(Digest.sha256(Array(executionID.utf8))).prefix(24))
    }

    /// A pointer the kernel builds itself (owner ids are validated the same way).
    package init(bucket: String, ownerID: String, path: String) throws {
        try Self.checkOwner(ownerID)
        try Self.checkPath(path, pointer: path)
        self.bucket = bucket
        self.ownerID = ownerID
        self.key = "owners/\(ownerID)/\(path)"
    }

    /// Parses an untrusted pointer and checks it belongs to `ownerID` in `stateBucket`.
    package init(parsing text: String, stateBucket: String, ownerID: String) throws {
        func refuse(_ why: String) -> AnalemmaError {
            AnalemmaError(.forgedPointer, "refusing pointer \(String(text.prefix(300)).debugDescription): \(why)")
        }
        try self.init(text, stateBucket: stateBucket, ownerID: ownerID, refuse: refuse)
    }

    /// Checks a plain S3 address the kernel read back (a list result, a stored key) as a pointer of `ownerID`.
    package init(_ location: S3Location, ownerID: String) throws {
        try self.init(parsing: location.description, stateBucket: location.bucket, ownerID: ownerID)
    }

    private init(_ text: String, stateBucket: String, ownerID: String, refuse: (String) -> AnalemmaError) throws {
        guard text.hasPrefix("s3://") else { throw refuse("not an s3:// URI") }
        let rest = text.dropFirst(5)
        guard let slash = rest.firstIndex(of: "/") else { throw refuse("no key") }
        let bucket = String(rest[..<slash])
        guard bucket == stateBucket else { throw refuse("bucket \(bucket.debugDescription) is not the state bucket") }
        let key = String(rest[rest.index(after: slash)...])
        let prefix = "owners/\(ownerID)/"
        guard key.hasPrefix(prefix) else { throw refuse("outside the owner's prefix \(prefix.debugDescription)") }
        do { try Self.checkPath(String(key.dropFirst(prefix.count)), pointer: text) } catch let e as AnalemmaError {
            throw refuse(e.message)
        }
        self.bucket = bucket
        self.ownerID = ownerID
        self.key = key
    }

    static func checkOwner(_ ownerID: String) throws {
        let allowed = ownerID.utf8.allSatisfy { b in
            (48...57).contains(b) || (65...90).contains(b) || (97...122).contains(b) || b == UInt8(ascii: "-") || b == UInt8(ascii: "_")
                || b == UInt8(ascii: ".")
        }
        guard !ownerID.isEmpty, ownerID.utf8.count <= 128, allowed, ownerID != ".", ownerID != ".." else {
            throw AnalemmaError(.forgedPointer, "owner id \(ownerID.debugDescription) is not 1–128 of [A-Za-z0-9._-]")
        }
    }

    static func checkPath(_ path: String, pointer: String) throws {
        guard !path.isEmpty else { throw AnalemmaError(.forgedPointer, "empty path") }
        guard !path.contains("%"), !path.contains("\\"), !path.hasPrefix("/") else {
            throw AnalemmaError(.forgedPointer, "encoded or absolute path segments are not allowed")
        }
        for segment in path.split(separator: "/", omittingEmptySubsequences: false) {
            if segment.isEmpty || segment == "." || segment == ".." {
                throw AnalemmaError(.forgedPointer, "path segment \(String(segment).debugDescription) is not allowed")
            }
        }
        guard path.utf8.allSatisfy({ $0 >= 0x20 && $0 != 0x7F }) else { throw AnalemmaError(.forgedPointer, "control characters in path") }
    }
}
