import Foundation
import Testing

@testable import Analemma

/// The notifier's route inputs the viewer relies on: the connect token offered as a subprotocol, the graph message.
@Suite("WebSocket routes: token out of URLs, workflow graph")
struct NotifierRouteTests {
    static func event(headers: [String: String]?, query: [String: String]?) throws -> WebSocketNotifierService.RouteEvent {
        var doc: [String: Any] = ["requestContext": ["routeKey": "$connect", "connectionId": "c1"]]
        if let headers { doc["headers"] = headers }
        if let query { doc["queryStringParameters"] = query }
        return try JSONDecoder().decode(WebSocketNotifierService.RouteEvent.self, from: JSONSerialization.data(withJSONObject: doc))
    }

    @Test(
        "the token offered beside analemma.v1 is the one used, whatever the header's case; otherwise the query's",
        arguments: [
            (["Sec-WebSocket-Protocol": "analemma.v1, v1.team-a.9.ab"], ["token": "q"], "v1.team-a.9.ab", true),
            (["sec-websocket-protocol": "v1.team-a.9.ab,analemma.v1"], nil, "v1.team-a.9.ab", true),
            (["Sec-WebSocket-Protocol": "chat, v1.team-a.9.ab"], ["token": "q"], "q", false),
            (nil, ["token": "q"], "q", false),
            (nil, nil, "", false),
        ] as [([String: String]?, [String: String]?, String, Bool)])
    func token(headers: [String: String]?, query: [String: String]?, expected: String, subprotocol: Bool) throws {
        let offered = try Self.event(headers: headers, query: query).connectToken
        #expect(offered.token == expected && offered.subprotocol == subprotocol)
    }

    @Test("the workflow graph names every node and edge, with conditions and traversal limits")
    func graph() throws {
        let definition = try WorkflowDefinition.decode(
            Data(
                #"""
                {"workflow_id": "w", "entry": "a", "nodes": [{"id": "a", "type": "route"}, {"id": "b", "type": "route"}],
                 "edges": [{"from": "a", "to": "b", "when": {"field": "x", "equals": "y"}, "max_traversals": 3}]}
                """#.utf8))
        let doc = try JSONValue(json: WorkflowGraphs.message(definition, executionID: "arn:e"))
        #expect(try doc.value(at: "type") == .string("workflow") && doc.value(at: "entry") == .string("a"))
        #expect(try doc.value(at: "nodes[1].id") == .string("b") && doc.value(at: "edges[0].when.field") == .string("x"))
        #expect(try doc.value(at: "edges[0].max_traversals") == .number(3))
    }
}
