"""The local API Gateway WebSocket API: accepts WebSocket clients on the front door (`GET /ws`), invokes the
websocket-notifier's route handlers the way API Gateway does ($connect with the query string and headers, the
subprotocol its answer selects handed back in the 101, messages routed on `$request.body.action`, $disconnect), and serves the management API (`POST/GET/DELETE /@connections/{id}`) the
notifier posts to — 128 KB per message (413 above), 410 for a connection that is gone, sent in ≤32 KB frames.
Framing is `websockets`' sans-I/O protocol; a client frame over 32 KB or message over 128 KB closes with 1009, as the
quotas page says: https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-execution-service-websocket-limits-table.html

https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-websocket-api-overview.html
Control (tests): GET /_analemma/websocket → stats; POST {"throttle": N} (next N posts get 429),
{"forget": ID} (drop a connection without $disconnect, as a client that vanished).
"""

import base64
import hashlib
import json
import os
import threading
import time

from websockets.frames import CloseCode, Opcode
from websockets.protocol import Protocol, Side, State

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
MESSAGE_LIMIT = 128 * 1024
FRAME_LIMIT = 32 * 1024
ROUTES = {"subscribe"}  # route selection expression: $request.body.action


def accept_key(key):
    return base64.b64encode(hashlib.sha1(key.encode() + GUID).digest()).decode()


class Connection:
    """One client session: RFC 6455 framing by `websockets`' sans-I/O protocol, bounded as API Gateway bounds it
    (a frame over 32 KB or a message over 128 KB closes the connection with 1009)."""

    def __init__(self, cid, rfile, wfile, query, source):
        self.id, self.rfile, self.wfile, self.query, self.source = cid, rfile, wfile, query, source
        self.protocol = Protocol(Side.SERVER, max_size=MESSAGE_LIMIT)
        self.lock = threading.Lock()
        self.connected_at = time.time()
        self.last_active = time.time()
        self.parts, self.message_opcode, self.refusal = [], None, None

    def _flush(self):
        for data in self.protocol.data_to_send():
            if data:
                self.wfile.write(data)
        self.wfile.flush()

    def send(self, data):
        """A text message as ≤32 KB frames (split into continuation frames, as API Gateway does)."""
        with self.lock:
            if self.protocol.state is not State.OPEN:
                raise ConnectionError("connection is closing")
            chunks = [data[i:i + FRAME_LIMIT] for i in range(0, len(data), FRAME_LIMIT)] or [b""]
            for i, chunk in enumerate(chunks):
                fin = i == len(chunks) - 1
                if i == 0:
                    self.protocol.send_text(chunk, fin=fin)
                else:
                    self.protocol.send_continuation(chunk, fin=fin)
            self._flush()

    def close(self, code=CloseCode.NORMAL_CLOSURE, reason=""):
        with self.lock:
            if self.protocol.state is State.OPEN:
                self.protocol.send_close(code, reason)
                self._flush()

    def receive(self):
        """The next whole client message (bytes), or None once the session is over (closed, gone or garbage)."""
        while True:
            with self.lock:
                for frame in self.protocol.events_received():
                    message = self._take(frame)
                    if message is not None:
                        self._flush()
                        return message
                self._flush()
                if self.protocol.state is State.CLOSED or self.protocol.close_expected():
                    return None
            data = self.rfile.read1(65536)
            with self.lock:
                if data:
                    self.protocol.receive_data(data)
                else:
                    self.protocol.receive_eof()

    def _take(self, frame):
        """A frame into the message being assembled; the message once its last frame arrived."""
        if frame.opcode not in (Opcode.TEXT, Opcode.BINARY, Opcode.CONT):
            return None  # ping → pong, close → close: the protocol answers them itself
        if len(frame.data) > FRAME_LIMIT:
            return self._refuse(CloseCode.MESSAGE_TOO_BIG, f"frame of {len(frame.data)} bytes over {FRAME_LIMIT}")
        if frame.opcode is not Opcode.CONT:
            self.message_opcode = frame.opcode
        self.parts.append(frame.data)
        if not frame.fin:
            return None
        message, self.parts = b"".join(self.parts), []
        if self.message_opcode is Opcode.TEXT:
            try:
                message.decode("utf-8")
            except UnicodeDecodeError as bad:
                return self._refuse(CloseCode.INVALID_DATA, f"text message is not UTF-8: {bad}")
        return message

    def _refuse(self, code, reason):
        self.refusal = reason
        self.protocol.fail(code, reason)
        return None

    @property
    def failure(self):
        """Why the protocol gave up on the client's bytes (None for a clean session)."""
        exc = self.protocol.parser_exc
        return self.refusal if exc is None else f"{type(exc).__name__}: {exc}"


