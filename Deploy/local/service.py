"""The local front door: the Lambda Invoke API (lambda_service.py), the WebSocket API, the Gemini stand-in and test
controls; everything else to moto, through the rules AWS has and moto lacks (conflicts, sfn_rules, chaos)."""

import http.client
import json
import os
import re
import socket
import threading
import urllib.parse
from http.server import ThreadingHTTPServer

import chaos
import conflicts
import gemini_standin
import otlp_collector
import iam
import sfn_rules
import websocket
from runtime_api import LoopbackHandler

INVOKE_PATH = re.compile(r"^/2015-03-31/functions/([^/]+)/invocations$")
VIEWER = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "viewer", "index.html")
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "proxy-connection"}


class FrontDoor(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128

    def __init__(self, address, service, moto_address, moto_ready, chaos_spec=None, enforce_iam=True, phoenix=None):
        self.service = service
        self.iam = iam.Iam(service.functions, service.tokens) if enforce_iam else None
        if self.iam:
            service.log_permission = self.iam.may_log
        self.chaos = chaos.Chaos(chaos_spec, service.functions)
        self.ledger = chaos.Ledger(service.functions)
        self.moto_address = moto_address
        self.moto_ready = moto_ready
        self.local = threading.local()
        self.gemini = gemini_standin.GeminiStandIn()
        self.otlp = otlp_collector.Collector(forward=phoenix)
        self.websocket = websocket.WebSocketGateway(service)
        self.conflicts = conflicts.Conflicts()
        self.sfn_rules = sfn_rules.StepFunctionsRules()
        super().__init__(address, FrontDoorHandler)

    def moto_connection(self, fresh=False):
        conn = getattr(self.local, "conn", None)
        if conn is None or fresh:
            if conn is not None:
                conn.close()
            conn = http.client.HTTPConnection(*self.moto_address, timeout=600)
            self.local.conn = conn
        return conn


class FrontDoorHandler(LoopbackHandler):

    def _read_body(self):
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        return self.rfile.read(int(self.headers.get("Content-Length", "0")))

    def _send(self, status, headers, body, head_length=None):
        lost, self.lost_answer = getattr(self, "lost_answer", None), None
        if lost is not None:  # chaos: the request was applied; its answer never arrives (or an error does)
            return self._reset() if lost == "reset" else self._send(*lost)
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        # A HEAD answer carries the length of the body a GET would return.
        length = head_length if self.command == "HEAD" and head_length is not None else len(body)
        self.send_header("Content-Length", str(length))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _reset(self):
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def _handle(self):
        body = self._read_body()
        path = self.path.split("?", 1)[0]
        if path == "/_analemma/chaos":
            return self._send(*self.server.chaos.control(self.command, body))
        if path == "/_analemma/writes":
            return self._send(*self.server.ledger.control())
        if path.startswith("/_analemma/iam"):
            if not self.server.iam:  # said explicitly, so that a failed check is never mistaken for "no IAM here"
                return self._send(200, [("Content-Type", "application/json")], b'{"enforced": false}')
            return self._send(*self.server.iam.control(self.command, path, body))
        if self.server.iam:
            query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(self.path).query, keep_blank_values=True))
            refusal = self.server.iam.authorize(self.command, path, query, self.headers, body)
            if refusal:
                return self._send(*refusal)
        fault = self.server.chaos.decide(self.command, path, self.headers, body)
        if fault:
            kind, _, answer = fault
            if kind != "lost_answer":
                return self._reset() if answer is None else self._send(*answer)
            self.lost_answer = answer or "reset"  # applied below; what the caller gets instead of the answer
        match = INVOKE_PATH.match(path)
        if match and self.command == "POST":
            return self._send(*self.server.service.invoke(match.group(1), body, self.headers))
        refusal = self.server.sfn_rules.admit(self.headers, body)
        if refusal:
            return self._send(400, [("Content-Type", "application/x-amz-json-1.0")], refusal)
        if path == "/_analemma/health":
            ok = self.server.moto_ready.is_set()
            return self._send(200 if ok else 503, [("Content-Type", "application/json")],
                              json.dumps({"moto": ok, "functions": sorted(self.server.service.functions)}).encode())
        if path == "/ws" and self.command == "GET":
            query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(self.path).query))
            return self.server.websocket.serve(self, query)
        if path.startswith("/@connections/"):
            conn_id = urllib.parse.unquote(path[len("/@connections/"):])
            answer = self.server.websocket.manage(self.command, conn_id, body)
            self.server.ledger.record(self.command, path, self.headers, body, answer[0])
            return self._send(*answer)
        if path == "/_analemma/websocket":
            return self._send(*self.server.websocket.control(self.command, body))
        if path in ("/viewer", "/viewer/") and self.command == "GET":
            with open(VIEWER, "rb") as f:
                return self._send(200, [("Content-Type", "text/html; charset=utf-8"), ("Cache-Control", "no-store")], f.read())
        answer = self.server.gemini.handle(self.command, path, self.headers, body)
        if answer:
            return self._send(*answer)
        answer = self.server.otlp.handle(self.command, path, self.headers, body)
        if answer:
            return self._send(*answer)
        if path == "/_analemma/kills" and self.command == "POST":  # test fault plan: SIGKILL instances mid-invocation
            req = json.loads(body or b"{}")
            pool = self.server.service.pools.get(req.get("function", ""))
            if pool is None:
                return self._send(404, [("Content-Type", "application/json")], b'{"error": "no such function"}')
            killed = pool.plan_kills(req.get("plan"))
            return self._send(200, [("Content-Type", "application/json")], json.dumps({"killed": killed}).encode())
        if path == "/_analemma/functions":
            return self._send(200, [("Content-Type", "application/json")],
                              json.dumps(self.server.service.describe()).encode())
        if path == "/_analemma/holds":
            return self._send(*self.server.conflicts.control(self.command, body))
        refusal, release = self.server.conflicts.admit(self.command, path, self.headers, body)
        if refusal:
            return self._send(*refusal)
        try:
            status = self._proxy(body)
        finally:
            release()
        self.server.conflicts.learn(self.headers, body)
        self.server.sfn_rules.learn(self.headers, body, status)
        self.server.ledger.record(self.command, path, self.headers, body, status)

    def _proxy(self, body):
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
        if body or self.command in ("POST", "PUT", "PATCH"):
            headers["Content-Length"] = str(len(body))
        for attempt in (0, 1):
            conn = self.server.moto_connection(fresh=attempt == 1)
            try:
                conn.request(self.command, self.path, body=body, headers=headers)
                resp = conn.getresponse()
                data = resp.read()
                break
            except (http.client.HTTPException, ConnectionError, OSError):
                if attempt == 1:
                    return self._send(502, [("Content-Type", "text/plain")], b"local stack: moto is not answering")
        out = [(k, v) for k, v in resp.getheaders() if k.lower() not in HOP_BY_HOP | {"content-length"}]
        self._send(resp.status, out, data, head_length=resp.getheader("Content-Length"))
        return resp.status

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = _handle
