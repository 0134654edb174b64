import CZlib

/// Raw deflate (RFC 1951, no wrapper) with an optional preset dictionary, through system zlib: how an append-only
/// list's chunks are stored (each chunk compressed against the list's first bytes, see ``ListChunk``).
///
/// zlib manual, `deflateSetDictionary` / `inflateSetDictionary`: https://www.zlib.net/manual.html
package enum Deflate {
    /// The longest dictionary deflate can use (its window).
    package static let maxDictionary = 32 * 1024

    /// Compresses `input` at level 9 against the last ``maxDictionary`` bytes of `dictionary`.
    package static func compress(_ input: [UInt8], dictionary: ArraySlice<UInt8> = []) throws -> [UInt8] {
        var stream = z_stream()
        var rc = deflateInit2_(&stream, 9, Z_DEFLATED, -15, 9, Z_DEFAULT_STRATEGY, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
        guard rc == Z_OK else { throw Gzip.Failure(message: "deflateInit2 returned \(rc)") }
        defer { deflateEnd(&stream) }
        if !dictionary.isEmpty {
            let window = Array(dictionary.suffix(maxDictionary))
            rc = window.withUnsafeBufferPointer { deflateSetDictionary(&stream, $0.baseAddress, UInt32($0.count)) }
            guard rc == Z_OK else { throw Gzip.Failure(message: "deflateSetDictionary returned \(rc)") }
        }
        return try Gzip.deflateAll(&stream, input)
    }

    /// Decompresses `input` (compressed against `dictionary`); it must produce exactly `count` bytes and end there
    /// (a longer or shorter stream, or trailing bytes, is corrupt).
    package static func decompress(_ input: [UInt8], dictionary: ArraySlice<UInt8> = [], count: Int) throws -> [UInt8] {
        var stream = z_stream()
        var rc = inflateInit2_(&stream, -15, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
        guard rc == Z_OK else { throw Gzip.Failure(message: "inflateInit2 returned \(rc)") }
        defer { inflateEnd(&stream) }
        if !dictionary.isEmpty {
            let window = Array(dictionary.suffix(maxDictionary))
            rc = window.withUnsafeBufferPointer { inflateSetDictionary(&stream, $0.baseAddress, UInt32($0.count)) }
            guard rc == Z_OK else { throw Gzip.Failure(message: "inflateSetDictionary returned \(rc)") }
        }
        // One byte more than expected: a stream that would produce more is caught instead of cut.
        var output = [UInt8](repeating: 0, count: count + 1)
        rc = Gzip.finish(&stream, input, into: &output) { inflate($0, Z_FINISH) }
        guard rc == Z_STREAM_END else {
            throw Gzip.Failure(
                message: rc == Z_BUF_ERROR ? "stream is truncated or longer than \(count) bytes" : "inflate returned \(rc) (corrupt data)")
        }
        guard Int(stream.total_out) == count, stream.avail_in == 0 else {
            throw Gzip.Failure(message: "stream gives \(stream.total_out) bytes (expected \(count)) or has trailing bytes")
        }
        output.removeLast()
        return output
    }
}