class WebSocketGateway:
    def __init__(self, service, function="websocket-notifier", stage="local"):
        self.service, self.function, self.stage = service, function, stage
        self.connections = {}
        self.lock = threading.Lock()
        self.throttle = 0
        self.stats = {"connected": 0, "refused": 0, "posted": 0, "gone": 0, "throttled": 0, "too_large": 0,
                      "max_message_bytes": 0, "max_frame_bytes": 0, "closed_on_garbage": 0,
                      "last_failure": None}

    # -- the API Gateway side: invoking the route handlers
    def _route(self, route, event_type, conn_id, host, body=None, query=None, headers=None, answer_headers=None):
        event = {"requestContext": {"routeKey": route, "eventType": event_type, "connectionId": conn_id,
                                    "domainName": host, "stage": self.stage, "apiId": "local",
                                    "requestTimeEpoch": int(time.time() * 1000),
                                    "messageId": base64.b64encode(os.urandom(9)).decode()},
                 "isBase64Encoded": False}
        if query is not None:
            event["queryStringParameters"] = query
        if headers is not None:
            event["headers"] = headers
        if body is not None:
            event["body"] = body
        status, out_headers, out = self.service.invoke(self.function, json.dumps(event).encode(), {})
        if status != 200 or any(k == "X-Amz-Function-Error" for k, _ in out_headers):
            return 500, out.decode("utf-8", "replace")
        try:
            answer = json.loads(out)
            if answer_headers is not None:
                answer_headers.update({k.lower(): v for k, v in (answer.get("headers") or {}).items()})
            return int(answer.get("statusCode", 200)), answer.get("body", "")
        except (ValueError, AttributeError, TypeError):
            return 200, ""

    def serve(self, handler, query):
        """Runs one WebSocket session on a front door request (blocking its thread until the client leaves)."""
        key = handler.headers.get("Sec-WebSocket-Key")
        if not key or handler.headers.get("Upgrade", "").lower() != "websocket":
            return handler._send(400, [("Content-Type", "text/plain")], b"expected a WebSocket upgrade")
        cid = base64.b64encode(os.urandom(9)).decode().replace("/", "_").replace("+", "-")
        host = handler.headers.get("Host", "localhost")
        answered = {}
        status, body = self._route("$connect", "CONNECT", cid, host, query=query,
                                   headers={k: v for k, v in handler.headers.items()}, answer_headers=answered)
        selected = answered.get("sec-websocket-protocol")
        if status != 200:
            self.stats["refused"] += 1
            return handler._send(status if status >= 400 else 403, [("Content-Type", "text/plain")],
                                 (body or "connection refused").encode())
        handler.send_response(101, "Switching Protocols")
        handler.send_header("Upgrade", "websocket")
        handler.send_header("Connection", "Upgrade")
        handler.send_header("Sec-WebSocket-Accept", accept_key(key))
        if selected:  # API Gateway hands back the subprotocol the $connect route chose
            handler.send_header("Sec-WebSocket-Protocol", selected)
        handler.end_headers()
        handler.wfile.flush()
        handler.close_connection = True
        conn = Connection(cid, handler.rfile, handler.wfile, query, handler.client_address[0])
        with self.lock:
            self.connections[cid] = conn
            self.stats["connected"] += 1
        try:
            while (payload := conn.receive()) is not None:
                conn.last_active = time.time()
                text = payload.decode("utf-8", "replace")
                try:
                    action = json.loads(text).get("action")
                except (ValueError, AttributeError):
                    action = None
                route = action if action in ROUTES else "$default"
                self._route(route, "MESSAGE", cid, host, body=text)
        except Exception:  # noqa: BLE001 — a session that breaks in any way still ends with $disconnect
            pass
        if conn.failure is not None:
            with self.lock:
                self.stats["closed_on_garbage"] += 1
                self.stats["last_failure"] = conn.failure
        with self.lock:
            known = self.connections.pop(cid, None) is not None
        if known:
            self._route("$disconnect", "DISCONNECT", cid, host)

    # -- the management API the notifier calls
    def manage(self, method, cid, body):
        with self.lock:
            conn = self.connections.get(cid)
        if conn is None:
            self.stats["gone"] += 1
            return _error(410, "GoneException", f"connection {cid} is gone")
        if method == "DELETE":
            with self.lock:
                self.connections.pop(cid, None)
            try:
                conn.close(CloseCode.NORMAL_CLOSURE)
            except OSError:
                pass
            return 204, [], b""
        if method == "GET":
            return 200, [("Content-Type", "application/json")], json.dumps({
                "connectedAt": _iso(conn.connected_at), "lastActiveAt": _iso(conn.last_active),
                "identity": {"sourceIp": conn.source}}).encode()
        if method != "POST":
            return _error(405, "MethodNotAllowed", method)
        with self.lock:
            if self.throttle > 0:
                self.throttle -= 1
                self.stats["throttled"] += 1
                return _error(429, "LimitExceededException", "rate exceeded")
        if len(body) > MESSAGE_LIMIT:
            self.stats["too_large"] += 1
            return _error(413, "PayloadTooLargeException", f"message of {len(body)} bytes exceeds {MESSAGE_LIMIT}")
        try:
            conn.send(body)
        except (OSError, ConnectionError):
            with self.lock:
                self.connections.pop(cid, None)
            self.stats["gone"] += 1
            return _error(410, "GoneException", f"connection {cid} is gone")
        self.stats["posted"] += 1
        self.stats["max_message_bytes"] = max(self.stats["max_message_bytes"], len(body))
        self.stats["max_frame_bytes"] = max(self.stats["max_frame_bytes"], min(len(body), FRAME_LIMIT))
        return 200, [], b""

    def control(self, method, body):
        if method == "POST":
            req = json.loads(body or b"{}")
            with self.lock:
                if "throttle" in req:
                    self.throttle = int(req["throttle"])
                if "forget" in req:
                    self.connections.pop(req["forget"], None)
        with self.lock:
            out = dict(self.stats, connections=sorted(self.connections), throttle=self.throttle)
        return 200, [("Content-Type", "application/json")], json.dumps(out).encode()


def _iso(t):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def _error(status, code, message):
    return status, [("Content-Type", "application/json"), ("x-amzn-ErrorType", code)], \
        json.dumps({"message": message}).encode()
