import Analemma

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// A user's own skill: upper-cases a string field (what `Sources/Analemma/Skills/README.md` describes).
struct ShoutSkill: Skill {
    var name: String { "shout" }
    var configKeys: Set<String>? { ["from"] }

    func validate(node: WorkflowDefinition.Node) throws {
        guard case .string? = node.config?["from"] else {
            throw AnalemmaError(.invalidWorkflow, "node \(node.id): config.from must be a string")
        }
    }

    func run(_ input: SkillInput) async throws -> [String: Data] {
        guard case .string(let text)? = try input.value(try input.string("from")) else {
            throw input.configError("the field named by config.from must hold a string")
        }
        return [try input.target(): JSONValue.string(text.uppercased()).jsonData()]
    }
}

/// A user's own Tiny Handler beside the kernel's: a typed echo.
struct Echo: TypedLambdaHandler {
    struct Event: Codable { let message: String }
    func handle(_ event: Event, context: LambdaContext) async throws -> Event {
        context.logger.log(.info, "echo", ["remaining_ms": String(context.remainingMillis)])
        return event
    }
}

// The segment runner with the user's skill added, as Functions/segment-runner/main.swift shows; ANALEMMA_ECHO=1
// runs the echo handler instead (both must compile against the public API).
if FunctionEnvironment.current()["ANALEMMA_ECHO"] == "1" {
    await Lambda.run { _, _ in CodableHandler(Echo()) }
} else {
    await Lambda.run { environment, logger in
        var skills = SkillRegistry.standard
        skills.register(ShoutSkill())
        return try SegmentRunnerService(environment: environment, logger: logger, skills: skills)
    }
}
