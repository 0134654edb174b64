import Foundation
import Testing

/// Reliability figures for `make reliability` (appended as JSON lines to `ANALEMMA_RELIABILITY_REPORT` when set).
enum ReliabilityReport {
    static func record(_ suite: String, scenarios: Int, faultPoints: Int, violations: Int) {
        guard let path = ProcessInfo.processInfo.environment["ANALEMMA_RELIABILITY_REPORT"] else { return }
        let line = #"{"suite":"\#(suite)","scenarios":\#(scenarios),"fault_points":\#(faultPoints),"violations":\#(violations)}"# + "\n"
        if let handle = FileHandle(forWritingAtPath: path) {
            handle.seekToEndOfFile()
            handle.write(Data(line.utf8))
            handle.closeFile()
        } else {
            FileManager.default.createFile(atPath: path, contents: Data(line.utf8))
        }
    }
}

/// Counts invariant checks that failed while also reporting them to Swift Testing.
final class Invariants: @unchecked Sendable {
    private let lock = NSLock()
    private(set) var violations = 0
    func check(_ condition: Bool, _ message: @autoclosure () -> String, sourceLocation: SourceLocation = #_sourceLocation) {
        if !condition {
            lock.withLock { violations += 1 }
            Issue.record(Comment(rawValue: message()), sourceLocation: sourceLocation)
        }
    }
}
