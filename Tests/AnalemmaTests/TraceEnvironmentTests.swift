import Glibc
import Testing

@testable import Analemma

@Suite("_X_AMZN_TRACE_ID per invocation", .serialized)
struct TraceEnvironmentTests {
    static let name = "ANALEMMA_TEST_TRACE_ID"  // not the real variable: LambdaRuntimeTests use that one in parallel

    func current() -> String? { getenv(Self.name).map { String(cString: $0) } }

    @Test("each value replaces the last; nil clears it; a value longer than the buffer still lands")
    func replaces() {
        let trace = TraceEnvironment(name: Self.name)
        trace.set("Root=1-aaaa")
        #expect(current() == "Root=1-aaaa")
        trace.set("Root=1-b")
        #expect(current() == "Root=1-b")
        trace.set(nil)
        #expect(current() == "")
        let long = "Root=1-" + String(repeating: "c", count: 2000)
        trace.set(long)
        #expect(current() == long)
        trace.set("Root=1-d")
        #expect(current() == "Root=1-d")
    }

    @Test("if someone else sets the variable, the next invocation's value still wins")
    func reinstalls() {
        let trace = TraceEnvironment(name: Self.name)
        trace.set("Root=1-mine")
        setenv(Self.name, "Root=1-theirs", 1)
        trace.set("Root=1-next")
        #expect(current() == "Root=1-next")
    }
}
