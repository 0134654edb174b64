#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// An `llm` node's config as the model layer reads it: routing hints and the `generationConfig` they become
/// (snake_case in workflows, camelCase on the wire, schema types as Google's SDK sends them).
/// https://ai.google.dev/api/generate-content#generationconfig
package struct ModelHints: Sendable {
    package let values: [String: JSONValue]

    package init(_ values: [String: JSONValue]) { self.values = values }

    /// `ThinkingConfig.thinkingLevel` values (`google-genai`'s `ThinkingLevel`).
    package static let thinkingLevels: Set<String> = ["MINIMAL", "LOW", "MEDIUM", "HIGH", "XHIGH"]

    /// A whole number hint that fits a 32-bit count.
    package func int(_ key: String) -> Int? {
        if case .number(let n)? = values[key] { return Bounded.integer(n, in: 0...Int(Int32.max)) } else { return nil }
    }

    package func string(_ key: String) -> String? { if case .string(let s)? = values[key] { return s } else { return nil } }

    package var system: String? { string("system") }

    /// `complexity` (default medium).
    package func tier(node: String) throws -> ModelCatalog.Tier {
        guard let c = string("complexity") else { return .medium }
        guard let t = ModelCatalog.Tier(rawValue: c) else {
            throw AnalemmaError(.invalidWorkflow, "node \(node.debugDescription): complexity must be low, medium or high")
        }
        return t
    }

    /// `generationConfig`.
    package var generationConfig: [String: JSONValue] {
        var config: [String: JSONValue] = [:]
        let names = [
            ("temperature", "temperature"), ("top_p", "topP"), ("max_output_tokens", "maxOutputTokens"),
            ("response_mime_type", "responseMimeType"), ("stop_sequences", "stopSequences"),
        ]
        for (hint, wire) in names { if let v = values[hint] { config[wire] = v } }
        if let schema = values["response_schema"] {
            config["responseSchema"] = ResponseSchema.wire(schema)
            if config["responseMimeType"] == nil { config["responseMimeType"] = .string("application/json") }  // a schema needs JSON
        }
        var thinking: [String: JSONValue] = [:]
        if let level = values["thinking_level"] {  // an enum: its upper-case name, as the SDK sends it
            if case .string(let name) = level {
                thinking["thinkingLevel"] = .string(name.uppercased())
            } else {
                thinking["thinkingLevel"] = level
            }
        }
        if let budget = values["thinking_budget"] { thinking["thinkingBudget"] = budget }
        if !thinking.isEmpty { config["thinkingConfig"] = .object(thinking) }
        return config
    }
}
