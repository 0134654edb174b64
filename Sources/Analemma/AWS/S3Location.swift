/// An S3 object by bucket and key, written `s3://<bucket>/<key>` wherever a pointer is stored, logged or shown.
/// A pointer into an owner's state is a ``StatePointer`` (which checks the owner); this is the plain address.
package struct S3Location: Sendable, Equatable, Hashable, CustomStringConvertible {
    package var bucket: String
    package var key: String

    package init(bucket: String, key: String) {
        self.bucket = bucket
        self.key = key
    }

    /// Parses `s3://<bucket>/<key>`; anything else is `Analemma.ForgedPointer`.
    package init(parsing text: String) throws {
        guard text.hasPrefix("s3://"), let slash = text.dropFirst(5).firstIndex(of: "/") else {
            throw AnalemmaError(.forgedPointer, "not an s3:// pointer: \(String(text.prefix(300)).debugDescription)")
        }
        bucket = String(text.dropFirst(5)[..<slash])
        key = String(text[text.index(after: slash)...])
    }

    package var description: String { "s3://\(bucket)/\(key)" }

    /// The object `path` below this one's key (`key/path`).
    package func appending(_ path: String) -> S3Location { S3Location(bucket: bucket, key: key + "/" + path) }
}
