"""The local API Gateway WebSocket API: accepts WebSocket clients on the front door (`GET /ws`), invokes the
websocket-notifier's route handlers the way API Gateway does ($connect with the query string, messages routed on
`$request.body.action`, $disconnect), and serves the management API (`POST/GET/DELETE /@connections/{id}`) the
notifier posts to — 128 KB per message (413 above), 410 for a connection that is gone, sent in ≤32 KB frames.

https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-websocket-api-overview.html
Control (tests): GET /_analemma/websocket → stats; POST {"throttle": N} (next N posts get 429),
{"forget": ID} (drop a connection without $disconnect, as a client that vanished).
"""

import base64
import hashlib
import json
import os
import struct
import threading
import time

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
MESSAGE_LIMIT = 128 * 1024
FRAME_LIMIT = 32 * 1024
ROUTES = {"subscribe"}  # route selection expression: $request.body.action


def accept_key(key):
    return base64.b64encode(hashlib.sha1(key.encode() + GUID).digest()).decode()


def encode_frame(opcode, payload, fin=True, mask=False):
    head = bytes([(0x80 if fin else 0) | opcode])
    n = len(payload)
    m = 0x80 if mask else 0
    if n < 126:
        head += bytes([m | n])
    elif n < 65536:
        head += bytes([m | 126]) + struct.pack("!H", n)
    else:
        head += bytes([m | 127]) + struct.pack("!Q", n)
    if mask:
        key = os.urandom(4)
        payload = bytes(b ^ key[i % 4] for i, b in enumerate(payload))
        head += key
    return head + payload


def read_exact(rfile, n):
    data = b""
    while len(data) < n:
        chunk = rfile.read(n - len(data))
        if not chunk:
            raise ConnectionError("connection closed")
        data += chunk
    return data


def read_frame(rfile):
    """(fin, opcode, payload) of one frame, unmasking if needed."""
    b0, b1 = read_exact(rfile, 2)
    n = b1 & 0x7F
    if n == 126:
        n = struct.unpack("!H", read_exact(rfile, 2))[0]
    elif n == 127:
        n = struct.unpack("!Q", read_exact(rfile, 8))[0]
    key = read_exact(rfile, 4) if b1 & 0x80 else None
    payload = read_exact(rfile, n)
    if key:
        payload = bytes(b ^ key[i % 4] for i, b in enumerate(payload))
    return bool(b0 & 0x80), b0 & 0x0F, payload


def read_message(rfile, on_control=None):
    """One whole message (fragments joined): (opcode, payload); control frames go to on_control."""
    parts, first = [], None
    while True:
        fin, opcode, payload = read_frame(rfile)
        if opcode >= 0x8:
            if on_control is None or on_control(opcode, payload):
                return opcode, payload
            continue
        if first is None:
            first = opcode
        parts.append(payload)
        if fin:
            return first, b"".join(parts)


class Connection:
    def __init__(self, cid, wfile, query, source):
        self.id, self.wfile, self.query, self.source = cid, wfile, query, source
        self.lock = threading.Lock()
        self.connected_at = time.time()
        self.last_active = time.time()

    def send(self, data, opcode=0x1):
        """A message as ≤32 KB frames (a text message split into continuation frames, as API Gateway does)."""
        with self.lock:
            chunks = [data[i:i + FRAME_LIMIT] for i in range(0, len(data), FRAME_LIMIT)] or [b""]
            for i, chunk in enumerate(chunks):
                self.wfile.write(encode_frame(opcode if i == 0 else 0x0, chunk, fin=i == len(chunks) - 1))
            self.wfile.flush()


class WebSocketGateway:
    def __init__(self, service, function="websocket-notifier", stage="local"):
        self.service, self.function, self.stage = service, function, stage
        self.connections = {}
        self.lock = threading.Lock()
        self.throttle = 0
        self.stats = {"connected": 0, "refused": 0, "posted": 0, "gone": 0, "throttled": 0, "too_large": 0,
                      "max_message_bytes": 0, "max_frame_bytes": 0}

    # -- the API Gateway side: invoking the route handlers
    def _route(self, route, event_type, conn_id, host, body=None, query=None, headers=None):
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
        status, body = self._route("$connect", "CONNECT", cid, host, query=query,
                                   headers={k: v for k, v in handler.headers.items()})
        if status != 200:
            self.stats["refused"] += 1
            return handler._send(status if status >= 400 else 403, [("Content-Type", "text/plain")],
                                 (body or "connection refused").encode())
        handler.send_response(101, "Switching Protocols")
        handler.send_header("Upgrade", "websocket")
        handler.send_header("Connection", "Upgrade")
        handler.send_header("Sec-WebSocket-Accept", accept_key(key))
        handler.end_headers()
        handler.wfile.flush()
        handler.close_connection = True
        conn = Connection(cid, handler.wfile, query, handler.client_address[0])
        with self.lock:
            self.connections[cid] = conn
            self.stats["connected"] += 1

        def control(opcode, payload):
            if opcode == 0x9:
                conn.send(payload, opcode=0xA)
                return False
            return opcode == 0x8

        try:
            while True:
                opcode, payload = read_message(handler.rfile, control)
                if opcode == 0x8:
                    try:
                        conn.send(payload[:2], opcode=0x8)
                    except OSError:
                        pass
                    break
                conn.last_active = time.time()
                text = payload.decode("utf-8", "replace")
                try:
                    action = json.loads(text).get("action")
                except (ValueError, AttributeError):
                    action = None
                route = action if action in ROUTES else "$default"
                self._route(route, "MESSAGE", cid, host, body=text)
        except (ConnectionError, OSError, ValueError):
            pass
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
                conn.send(b"\x03\xe8", opcode=0x8)
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
        except OSError:
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
