import Analemma

/// The event the echo decodes: the stand-in's `{"action": "echo", "data": "…"}` (or `"value": 42`).
struct EchoEvent: Codable {
    var action: String
    var data: String?
    var value: Int?
}

/// Returns its event: the stand-in checks the echo byte for byte (its event's keys are in sorted order, as the
/// response encoder writes them).
struct Echo: TypedLambdaHandler {
    func handle(_ event: EchoEvent, context: LambdaContext) async throws -> EchoEvent { event }
}

// Test-only function: a Codable handler (CodableHandler: JSONDecoder in, the response encoder out), the work a
// typical typed handler adds to the runtime loop, for the large-event benchmark.
await Lambda.run { _, _ in CodableHandler(Echo()) }
