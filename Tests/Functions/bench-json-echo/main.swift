import Analemma
import Foundation

/// The event the echo decodes: the stand-in's `{"action": "echo", "data": "…"}` (or `"value": 42`).
struct EchoEvent: Codable {
    var action: String
    var data: String?
    var value: Int?
}

/// Sorted keys: the stand-in checks the echo byte for byte, and its event's keys are in sorted order.
func encoder() -> JSONEncoder {
    let e = JSONEncoder()
    e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    return e
}

// Test-only function: decodes its event into a typed value and encodes it back (JSONDecoder/JSONEncoder), the work
// a typical Codable handler adds to the runtime loop, for the large-event benchmark.
await Lambda.run { _, _ in
    ClosureHandler { event, _ in try encoder().encode(try JSONDecoder().decode(EchoEvent.self, from: event)) }
}
