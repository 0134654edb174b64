import Analemma

// Test-only function: runtime conformance probe (see ProbeHandler). Never packaged for deploy.
await Lambda.run { environment, _ in try ProbeHandler(environment: environment) }
