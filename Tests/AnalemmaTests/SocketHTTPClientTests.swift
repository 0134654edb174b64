import Analemma
import Foundation
import Testing

@Suite("Keep-alive HTTP/1.1 client over POSIX sockets")
struct SocketHTTPClientTests {
    @Test("requests reuse one connection and bodies arrive intact")
    func keepAlive() throws {
        let server = try LoopbackServer { request in
            let body = "seen: \(request)"
            return "HTTP/1.1 200 OK\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)"
        }
        let client = SocketHTTPClient(host: "127.0.0.1", port: server.port)
        for i in 0..<5 {
            let r = try client.send(method: "POST", path: "/p/\(i)", body: Array("body-\(i)".utf8))
            #expect(r.status == 200)
            #expect(String(decoding: r.body, as: UTF8.self) == "seen: POST /p/\(i) HTTP/1.1")
        }
        #expect(server.connections == 1)
        #expect(server.requests.last == "POST /p/4 HTTP/1.1 body-4")
    }

    @Test("a connection the peer closed while idle is replaced transparently")
    func reconnect() throws {
        let server = try LoopbackServer(closeAfter: 1) { _ in "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok" }
        let client = SocketHTTPClient(host: "127.0.0.1", port: server.port)
        for _ in 0..<3 {
            #expect(try client.send(method: "GET", path: "/").body == Array("ok".utf8))
            Thread.sleep(forTimeInterval: 0.02)
        }
        #expect(server.connections == 3)
    }

    @Test("a large body (7 MB) is read whole")
    func largeBody() throws {
        let size = 7 * 1024 * 1024
        let payload = String(repeating: "y", count: size)
        let server = try LoopbackServer { _ in "HTTP/1.1 200 OK\r\nContent-Length: \(size)\r\n\r\n\(payload)" }
        let r = try SocketHTTPClient(host: "127.0.0.1", port: server.port).send(method: "GET", path: "/big")
        #expect(r.body.count == size)
    }

    @Test(
        "a body received in place arrives byte for byte, and the connection goes on serving",
        arguments: [0, 5, 64 * 1024 - 7, 1024 * 1024 + 3])
    func receivedInPlace(size: Int) throws {
        let payload = String((0..<size).map { i in Character(UnicodeScalar(UInt8(97 + i % 26))) })
        let server = try LoopbackServer { _ in "HTTP/1.1 200 OK\r\nContent-Length: \(size)\r\n\r\n\(payload)" }
        let client = SocketHTTPClient(host: "127.0.0.1", port: server.port)
        for _ in 0..<3 {
            let (head, body) = try client.receive(method: "GET", path: "/event")
            #expect(head.status == 200 && head.body.isEmpty)
            #expect(body == Data(payload.utf8))
        }
        #expect(server.connections == 1)
    }

    @Test("a chunked body asked for in place arrives whole through the ordinary parser")
    func receivedChunked() throws {
        let server = try LoopbackServer { _ in "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n" }
        let (_, body) = try SocketHTTPClient(host: "127.0.0.1", port: server.port).receive(method: "GET", path: "/")
        #expect(body == Data("abcde".utf8))
    }

    @Test("a connection closed inside a body received in place is an error saying how much arrived")
    func receivedShort() throws {
        let server = try LoopbackServer(closeAfter: 1) { _ in "HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\nonly this" }
        #expect {
            try SocketHTTPClient(host: "127.0.0.1", port: server.port).receive(method: "GET", path: "/")
        } throws: { error in
            "\(error)".contains("9 of 100000 body bytes")
        }
    }

    @Test("an unreachable endpoint is an error naming it")
    func refused() throws {
        let server = try LoopbackServer { _ in "" }
        server.stop()
        let port = server.port
        #expect { try SocketHTTPClient(host: "127.0.0.1", port: port).send(method: "GET", path: "/") } throws: { error in
            "\(error)".contains("127.0.0.1:\(port)")
        }
    }

    @Test("a malformed AWS_LAMBDA_RUNTIME_API is rejected", arguments: ["localhost", "host:port", "h:99999"])
    func badEndpoint(endpoint: String) {
        #expect(throws: SocketError.self) { try SocketHTTPClient(endpoint: endpoint) }
    }

    @Test("the Runtime API client reads every invocation header of /next")
    func runtimeHeaders() async throws {
        let server = try LoopbackServer { _ in
            "HTTP/1.1 200 OK\r\nLambda-Runtime-Aws-Request-Id: rid\r\nLambda-Runtime-Deadline-Ms: 1700000000123\r\n"
                + "Lambda-Runtime-Invoked-Function-Arn: arn:aws:lambda:us-east-1:1:function:f\r\nLambda-Runtime-Trace-Id: Root=1-x\r\n"
                + "Lambda-Runtime-Client-Context: {\"c\":1}\r\nLambda-Runtime-Cognito-Identity: {\"i\":2}\r\n"
                + "Lambda-Runtime-Aws-Tenant-Id: tenant-9\r\nContent-Length: 2\r\n\r\n{}"
        }
        let api = try RuntimeAPIClient(endpoint: "127.0.0.1:\(server.port)")
        let reply = try await api.send(.next)
        #expect(
            reply
                == .invocation(
                    Invocation(
                        requestID: "rid", deadlineMillis: 1_700_000_000_123, invokedFunctionARN: "arn:aws:lambda:us-east-1:1:function:f",
                        traceID: "Root=1-x", clientContext: #"{"c":1}"#, cognitoIdentity: #"{"i":2}"#, tenantID: "tenant-9",
                        payload: Data("{}".utf8))))
        #expect(server.requests == ["GET /2018-06-01/runtime/invocation/next HTTP/1.1"])
    }

    @Test("errors go to /error with Lambda-Runtime-Function-Error-Type and the JSON document")
    func errorPost() async throws {
        let server = try LoopbackServer { _ in "HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n" }
        let api = try RuntimeAPIClient(endpoint: "127.0.0.1:\(server.port)")
        let reply = try await api.send(
            .error(requestID: "r1", RuntimeErrorPayload(errorType: "Analemma.InvalidEvent", errorMessage: "bad")))
        #expect(reply == .accepted(status: 202, body: ""))
        #expect(
            server.requests == [
                #"POST /2018-06-01/runtime/invocation/r1/error HTTP/1.1 {"errorMessage":"bad","errorType":"Analemma.InvalidEvent","stackTrace":[]}"#
            ])
        #expect(server.heads.first?.contains("\r\nLambda-Runtime-Function-Error-Type: Analemma.InvalidEvent") == true)
    }

    @Test("a /next answer without a request id is a Runtime API error")
    func missingRequestID() async throws {
        let server = try LoopbackServer { _ in "HTTP/1.1 200 OK\r\nLambda-Runtime-Deadline-Ms: 1\r\nContent-Length: 0\r\n\r\n" }
        let api = try RuntimeAPIClient(endpoint: "127.0.0.1:\(server.port)")
        await #expect(throws: RuntimeAPIError.self) { _ = try await api.send(.next) }
    }
}
