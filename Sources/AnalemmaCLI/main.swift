import Analemma
import Glibc

// `analemma`: the developer command. Subcommands live in the library (Analemma/Cognition/DeveloperCommand.swift).
exit(await DeveloperCommand.main(CommandLine.arguments, environment: FunctionEnvironment.current()))
