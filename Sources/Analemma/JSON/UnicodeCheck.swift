/// JSON text from outside must be valid Unicode: no invalid UTF-8 and no lone UTF-16 surrogate escape (`\ud800`),
/// which JSON's grammar allows but no string can hold. Checked where outside input enters (the execution input).
package enum UnicodeCheck {
    /// Where `json` is not valid Unicode: a description naming the escape and its byte offset; nil when it is.
    package static func problem(in json: [UInt8]) -> String? {
        if String(validating: json, as: UTF8.self) == nil { return "invalid UTF-8" }
        var i = 0
        var inString = false
        var pendingHigh: (Int, String)?  // a high surrogate waiting for its low half
        func hex(at p: Int) -> (UInt16, String)? {
            guard p + 4 <= json.count, let text = String(validating: json[p..<p + 4], as: UTF8.self), let v = UInt16(text, radix: 16)
            else { return nil }
            return (v, text)
        }
        while i < json.count {
            let c = json[i]
            if !inString {
                if c == UInt8(ascii: "\"") { inString = true }
                i += 1
                continue
            }
            if c == UInt8(ascii: "\"") {
                if let (at, text) = pendingHigh { return "a lone UTF-16 surrogate \\u\(text) at byte \(at)" }
                inString = false
                i += 1
                continue
            }
            guard c == UInt8(ascii: "\\"), i + 1 < json.count else {
                if let (at, text) = pendingHigh { return "a lone UTF-16 surrogate \\u\(text) at byte \(at)" }
                i += 1
                continue
            }
            guard json[i + 1] == UInt8(ascii: "u"), let (unit, text) = hex(at: i + 2) else {
                if let (at, text) = pendingHigh { return "a lone UTF-16 surrogate \\u\(text) at byte \(at)" }
                i += 2
                continue
            }
            switch unit {
            case 0xD800...0xDBFF:
                if let (at, high) = pendingHigh { return "a lone UTF-16 surrogate \\u\(high) at byte \(at)" }
                pendingHigh = (i, text)
            case 0xDC00...0xDFFF:
                guard pendingHigh != nil else { return "a lone UTF-16 surrogate \\u\(text) at byte \(i)" }
                pendingHigh = nil
            default:
                if let (at, high) = pendingHigh { return "a lone UTF-16 surrogate \\u\(high) at byte \(at)" }
            }
            i += 6
        }
        return nil
    }
}
