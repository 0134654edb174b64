import Analemma
import Testing

@Suite("HTTP/1.1 response parsing")
struct HTTPResponseParserTests {
    let contentLength = Array("HTTP/1.1 200 OK\r\nLambda-Runtime-Aws-Request-Id: abc\r\nContent-Length: 5\r\n\r\nhello".utf8)

    @Test("a Content-Length response is complete only once all its body bytes are there", arguments: [0, 10, 40, 60, 68])
    func fragments(cut: Int) throws {
        let partial = Array(contentLength.prefix(cut))
        #expect(try HTTPResponseParser.parse(partial) == nil)
    }

    @Test("a whole response parses: status, lower-cased headers, body, bytes used; what follows is left")
    func whole() throws {
        let next = Array("HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n".utf8)
        let (r, used) = try #require(try HTTPResponseParser.parse(contentLength + next))
        #expect(r.status == 200)
        #expect(r.header("Lambda-Runtime-Aws-Request-Id") == "abc")
        #expect(r.body == Array("hello".utf8))
        #expect(used == contentLength.count)
        let (second, _) = try #require(try HTTPResponseParser.parse(contentLength + next, from: used))
        #expect(second.status == 202)
    }

    @Test("a chunked body is de-chunked, extensions and trailers skipped")
    func chunked() throws {
        let raw = Array(
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n".utf8)
        let (r, used) = try #require(try HTTPResponseParser.parse(raw))
        #expect(String(decoding: r.body, as: UTF8.self) == "hello world")
        #expect(used == raw.count)
        #expect(try HTTPResponseParser.parse(Array(raw.dropLast(3))) == nil)
    }

    @Test("without framing the body runs to the end of the connection, which then closes")
    func readToClose() throws {
        let raw = Array("HTTP/1.1 200 OK\r\n\r\nabc".utf8)
        #expect(try HTTPResponseParser.parse(raw) == nil)
        let (r, _) = try #require(try HTTPResponseParser.parse(raw, atEOF: true))
        #expect(r.body == Array("abc".utf8))
        #expect(r.closesConnection)
    }

    @Test("the answer to HEAD has no body, whatever its Content-Length says")
    func head() throws {
        let raw = Array("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n".utf8)
        #expect(try HTTPResponseParser.parse(raw) == nil)
        let (r, used) = try #require(try HTTPResponseParser.parse(raw, bodiless: true))
        #expect(r.body.isEmpty && r.header("content-length") == "1000" && used == raw.count - "HTTP/1.1 204 No Content\r\n\r\n".utf8.count)
    }

    @Test("Connection: close is noticed")
    func connectionClose() throws {
        let (r, _) = try #require(try HTTPResponseParser.parse(Array("HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n".utf8)))
        #expect(r.closesConnection)
        #expect(r.body.isEmpty)
    }

    @Test(
        "malformed responses are errors that say what is wrong",
        arguments: [
            ("HTTP/2 200\r\n\r\n", "bad status line"),
            ("HTTP/1.1 abc OK\r\n\r\n", "bad status line"),
            ("HTTP/1.1 200 OK\r\nNoColonHere\r\n\r\n", "header line without colon"),
            ("HTTP/1.1 200 OK\r\nContent-Length: -4\r\n\r\n", "bad content-length"),
            ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "bad chunk size"),
        ])
    func malformed(raw: String, complaint: String) {
        #expect {
            _ = try HTTPResponseParser.parse(Array(raw.utf8))
        } throws: { error in
            (error as? HTTPParseError)?.message.contains(complaint) == true
        }
    }

    @Test("a connection closed mid-body is an error, not a short body")
    func truncated() {
        #expect(throws: HTTPParseError.self) {
            _ = try HTTPResponseParser.parse(Array("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc".utf8), atEOF: true)
        }
    }
}
