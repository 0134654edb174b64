import Glibc
import Testing

@testable import Analemma

@Suite("Name service")
struct NameServiceTests {
    @Test("every database a function may consult is pinned to glibc's built-in modules")
    func pinsBuiltInModules() {
        #expect(NameService.pinBuiltInModules().isEmpty)
        let builtIn: Set<Substring> = ["files", "dns"]
        for entry in NameService.pinned {
            #expect(Set(entry.modules.split(separator: " ")).isSubset(of: builtIn), "\(entry.database)")
        }
        #expect(NameService.pinned.contains { $0.database == "hosts" && $0.modules == "files dns" })
    }

    @Test("names still resolve after pinning")
    func resolvesAfterPinning() {
        NameService.pinBuiltInModules()
        var result: UnsafeMutablePointer<addrinfo>?
        let rc = getaddrinfo("localhost", "80", nil, &result)
        #expect(rc == 0)
        if rc == 0 { freeaddrinfo(result) }
    }
}
