import Foundation
import Testing

@testable import Analemma

@Suite("ARCHITECTURE.md says what the source does")
struct ArchitectureDocTests {
    static let text: String = {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return (try? String(contentsOf: root.appendingPathComponent("ARCHITECTURE.md"), encoding: .utf8)) ?? ""
    }()

    /// The lines of the section under `heading` (up to the next heading).
    static func section(_ heading: String) -> [Substring] {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        guard let start = lines.firstIndex(where: { $0.hasPrefix("#") && $0.hasSuffix(" " + heading) }) else { return [] }
        let rest = lines[(start + 1)...]
        return Array(rest.prefix { !$0.hasPrefix("#") })
    }

    /// Every `` `code` `` span of `lines`.
    static func codeSpans(_ lines: [Substring]) -> [String] {
        lines.flatMap { line in line.split(separator: "`", omittingEmptySubsequences: false).enumerated().filter { $0.offset % 2 == 1 } }
            .map { String($0.element) }
    }

    @Test("its protected-field list is StateBag's")
    func protectedFields() {
        let listed = Self.codeSpans(Self.section("Protected fields"))
        #expect(listed.count == Set(listed).count)
        #expect(Set(listed) == StateBag.protectedFields)
    }

    @Test("its error-code table lists every code once, with the code's disposition")
    func errorCodes() {
        var table: [String: String] = [:]
        for row in Self.section("Error codes") where row.hasPrefix("| `") {
            let cells = row.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
            guard cells.count >= 2 else { continue }
            #expect(table.updateValue(cells[1], forKey: cells[0].trimmingCharacters(in: CharacterSet(charactersIn: "`"))) == nil)
        }
        let source = Dictionary(uniqueKeysWithValues: ErrorCode.allCases.map { ($0.rawValue, $0.disposition.rawValue) })
        #expect(table == source)
    }

    @Test("every source path it names exists")
    func paths() {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let named = Self.codeSpans(Self.text.split(separator: "\n")).filter {
            ($0.hasPrefix("Sources/") || $0.hasPrefix("Deploy/") || $0.hasPrefix("StateMachines/") || $0.hasPrefix("docs/"))
                && !$0.contains("<") && !$0.contains(" ")
        }
        #expect(!named.isEmpty)
        for path in named {
            #expect(FileManager.default.fileExists(atPath: root.appendingPathComponent(path).path), "\(path) does not exist")
        }
    }
}
