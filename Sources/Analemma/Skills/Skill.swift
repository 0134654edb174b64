#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// What a node implementation receives: its node, its configuration and the state fields it declared it reads.
public struct SkillInput: Sendable {
    public let nodeID: String
    public let config: [String: JSONValue]
    /// The node's declared `reads` that exist in state (raw JSON bytes).
    public let fields: [String: Data]
    /// The node's declared `writes`: the only fields the skill may return.
    public let writes: [String]
    /// When this run retries the node after a failure: the fix instruction self-healing obtained from the model.
    public let healInstruction: String?
    /// The owner the run belongs to (scopes what is shared between calls, such as cached prompt prefixes).
    package var owner: String?

    public init(nodeID: String, config: [String: JSONValue], fields: [String: Data], writes: [String], healInstruction: String? = nil) {
        self.nodeID = nodeID
        self.config = config
        self.fields = fields
        self.writes = writes
        self.healInstruction = healInstruction
    }

    /// A state field as a JSON value (nil when not in state).
    public func value(_ field: String) throws -> JSONValue? {
        guard let raw = fields[field] else { return nil }
        return try JSONValue(json: raw)
    }

    /// A string setting from `config`, or an error naming the node and the key.
    public func string(_ key: String) throws -> String {
        guard case .string(let s)? = config[key] else { throw configError("config.\(key) must be a string") }
        return s
    }

    /// The field to write: `config.into`, else the node's only declared write.
    public func target() throws -> String {
        if config["into"] != nil { return try string("into") }
        guard writes.count == 1 else { throw configError("config.into is required when the node declares \(writes.count) writes") }
        return writes[0]
    }

    public func configError(_ message: String) -> AnalemmaError {
        AnalemmaError(.invalidWorkflow, "node \(nodeID.debugDescription): \(message)")
    }
}

/// A node implementation ("skill"): reads declared fields, returns field updates (raw JSON by field name).
///
/// Add one by conforming a type, registering it in ``SkillRegistry`` (see `Sources/Analemma/Skills/README.md`) and
/// rebuilding the segment runner. A thrown error fails the node; an ``AnalemmaError`` keeps its code, any other
/// error becomes `Analemma.SkillFailed`.
public protocol Skill: Sendable {
    /// The name nodes use in `"skill"`.
    var name: String { get }
    /// Checks a node's configuration before any state is written (`initialize`). Default: accepts anything.
    func validate(node: WorkflowDefinition.Node) throws
    /// Runs the node.
    func run(_ input: SkillInput) async throws -> [String: Data]
    /// How an `llm` node may offer this skill to the model as a function (its arguments become the skill's
    /// config). Default: nil, not offered.
    var tool: ToolDeclaration? { get }
    /// The config keys a node using this skill may set (`into` is always allowed); any other key is refused at
    /// validation. Default: nil, any key (declare yours so that typos are caught).
    var configKeys: Set<String>? { get }
}

extension Skill {
    public func validate(node: WorkflowDefinition.Node) throws {}
    public var tool: ToolDeclaration? { nil }
    public var configKeys: Set<String>? { nil }
}

/// The skills a segment runner knows, by name.
public struct SkillRegistry: Sendable {
    private var skills: [String: any Skill] = [:]

    public init(_ skills: [any Skill] = []) {
        for skill in skills { register(skill) }
    }

    /// The built-ins: `template`, `json_transform`, `json_extract`, `fail`.
    public static let standard = SkillRegistry([TemplateSkill(), JSONTransformSkill(), JSONExtractSkill(), FailSkill()])

    /// Adds (or replaces) a skill under its name.
    public mutating func register(_ skill: any Skill) { skills[skill.name] = skill }

    public var names: [String] { skills.keys.sorted() }

    /// The skill called `name`, or an `Analemma.InvalidWorkflow` error naming the node and the known skills.
    public func skill(_ name: String, node: String) throws -> any Skill {
        guard let skill = skills[name] else {
            throw AnalemmaError(
                .invalidWorkflow,
                "node \(node.debugDescription): unknown skill \(name.debugDescription) (known: \(names.joined(separator: ", ")))")
        }
        return skill
    }
}
