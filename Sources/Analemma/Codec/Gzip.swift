import CZlib

/// gzip (RFC 1952) compression through system zlib.
package enum Gzip {
    /// A zlib failure, with zlib's return code.
    package struct Failure: Error, Equatable, CustomStringConvertible {
        package let message: String
        package var description: String { "gzip: \(message)" }
    }

    /// Compresses `input` at `level` (1 fastest … 9 smallest).
    package static func compress(_ input: [UInt8], level: Int32 = 6) throws -> [UInt8] {
        var stream = z_stream()
        // deflateInit2 is a C macro; call the function it expands to. windowBits 15 + 16 = gzip wrapper.
        let rc = deflateInit2_(&stream, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
        guard rc == Z_OK else { throw Failure(message: "deflateInit2 returned \(rc)") }
        defer { deflateEnd(&stream) }
        return try deflateAll(&stream, input)
    }

    /// Decompresses one gzip member; refuses output larger than `limit` bytes (decompression bombs).
    package static func decompress(_ input: [UInt8], limit: Int = 1 << 30) throws -> [UInt8] {
        var stream = z_stream()
        var rc = inflateInit2_(&stream, 15 + 16, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
        guard rc == Z_OK else { throw Failure(message: "inflateInit2 returned \(rc)") }
        defer { inflateEnd(&stream) }
        var output: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: max(64 * 1024, min(input.count * 4, 16 << 20)))
        try input.withUnsafeBufferPointer { inp in
            stream.next_in = UnsafeMutablePointer(mutating: inp.baseAddress)
            stream.avail_in = UInt32(inp.count)
            repeat {
                let produced: Int = chunk.withUnsafeMutableBufferPointer { out in
                    stream.next_out = out.baseAddress
                    stream.avail_out = UInt32(out.count)
                    rc = inflate(&stream, Z_NO_FLUSH)
                    return out.count - Int(stream.avail_out)
                }
                guard rc == Z_OK || rc == Z_STREAM_END else {
                    throw Failure(message: rc == Z_BUF_ERROR ? "truncated input" : "inflate returned \(rc) (corrupt data)")
                }
                output.append(contentsOf: chunk[0..<produced])
                guard output.count <= limit else { throw Failure(message: "output exceeds \(limit) bytes") }
            } while rc != Z_STREAM_END
        }
        return output
    }

    /// Runs `step` (a deflate or inflate with `Z_FINISH`) once over all of `input` into `output`; zlib's return code.
    static func finish(
        _ stream: inout z_stream, _ input: [UInt8], into output: inout [UInt8], _ step: (UnsafeMutablePointer<z_stream>) -> Int32
    ) -> Int32 {
        input.withUnsafeBufferPointer { inp in
            output.withUnsafeMutableBufferPointer { out in
                stream.next_in = UnsafeMutablePointer(mutating: inp.baseAddress)
                stream.avail_in = UInt32(inp.count)
                stream.next_out = out.baseAddress
                stream.avail_out = UInt32(out.count)
                return step(&stream)
            }
        }
    }

    /// Deflates all of `input` through an initialised `stream`: the output trimmed to what deflate wrote.
    static func deflateAll(_ stream: inout z_stream, _ input: [UInt8]) throws -> [UInt8] {
        var output = [UInt8](repeating: 0, count: Int(deflateBound(&stream, UInt(input.count))) + 32)
        let rc = finish(&stream, input, into: &output) { deflate($0, Z_FINISH) }
        guard rc == Z_STREAM_END else { throw Failure(message: "deflate returned \(rc)") }
        output.removeSubrange(Int(stream.total_out)...)
        return output
    }
}
