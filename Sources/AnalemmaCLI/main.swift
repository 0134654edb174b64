import Analemma
import Glibc

// `analemma`: the developer command (DeveloperCommand.swift and its extensions).
exit(await DeveloperCommand.main(CommandLine.arguments, environment: FunctionEnvironment.current()))
