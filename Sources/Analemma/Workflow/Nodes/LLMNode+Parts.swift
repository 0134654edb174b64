#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// `config.parts`: what an `llm` node sends beside its prompt — state fields as images, PDFs or text files
/// (`{"field": "screenshot"}`, `{"field": "styles", "mime_type": "text/css"}`) and text (`{"text": "…{{f}}…"}`),
/// in order, the prompt last (Google's advice: the question after the media).
extension LLMNode {
    /// The most parts a node may declare.
    package static let maxParts = 16

    /// Refuses a `parts` list that could not run: not a list of 1 to ``maxParts`` objects, a field the node does
    /// not read, a MIME type Gemini does not take, a template with an undeclared field, an unknown key.
    static func checkParts(_ node: WorkflowDefinition.Node) throws {
        guard let value = node.config?["parts"] else { return }
        func bad(_ why: String) -> AnalemmaError { AnalemmaError(.invalidWorkflow, "node \(node.id.debugDescription): config.parts\(why)") }
        guard case .array(let parts) = value, (1...maxParts).contains(parts.count) else {
            throw bad(" must be a list of 1 to \(maxParts) parts")
        }
        for (i, part) in parts.enumerated() {
            guard case .object(let members) = part else { throw bad("[\(i)] must be an object") }
            if let unknown = members.keys.sorted().first(where: { !["field", "mime_type", "text"].contains($0) }) {
                throw bad("[\(i)] has an unknown key \(unknown.debugDescription) (field, mime_type, text)")
            }
            switch (members["field"], members["text"]) {
            case (.string(let field)?, nil):
                guard (node.reads ?? []).contains(field) else {
                    throw bad("[\(i)] sends field \(field.debugDescription), which the node does not read")
                }
                if let mime = members["mime_type"] {
                    guard case .string(let m) = mime, MediaPart.mimeTypes.contains(m) else {
                        throw bad("[\(i)].mime_type must be one of \(MediaPart.mimeTypes.sorted().joined(separator: ", "))")
                    }
                }
            case (nil, .string(let text)?):
                guard members["mime_type"] == nil else { throw bad("[\(i)]: a text part has no mime_type") }
                try Template.check(text, key: "parts[\(i)].text", node: node)
            default:
                throw bad("[\(i)] must have either field (a string) or text (a string)")
            }
        }
    }

    /// The user turn: the parts read from the node's fields (each checked: ``MediaPart``), then the prompt.
    static func turn(_ node: WorkflowDefinition.Node, _ input: SkillInput, prompt: String) throws -> ModelTurn {
        guard case .array(let parts)? = input.config["parts"] else { return .user(prompt) }
        var out: [UserPart] = []
        for case .object(let members) in parts {
            if case .string(let text)? = members["text"] {
                out.append(.text(try Template(text).render(input.fields)))
            } else if case .string(let field)? = members["field"] {
                guard let raw = input.fields[field] else {
                    throw AnalemmaError(.invalidMedia, "node \(node.id.debugDescription): field \(field.debugDescription) is not in state")
                }
                var declared: String?
                if case .string(let m)? = members["mime_type"] { declared = m }
                out.append(.media(try MediaPart(field: field, value: raw, declared: declared, node: node.id)))
            }
        }
        return .parts(out + [.text(prompt)])
    }
}
