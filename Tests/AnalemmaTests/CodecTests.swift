import Analemma
import Foundation
import Testing

@Suite("SHA-256, HMAC and gzip through the system libraries")
struct CodecTests {
    @Test(
        "SHA-256 matches the FIPS 180-2 vectors",
        arguments: [
            ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
            ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
            (
                "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
                "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"
            ),
        ])
    func sha256(input: String, hex: String) {
        #expect(Digest.hex(Digest.sha256(Array(input.utf8))) == hex)
    }

    @Test("HMAC-SHA256 matches RFC 4231 test case 2")
    func hmac() {
        let mac = Digest.hmacSHA256(key: Array("Jefe".utf8), Array("what do ya want for nothing?".utf8))
        #expect(Digest.hex(mac) == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
    }

    @Test("gzip round-trips at every level and compresses repetitive JSON", arguments: [1, 6, 9])
    func gzipRoundTrip(level: Int32) throws {
        let input = Array(String(repeating: #"{"field":"value","n":12345},"#, count: 2000).utf8)
        let packed = try Gzip.compress(input, level: level)
        #expect(packed.count < input.count / 10)
        #expect(packed.prefix(2) == [0x1f, 0x8b])
        #expect(try Gzip.decompress(packed) == input)
    }

    @Test("corrupt, truncated and oversized gzip input is refused with a reason")
    func gzipFailures() throws {
        let packed = try Gzip.compress(Array(repeating: 65, count: 100_000))
        #expect(throws: Gzip.Failure.self) { try Gzip.decompress(Array(packed.prefix(packed.count / 2))) }
        var corrupt = packed
        corrupt[corrupt.count / 2] ^= 0xFF
        #expect(throws: Gzip.Failure.self) { try Gzip.decompress(corrupt) }
        #expect { try Gzip.decompress(packed, limit: 1000) } throws: { "\($0)".contains("exceeds 1000 bytes") }
    }
}
