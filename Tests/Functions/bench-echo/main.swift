import Analemma

// Test-only function: echoes its event with no decoding, so benchmarks measure the runtime loop alone.
await Lambda.run { _, _ in ClosureHandler { event, _ in event } }
