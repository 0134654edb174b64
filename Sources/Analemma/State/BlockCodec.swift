#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// How one field's bytes are stored: gzip with a level chosen by size, or raw when gzip would not shrink them.
///
/// Levels (measured here on 2 MB of JSON): 1 → 97 MB/s, ratio 2.83; 6 → 45 MB/s, 3.25; 9 → 19 MB/s, 3.32.
/// Small values are cheap at any level, so they get 9; up to 8 MB level 6 (a 1.5 MB field: ~33 ms, read back on
/// every hydration, where level 1 would store 38 % more bytes, measured on the state benchmark); beyond, level 1.
package enum BlockCodec {
    package static func level(forSize size: Int) -> Int32 {
        size < 64 * 1024 ? 9 : (size < 8 * 1024 * 1024 ? 6 : 1)
    }

    /// The stored form of `raw` and its encoding name.
    package static func encode(_ raw: Data) throws -> (bytes: Data, encoding: String) {
        let packed = try Gzip.compress(Array(raw), level: level(forSize: raw.count))
        return packed.count < raw.count ? (Data(packed), "gzip") : (raw, "identity")
    }

    /// The raw bytes of a stored field, checked against its SHA-256.
    package static func decode(_ stored: Data, ref: FieldRef, field: String) throws -> Data {
        let raw: Data
        switch ref.encoding {
        case "gzip":
            do { raw = Data(try Gzip.decompress(Array(stored), limit: ref.size)) } catch {
                throw AnalemmaError(.invalidState, "field \(field.debugDescription) in block \(ref.block.prefix(12)): \(error)")
            }
        case "identity": raw = stored
        default: throw AnalemmaError(.invalidState, "field \(field.debugDescription) has unknown encoding \(ref.encoding.debugDescription)")
        }
        guard raw.count == ref.size, Digest.hex(Digest.sha256(raw)) == ref.sha256 else {
            throw AnalemmaError(
                .invalidState,
                "field \(field.debugDescription) in block \(ref.block.prefix(12)) does not match its hash (corrupt or tampered)")
        }
        return raw
    }
}
