import Analemma

// segment-runner: the kernel step behind every Task of StateMachines/workflow.asl.json
// (initialize, run, ask, resume, finalize, fail). Add skills to the registry here and rebuild.
await Lambda.run { environment, logger in
    let skills = SkillRegistry.standard  // make it `var` and `skills.register(MySkill())` to add your own
    return try SegmentRunnerService(environment: environment, logger: logger, skills: skills)
}
