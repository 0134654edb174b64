#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// The state of one execution: field name → raw JSON bytes, with fields only the kernel may set.
///
/// Values are never decoded by the kernel: they are validated, hashed and stored as received.
package struct StateBag: Sendable, Equatable {
    /// Fields the kernel sets when an execution starts and nobody else may ever write.
    package static let protectedFields: Set<String> = [
        "execution_id", "owner_id", "trace_id", "workflow_id", "manifest_id", "parent_manifest_id", "segment_index",
        // The segment runner's own records: where the run is, what a human is asked, why it failed.
        "cursor", "pending_human", "failure", "llm_usage", "heal",
        // Where a forked run came from (``ForkRequest``).
        "lineage",
    ]

    /// The protected-field rule: only the kernel writes `name`. Enforced by ``merge(_:from:)`` and ``remove(_:from:)``;
    /// the workflow validator asks it to refuse a definition early.
    package static func isProtected(_ name: String) -> Bool { protectedFields.contains(name) }

    /// Who produced an update (named in errors).
    package enum Source: Sendable, Equatable, CustomStringConvertible {
        case node(String)
        case skill(String)
        case human(String)
        case mapChild(Int)
        /// A fork's `--set` values (``ForkRequest``).
        case fork
        case kernel

        package var description: String {
            switch self {
            case .node(let id): "node \(id.debugDescription)"
            case .skill(let name): "skill \(name.debugDescription)"
            case .human(let node): "the human answer to node \(node.debugDescription)"
            case .mapChild(let index): "map child #\(index)"
            case .fork: "the fork's --set"
            case .kernel: "the kernel"
            }
        }
    }

    package private(set) var fields: [String: Data]

    package init() { fields = [:] }

    /// A new execution's state: the kernel-owned identity fields, then `input`'s members (which may not set them).
    package init(executionID: String, ownerID: String, traceID: String, input: Data = Data("{}".utf8)) throws {
        fields = [:]
        for (name, value) in [("execution_id", executionID), ("owner_id", ownerID), ("trace_id", traceID)] {
            fields[name] = try JSONEncoder().encode(value)
        }
        try merge(json: input, from: .node("input"))
    }

    package subscript(_ name: String) -> Data? { fields[name] }

    /// The string value of a kernel field (`owner_id`, …).
    package func string(_ name: String) -> String? {
        fields[name].flatMap { try? JSONDecoder().decode(String.self, from: $0) }
    }

    /// Merges a JSON object's members. All or nothing: if any member is protected or not valid JSON,
    /// nothing changes and the error names the field and the source.
    package mutating func merge(json: Data, from source: Source) throws {
        let members: [(key: String, range: Range<Int>)]
        do { members = try JSONScanner.members(of: json) } catch {
            throw AnalemmaError(.invalidState, "update from \(source) is not a JSON object: \(error)")
        }
        var updates: [String: Data] = [:]
        for member in members { updates[member.key] = json.subdata(in: member.range) }
        try merge(updates, from: source, validated: true)
    }

    /// Merges field values (raw JSON each). All or nothing, like ``merge(json:from:)``.
    package mutating func merge(_ updates: [String: Data], from source: Source) throws {
        try merge(updates, from: source, validated: false)
    }

    private mutating func merge(_ updates: [String: Data], from source: Source, validated: Bool) throws {
        if source != .kernel, let field = updates.keys.filter(Self.isProtected).sorted().first {
            throw AnalemmaError(.protectedField, "field \(field.debugDescription) is kernel-protected; \(source) may not set it")
        }
        if !validated {
            for (name, value) in updates.sorted(by: { $0.key < $1.key }) {
                do { try JSONScanner.validate(value) } catch {
                    throw AnalemmaError(.invalidState, "field \(name.debugDescription) from \(source) is not valid JSON: \(error)")
                }
            }
        }
        fields.merge(updates) { _, new in new }
    }

    /// Removes a field (not a protected one).
    package mutating func remove(_ name: String, from source: Source) throws {
        if source != .kernel, Self.isProtected(name) {
            throw AnalemmaError(.protectedField, "field \(name.debugDescription) is kernel-protected; \(source) may not remove it")
        }
        fields[name] = nil
    }

    /// The fields whose bytes differ from `previous` (added or changed), and those removed.
    package func delta(from previous: StateBag) -> (changed: Set<String>, removed: Set<String>) {
        let changed = Set(fields.compactMap { name, value in previous.fields[name] == value ? nil : name })
        let removed = Set(previous.fields.keys).subtracting(fields.keys)
        return (changed, removed)
    }

    /// The whole state as one JSON object, keys sorted (stable bytes).
    package func jsonObject() -> Data {
        var out = Data("{".utf8)
        for (i, name) in fields.keys.sorted().enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            out.append(contentsOf: JSONText.quoted(name).utf8)
            out.append(UInt8(ascii: ":"))
            out.append(fields[name]!)
        }
        out.append(UInt8(ascii: "}"))
        return out
    }
}
