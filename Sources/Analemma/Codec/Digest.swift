import CCrypto

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// SHA-256 and HMAC-SHA256 from OpenSSL libcrypto (never hand-rolled).
package enum Digest {
    /// SHA-256 of `bytes` (32 bytes).
    package static func sha256<Bytes: RawBytes>(_ bytes: Bytes) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 32)
        bytes.withUnsafeBytes { p in
            out.withUnsafeMutableBufferPointer { o in _ = SHA256(p.baseAddress?.assumingMemoryBound(to: UInt8.self), p.count, o.baseAddress)
            }
        }
        return out
    }

    /// HMAC-SHA256 of `message` under `key` (32 bytes).
    package static func hmacSHA256<K: RawBytes, M: RawBytes>(key: K, _ message: M) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 32)
        var length: UInt32 = 32
        key.withUnsafeBytes { k in
            message.withUnsafeBytes { m in
                out.withUnsafeMutableBufferPointer { o in
                    _ = HMAC(
                        EVP_sha256(), k.baseAddress, Int32(k.count), m.baseAddress?.assumingMemoryBound(to: UInt8.self), m.count,
                        o.baseAddress, &length)
                }
            }
        }
        return out
    }

    /// Lower-case hexadecimal of `bytes`.
    package static func hex<S: Sequence>(_ bytes: S) -> String where S.Element == UInt8 {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(64)
        for b in bytes {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 0xF)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}

/// `[UInt8]`, `Data` and slices: anything whose bytes are contiguous in memory.
package protocol RawBytes {
    func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R
}
extension Array: RawBytes where Element == UInt8 {}
extension ArraySlice: RawBytes where Element == UInt8 {}
extension Data: RawBytes {}
