import Analemma
import Foundation
import Glibc

/// `analemma metrics LOG…`: the Embedded Metric Format lines of function logs (a local stack's `.local/logs/*.log`,
/// or lines exported from CloudWatch Logs), summed per metric and dimension values.
extension DeveloperCommand {
    static func metrics(_ files: [String]) -> Int32 {
        var summary = MetricSummary()
        for file in files {
            guard let f = fopen(file, "r") else { return fail("cannot read \(file)", 1) }
            defer { fclose(f) }
            var line: UnsafeMutablePointer<CChar>?
            var capacity = 0
            while getline(&line, &capacity, f) > 0 {
                if let line { summary.add(line: String(cString: line)) }
            }
            free(line)
        }
        for doc in summary.report() { print(String(decoding: doc.jsonData(), as: UTF8.self)) }
        StandardErrorSink().write(
            "\(summary.lines) EMF lines, \(summary.invalid.count) invalid\(summary.invalid.first.map { ": \($0)" } ?? "")")
        return summary.invalid.isEmpty ? 0 : 1
    }
}
