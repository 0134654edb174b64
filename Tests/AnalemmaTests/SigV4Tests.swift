import Analemma
import Foundation
import Testing

@Suite("SigV4 against AWS's published vectors")
struct SigV4Tests {
    struct Fixture: Decodable {
        struct Suite: Decodable {
            let accessKeyID, secretAccessKey, region, service: String
            let unixTime: Int64
        }
        struct Vector: Decodable, CustomTestStringConvertible {
            let name, method, path, body, authorization: String
            let query, headers: [[String]]
            var testDescription: String { name }
        }
        struct S3: Decodable {
            let accessKeyID, secretAccessKey, region, method, host, path, signature, signedHeaders: String
            let unixTime: Int64
            let headers: [[String]]
        }
        let suite: Suite
        let vectors: [Vector]
        let s3: S3
    }

    static let fixture: Fixture = {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/sigv4-vectors.json")
        return try! JSONDecoder().decode(Fixture.self, from: Data(contentsOf: url))
    }()

    @Test("the signature matches byte for byte", arguments: fixture.vectors)
    func vector(_ v: Fixture.Vector) {
        let suite = Self.fixture.suite
        let request = HTTPRequest(
            method: v.method, host: "example.amazonaws.com", path: v.path, query: v.query.map { ($0[0], $0[1]) },
            headers: v.headers.map { ($0[0], $0[1]) }, body: Data(v.body.utf8))
        let signed = SigV4.sign(
            request, credentials: AWSCredentials(accessKeyID: suite.accessKeyID, secretAccessKey: suite.secretAccessKey),
            region: suite.region, service: suite.service, unixTime: suite.unixTime)
        #expect(signed.header("Authorization") == v.authorization)
        #expect(signed.header("X-Amz-Date") == "20150830T123600Z")
    }

    @Test("S3 signs the path as sent and the empty-body hash in x-amz-content-sha256")
    func s3() {
        let f = Self.fixture.s3
        let signed = SigV4.sign(
            HTTPRequest(method: f.method, host: f.host, path: f.path, headers: f.headers.map { ($0[0], $0[1]) }),
            credentials: AWSCredentials(accessKeyID: f.accessKeyID, secretAccessKey: f.secretAccessKey), region: f.region,
            service: "s3", unixTime: f.unixTime)
        #expect(signed.header("x-amz-content-sha256") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(
            signed.header("Authorization")
                == "AWS4-HMAC-SHA256 Credential=\(f.accessKeyID)/20130524/us-east-1/s3/aws4_request, SignedHeaders=\(f.signedHeaders), Signature=\(f.signature)"
        )
    }

    @Test("a session token is sent and signed; UNSIGNED-PAYLOAD is used when asked")
    func tokenAndUnsigned() {
        let signed = SigV4.sign(
            HTTPRequest(method: "PUT", host: "b.s3.amazonaws.com", path: "/k", body: Data("x".utf8)),
            credentials: AWSCredentials(accessKeyID: "AK", secretAccessKey: "SK", sessionToken: "TOKEN"), region: "eu-west-1",
            service: "s3", unixTime: 0, payload: .unsigned)
        #expect(signed.header("X-Amz-Security-Token") == "TOKEN")
        #expect(signed.header("x-amz-content-sha256") == "UNSIGNED-PAYLOAD")
        #expect(signed.header("Authorization")?.contains("x-amz-security-token") == true)
        #expect(signed.header("X-Amz-Date") == "19700101T000000Z")
    }

    @Test(
        "non-S3 paths are normalised and encoded again; S3 keys are not",
        arguments: [
            ("/a/./b/../c", "service", "/a/c"),
            ("/a%20b", "service", "/a%2520b"),
            ("/a%20b", "s3", "/a%20b"),
            ("//x//", "service", "/x/"),
        ])
    func paths(path: String, service: String, canonical: String) {
        let (request, _) = SigV4.canonicalRequest(HTTPRequest(method: "GET", host: "h", path: path), service: service, payloadHash: "-")
        #expect(request.split(separator: "\n", omittingEmptySubsequences: false)[1] == Substring(canonical))
    }
}
