/// Just enough XML for S3's responses: element text by name, in document order, entities decoded.
///
/// S3 answers are flat, namespace-default documents; this scans text, it does not validate.
package enum XMLScanner {
    /// Text content of every `<name>…</name>` (leaf elements), in order.
    package static func texts(of name: String, in xml: String) -> [String] {
        elements(named: name, in: xml).map(decodeEntities)
    }

    package static func firstText(of name: String, in xml: String) -> String? { texts(of: name, in: xml).first }

    /// Raw inner XML of every `<name>…</name>` (for nested records such as `<Contents>`).
    package static func elements(named name: String, in xml: String) -> [String] {
        var out: [String] = []
        let open = "<\(name)>"
        let openWithAttributes = "<\(name) "
        let close = "</\(name)>"
        var rest = Substring(xml)
        while let start = rest.firstRange(of: open) ?? rest.firstRange(of: openWithAttributes) {
            var contentStart = start.upperBound
            if rest[start].hasSuffix(" ") {
                guard let gt = rest[start.upperBound...].firstIndex(of: ">") else { break }
                if rest[rest.index(before: gt)] == "/" {  // <name .../>
                    out.append("")
                    rest = rest[rest.index(after: gt)...]
                    continue
                }
                contentStart = rest.index(after: gt)
            }
            guard let end = rest[contentStart...].firstRange(of: close) else { break }
            out.append(String(rest[contentStart..<end.lowerBound]))
            rest = rest[end.upperBound...]
        }
        return out
    }

    package static func decodeEntities(_ s: String) -> String {
        guard s.contains("&") else { return s }
        var out = ""
        var i = s.startIndex
        while i < s.endIndex {
            if s[i] == "&", let semi = s[i...].firstIndex(of: ";") {
                let entity = s[s.index(after: i)..<semi]
                var replacement: String?
                switch entity {
                case "amp": replacement = "&"
                case "lt": replacement = "<"
                case "gt": replacement = ">"
                case "quot": replacement = "\""
                case "apos": replacement = "'"
                default:
                    if entity.hasPrefix("#x"), let v = UInt32(entity.dropFirst(2), radix: 16), let u = Unicode.Scalar(v) {
                        replacement = String(u)
                    } else if entity.hasPrefix("#"), let v = UInt32(entity.dropFirst()), let u = Unicode.Scalar(v) {
                        replacement = String(u)
                    }
                }
                if let replacement {
                    out += replacement
                    i = s.index(after: semi)
                    continue
                }
            }
            out.append(s[i])
            i = s.index(after: i)
        }
        return out
    }

    /// Escapes text for an XML element body.
    package static func escape(_ s: String) -> String {
        var out = ""
        for c in s {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            default: out.append(c)
            }
        }
        return out
    }
}
