#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// A node's `response_schema`: Gemini's `Schema` object (an OpenAPI 3.0 subset). Checked when the workflow is
/// validated, sent as Google's SDK sends it, and every answer validated against it before it is written to state.
/// https://ai.google.dev/api/caching#Schema · https://ai.google.dev/gemini-api/docs/structured-output
package enum ResponseSchema {
    /// The `Schema` fields Gemini accepts (`google-genai`'s `types.Schema`, JSON names).
    static let keywords: Set<String> = [
        "type", "format", "title", "description", "nullable", "enum", "maxItems", "minItems", "properties", "required",
        "minProperties", "maxProperties", "minLength", "maxLength", "pattern", "example", "anyOf", "propertyOrdering", "default",
        "items", "minimum", "maximum", "additionalProperties", "prefixItems",
    ]
    /// The `responseMimeType` values a schema may go with.
    package static let mimeTypes: [JSONValue] = [.string("application/json"), .string("text/x.enum")]
    /// `Schema.type` values (any case in a workflow; upper case on the wire).
    static let types: Set<String> = ["STRING", "NUMBER", "INTEGER", "BOOLEAN", "ARRAY", "OBJECT", "NULL"]

    /// The schema as it goes on the wire: every `type` in upper case, as the SDK sends it.
    package static func wire(_ schema: JSONValue) -> JSONValue {
        guard case .object(var o) = schema else { return schema }
        if case .string(let t)? = o["type"] { o["type"] = .string(t.uppercased()) }
        for key in ["items", "additionalProperties"] { if let sub = o[key] { o[key] = wire(sub) } }
        for key in ["anyOf", "prefixItems"] { if case .array(let list)? = o[key] { o[key] = .array(list.map(wire)) } }
        if case .object(let props)? = o["properties"] { o["properties"] = .object(props.mapValues(wire)) }
        return .object(o)
    }

    /// Refuses a schema Gemini would not take (an unknown keyword, a bad type, a malformed member), naming its path.
    package static func check(_ schema: JSONValue, at path: String = "response_schema") throws {
        func bad(_ why: String) -> AnalemmaError { AnalemmaError(.invalidWorkflow, "\(path): \(why)") }
        guard case .object(let o) = schema else { throw bad("must be a Schema object") }
        if let unknown = o.keys.sorted().first(where: { !keywords.contains($0) }) {
            throw bad("\(unknown.debugDescription) is not a field of Gemini's Schema (\(keywords.sorted().joined(separator: ", ")))")
        }
        if let t = o["type"] {
            guard case .string(let name) = t, types.contains(name.uppercased()) else {
                throw bad("type must be one of \(types.sorted().joined(separator: ", ")) (one type; use anyOf or nullable for more)")
            }
        }
        if let sub = o["items"] { try check(sub, at: "\(path).items") }
        if let sub = o["additionalProperties"], sub != .bool(true), sub != .bool(false) {
            try check(sub, at: "\(path).additionalProperties")
        }
        for key in ["anyOf", "prefixItems"] {
            guard let v = o[key] else { continue }
            guard case .array(let list) = v else { throw bad("\(key) must be a list of schemas") }
            for (i, sub) in list.enumerated() { try check(sub, at: "\(path).\(key)[\(i)]") }
        }
        if let v = o["properties"] {
            guard case .object(let props) = v else { throw bad("properties must map names to schemas") }
            for (name, sub) in props.sorted(by: { $0.key < $1.key }) { try check(sub, at: "\(path).properties.\(name)") }
        }
        for key in ["required", "propertyOrdering", "enum"] {
            guard let v = o[key] else { continue }
            guard case .array(let list) = v, list.allSatisfy({ if case .string = $0 { true } else { false } }) else {
                throw bad("\(key) must be a list of strings")
            }
        }
        for key in ["maxItems", "minItems", "minProperties", "maxProperties", "minLength", "maxLength"] {
            guard let v = o[key] else { continue }
            guard case .number(let n) = v, Bounded.integer(n, in: 0...Int(Int32.max)) != nil else {
                throw bad("\(key) must be a whole number 0–\(Int32.max)")
            }
        }
        for key in ["minimum", "maximum"] {
            guard let v = o[key] else { continue }
            guard case .number(let n) = v, n.isFinite else { throw bad("\(key) must be a finite number") }
        }
        if let v = o["pattern"] {
            guard case .string(let p) = v, (try? Regex(p)) != nil else { throw bad("pattern must be a regular expression") }
        }
    }

    /// The first way `value` breaks `schema` (a JSON path and why), or nil when it conforms.
    package static func violation(of schema: JSONValue, by value: JSONValue, at path: String = "$") -> String? {
        guard case .object(let s) = schema else { return nil }
        if value == .null, s["nullable"] == .bool(true) { return nil }
        if let anyOf = s["anyOf"], case .array(let options) = anyOf,
            !options.contains(where: { violation(of: $0, by: value, at: path) == nil })
        {
            return "\(path): matches none of anyOf"
        }
        if case .string(let t)? = s["type"], let why = typeViolation(t.uppercased(), value) { return "\(path): \(why)" }
        if case .array(let allowed)? = s["enum"], !allowed.contains(value) { return "\(path): \(shown(value)) is not in enum" }
        func count(_ key: String) -> Int? { if case .number(let n)? = s[key] { Bounded.integer(n, in: 0...Int(Int32.max)) } else { nil } }
        switch value {
        case .string(let text):
            let n = text.count
            if let min = count("minLength"), n < min { return "\(path): shorter than minLength \(min)" }
            if let max = count("maxLength"), n > max { return "\(path): longer than maxLength \(max)" }
            if case .string(let p)? = s["pattern"], let regex = try? Regex(p), text.firstMatch(of: regex) == nil {
                return "\(path): does not match pattern \(p.debugDescription)"
            }
        case .number(let n):
            if case .number(let min)? = s["minimum"], n < min { return "\(path): below minimum \(shown(.number(min)))" }
            if case .number(let max)? = s["maximum"], n > max { return "\(path): above maximum \(shown(.number(max)))" }
        case .array(let items):
            if let min = count("minItems"), items.count < min { return "\(path): fewer than minItems \(min)" }
            if let max = count("maxItems"), items.count > max { return "\(path): more than maxItems \(max)" }
            var prefix: [JSONValue] = []
            if case .array(let p)? = s["prefixItems"] { prefix = p }
            for (i, item) in items.enumerated() {
                let sub = i < prefix.count ? prefix[i] : s["items"]
                if let sub, let why = violation(of: sub, by: item, at: "\(path)[\(i)]") { return why }
            }
        case .object(let fields):
            if let min = count("minProperties"), fields.count < min { return "\(path): fewer than minProperties \(min)" }
            if let max = count("maxProperties"), fields.count > max { return "\(path): more than maxProperties \(max)" }
            if case .array(let required)? = s["required"] {
                for case .string(let name) in required where fields[name] == nil {
                    return "\(path): required \(name.debugDescription) is missing"
                }
            }
            var props: [String: JSONValue] = [:]
            if case .object(let p)? = s["properties"] { props = p }
            for (name, v) in fields.sorted(by: { $0.key < $1.key }) {
                let sub = props[name] ?? s["additionalProperties"]
                if sub == .bool(false) { return "\(path): \(name.debugDescription) is not a declared property" }
                if let sub, let why = violation(of: sub, by: v, at: "\(path).\(name)") { return why }
            }
        default:
            break
        }
        return nil
    }

    /// A value as JSON, cut to 60 bytes (messages quote the answer, never all of it).
    static func shown(_ value: JSONValue) -> String { String(decoding: value.jsonData().prefix(60), as: UTF8.self) }

    static func typeViolation(_ type: String, _ value: JSONValue) -> String? {
        let ok: Bool
        switch (type, value) {
        case ("STRING", .string), ("BOOLEAN", .bool), ("ARRAY", .array), ("OBJECT", .object), ("NULL", .null), ("NUMBER", .number):
            ok = true
        case ("INTEGER", .number(let n)): ok = n.isFinite && n == n.rounded()
        case ("TYPE_UNSPECIFIED", _): ok = true
        default: ok = !types.contains(type)
        }
        return ok ? nil : "expected \(type.lowercased()), got \(shown(value))"
    }
}
