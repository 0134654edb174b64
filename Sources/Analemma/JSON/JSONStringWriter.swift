/// Writes a JSON string as `JSONEncoder` does with `.withoutEscapingSlashes`: `"` and `\` escaped, control
/// characters as `\b \f \n \r \t` or `\u00XX`, everything else (UTF-8 beyond ASCII too) as it is.
///
/// Runs of bytes that need no escape are found eight at a time (SWAR: a word has a byte below 0x20, or equal to
/// `"` or `\`) and copied whole. RFC 8259 §7: https://www.rfc-editor.org/rfc/rfc8259#section-7
enum JSONStringWriter {
    static func write(_ string: String, to out: inout [UInt8]) {
        var string = string
        out.append(UInt8(ascii: "\""))
        string.withUTF8 { bytes in
            guard let base = bytes.baseAddress else { return }
            var start = 0
            var i = 0
            let n = bytes.count
            while i < n {
                if i + 8 <= n, !needsEscape(UnsafeRawPointer(base + i).loadUnaligned(as: UInt64.self)) {
                    i += 8
                    continue
                }
                let b = base[i]
                guard b < 0x20 || b == 0x22 || b == 0x5C else {
                    i += 1
                    continue
                }
                out.append(contentsOf: UnsafeBufferPointer(start: base + start, count: i - start))
                escape(b, to: &out)
                i += 1
                start = i
            }
            out.append(contentsOf: UnsafeBufferPointer(start: base + start, count: n - start))
        }
        out.append(UInt8(ascii: "\""))
    }

    /// Whether any byte of `word` is below 0x20, `"` (0x22) or `\` (0x5C).
    @inline(__always)
    static func needsEscape(_ word: UInt64) -> Bool {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        func zeroByte(_ x: UInt64) -> UInt64 { (x &- ones) & ~x & highs }
        let below = (word &- ones &* 0x20) & ~word & highs
        return (below | zeroByte(word ^ (ones &* 0x22)) | zeroByte(word ^ (ones &* 0x5C))) != 0
    }

    static func escape(_ byte: UInt8, to out: inout [UInt8]) {
        let hex = Array("0123456789abcdef".utf8)
        switch byte {
        case 0x22: out += [0x5C, 0x22]
        case 0x5C: out += [0x5C, 0x5C]
        case 0x08: out += [0x5C, UInt8(ascii: "b")]
        case 0x0C: out += [0x5C, UInt8(ascii: "f")]
        case 0x0A: out += [0x5C, UInt8(ascii: "n")]
        case 0x0D: out += [0x5C, UInt8(ascii: "r")]
        case 0x09: out += [0x5C, UInt8(ascii: "t")]
        default: out += [0x5C, UInt8(ascii: "u"), 0x30, 0x30, hex[Int(byte >> 4)], hex[Int(byte & 0xF)]]
        }
    }

    /// The order `.sortedKeys` writes an object's keys in.
    static func precedes(_ a: String, _ b: String) -> Bool { a.utf8.lexicographicallyPrecedes(b.utf8) }
}
