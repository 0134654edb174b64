#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// `{{field}}` / `{{field.path[0]}}` text templates over state fields (prompts, questions, rendered fields).
package struct Template: Sendable, Equatable {
    /// A literal run or a placeholder (field + path inside it).
    enum Part: Sendable, Equatable {
        case text(String)
        case field(String, path: String)
    }

    let parts: [Part]

    /// Parses `source`; an unclosed or empty `{{` is an `Analemma.InvalidWorkflow` error.
    package init(_ source: String) throws {
        var parts: [Part] = []
        var rest = Substring(source)
        while let open = rest.firstRange(of: "{{") {
            if open.lowerBound > rest.startIndex { parts.append(.text(String(rest[..<open.lowerBound]))) }
            guard let close = rest[open.upperBound...].firstRange(of: "}}") else {
                throw AnalemmaError(.invalidWorkflow, "template has an unclosed {{ in \(String(source.prefix(80)).debugDescription)")
            }
            let name = Substring(
                rest[open.upperBound..<close.lowerBound].drop { $0 == " " }.reversed().drop { $0 == " " }.reversed())
            let split = name.firstIndex { $0 == "." || $0 == "[" } ?? name.endIndex
            guard split > name.startIndex else {
                throw AnalemmaError(.invalidWorkflow, "template has an empty {{}} in \(String(source.prefix(80)).debugDescription)")
            }
            let path = String(name[split...])
            _ = try JSONValue.steps(path)
            parts.append(.field(String(name[..<split]), path: path))
            rest = rest[close.upperBound...]
        }
        if !rest.isEmpty { parts.append(.text(String(rest))) }
        self.parts = parts
    }

    /// The state fields the template reads.
    package var fields: [String] {
        var seen: [String] = []
        for case .field(let name, _) in parts where !seen.contains(name) { seen.append(name) }
        return seen
    }

    /// The rendered text; a missing field or path renders as the empty string.
    package func render(_ values: [String: Data]) throws -> String {
        var out = ""
        for part in parts {
            switch part {
            case .text(let t): out += t
            case .field(let name, let path):
                guard let raw = values[name] else { continue }
                out += try JSONValue(json: raw).value(at: path)?.text ?? ""
            }
        }
        return out
    }

    /// Checks a node's template only uses fields the node declares it reads (so surgical hydration fetches them).
    package static func check(_ source: String, key: String, node: WorkflowDefinition.Node) throws {
        let template: Template
        do { template = try Template(source) } catch let e as AnalemmaError {
            throw AnalemmaError(.invalidWorkflow, "node \(node.id.debugDescription): config.\(key): \(e.message)")
        }
        let reads = node.reads ?? []
        if let missing = template.fields.first(where: { !reads.contains($0) }) {
            throw AnalemmaError(
                .invalidWorkflow,
                "node \(node.id.debugDescription): config.\(key) uses {{\(missing)}} but the node does not declare it in reads")
        }
    }
}
