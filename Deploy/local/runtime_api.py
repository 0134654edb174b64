"""The Lambda Runtime API as one execution environment sees it (https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html):
`GET /invocation/next` (long poll), `POST /invocation/{id}/response|error`, `POST /init/error`. One implementation,
served per instance by the local Lambda service (`instances.py`) and per check by `Deploy/compat_check.py`; what an
environment does with each call is its backend's business.

A backend has:
  next_invocation() -> an invocation (id, payload, deadline_ms, arn, trace_id, client_context, cognito_identity,
                       tenant_id) or None when the environment is shutting down;
  post_outcome(request_id, body, error_type) -> (status, reply): error_type None for a response;
  post_init_error(body, error_type) -> (status, reply).
Standard library only (compat_check runs outside the stack's virtualenv).
"""

import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

BASE = "/2018-06-01/runtime"


class RuntimeAPIServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass  # a bootstrap killed while long-polling /next: expected


def serve(backend, host="127.0.0.1", name="rapi"):
    """Starts a Runtime API server for `backend` on an ephemeral port; returns the server (its port:
    `server.server_address[1]`; stop it with `shutdown()`)."""
    server = RuntimeAPIServer((host, 0), _handler(backend))
    threading.Thread(target=server.serve_forever, daemon=True, name=name).start()
    return server


def error_body(body, error_type):
    """The error document as the invoker will see it; a malformed one is wrapped, never lost."""
    try:
        doc = json.loads(body or b"{}")
        if isinstance(doc, dict):
            doc.setdefault("errorType", error_type or "Runtime.Unknown")
            doc.setdefault("errorMessage", "")
            return json.dumps(doc).encode()
    except ValueError:
        pass
    return json.dumps({"errorMessage": body.decode("utf-8", "replace"), "errorType": error_type or "Runtime.Unknown"}).encode()


class LoopbackHandler(BaseHTTPRequestHandler):
    """HTTP/1.1 keep-alive, no Nagle delay, no access log: the local stack's request handlers."""

    protocol_version = "HTTP/1.1"

    def setup(self):
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, *args):
        pass


def _handler(backend):
    class Handler(LoopbackHandler):
        def _reply(self, status, payload, headers=()):
            body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
            self.send_response(status)
            for k, v in headers:
                self.send_header(k, v)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _body(self):
            return self.rfile.read(int(self.headers.get("Content-Length", "0")))

        def do_GET(self):
            if self.path != BASE + "/invocation/next":
                return self._reply(404, {"errorMessage": f"unknown path {self.path}", "errorType": "NotFound"})
            inv = backend.next_invocation()
            if inv is None:
                return self._reply(500, {"errorMessage": "environment is shutting down", "errorType": "ShutDown"})
            headers = [("Lambda-Runtime-Aws-Request-Id", inv.id), ("Lambda-Runtime-Deadline-Ms", str(inv.deadline_ms)),
                       ("Lambda-Runtime-Invoked-Function-Arn", inv.arn), ("Lambda-Runtime-Trace-Id", inv.trace_id)]
            for name, value in (("Lambda-Runtime-Client-Context", inv.client_context),
                                ("Lambda-Runtime-Cognito-Identity", inv.cognito_identity),
                                ("Lambda-Runtime-Aws-Tenant-Id", inv.tenant_id)):
                if value:
                    headers.append((name, value))
            self._reply(200, inv.payload, headers)

        def do_POST(self):
            body = self._body()
            error_type = self.headers.get("Lambda-Runtime-Function-Error-Type")
            if self.path == BASE + "/init/error":
                return self._reply(*backend.post_init_error(error_body(body, error_type), error_type))
            parts = self.path[len(BASE):].split("/")  # ['', 'invocation', id, 'response'|'error']
            if self.path.startswith(BASE + "/invocation/") and len(parts) == 4 and parts[3] in ("response", "error"):
                if parts[3] == "response":
                    return self._reply(*backend.post_outcome(parts[2], body, None))
                payload = error_body(body, error_type)
                kind = error_type or json.loads(payload).get("errorType") or "Runtime.Unknown"
                return self._reply(*backend.post_outcome(parts[2], payload, kind))
            self._reply(404, {"errorMessage": f"unknown path {self.path}", "errorType": "NotFound"})

    return Handler
