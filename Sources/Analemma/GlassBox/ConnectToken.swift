#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// The token a WebSocket client presents at `$connect` to prove its owner (DESIGN.md §2): `v1.<owner>.<expiry>.<mac>`,
/// the MAC being HMAC-SHA256 (hex) over `v1\n<owner>\n<expiry>` with the notifier's secret; expiry in Unix seconds.
package struct ConnectToken: Sendable, Equatable {
    package let ownerID: String
    package let expiresAt: Int64

    /// Secrets shorter than this are refused (a guessable secret makes every owner's events readable).
    package static let minimumSecretBytes = 16

    package init(ownerID: String, expiresAt: Int64) {
        self.ownerID = ownerID
        self.expiresAt = expiresAt
    }

    static func mac(owner: String, expiry: Int64, secret: String) -> String {
        Digest.hex(Digest.hmacSHA256(key: Array(secret.utf8), Array("v1\n\(owner)\n\(expiry)".utf8)))
    }

    static func checkSecret(_ secret: String) throws {
        guard secret.utf8.count >= minimumSecretBytes else {
            throw AnalemmaError(.invalidConfiguration, "the connect token secret must be at least \(minimumSecretBytes) bytes")
        }
    }

    /// Issues a token for `ownerID` valid until `expiresAt`.
    package static func issue(ownerID: String, expiresAt: Int64, secret: String) throws -> String {
        try checkSecret(secret)
        try StatePointer.checkOwner(ownerID)
        return "v1.\(ownerID).\(expiresAt).\(mac(owner: ownerID, expiry: expiresAt, secret: secret))"
    }

    /// Verifies a presented token at `nowSeconds`; every refusal is `Analemma.Forbidden` saying why (never which
    /// part of the MAC was wrong).
    package static func verify(_ token: String, secret: String, nowSeconds: Int64) throws -> ConnectToken {
        try checkSecret(secret)
        func refuse(_ why: String) -> AnalemmaError { AnalemmaError(.forbidden, "connect token refused: \(why)") }
        guard token.utf8.count <= 512, token.hasPrefix("v1.") else { throw refuse("not a v1 token") }
        let parts = token.dropFirst(3).split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count >= 3 else { throw refuse("malformed") }
        let mac = String(parts[parts.count - 1])
        guard let expiry = Int64(parts[parts.count - 2]) else { throw refuse("malformed expiry") }
        let owner = parts[0..<(parts.count - 2)].joined(separator: ".")
        guard (try? StatePointer.checkOwner(owner)) != nil else { throw refuse("malformed owner") }
        let expected = Self.mac(owner: owner, expiry: expiry, secret: secret)
        guard constantTimeEqual(Array(mac.utf8), Array(expected.utf8)) else { throw refuse("bad signature") }
        guard expiry > nowSeconds else { throw refuse("expired") }
        return ConnectToken(ownerID: owner, expiresAt: expiry)
    }

    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var diff: UInt8 = 0
        for i in a.indices { diff |= a[i] ^ b[i] }
        return diff == 0
    }
}
