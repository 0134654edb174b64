"""The local Lambda service and front door: Lambda Invoke API for our functions, everything else to moto.

https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html
"""

import base64
import http.client
import json
import os
import re
import socket
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import conflicts
import functions
from concurrency import ACCOUNT_CONCURRENCY, Concurrency
import gemini_standin
import sfn_rules
import websocket
from instances import MAX_SYNC_PAYLOAD, TAIL_BYTES, FunctionPool, Invocation

MAX_EVENT_PAYLOAD = 1024 * 1024  # asynchronous (Event) invocations
INVOKE_PATH = re.compile(r"^/2015-03-31/functions/([^/]+)/invocations$")
VIEWER = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "viewer", "index.html")
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "proxy-connection"}


class LambdaService:
    def __init__(self, function_dirs, bin_dir, log_dir, endpoint, region="us-east-1", account="123456789012",
                 max_instances=4, overrides=None, account_concurrency=ACCOUNT_CONCURRENCY):
        self.functions = {}
        for d in function_dirs:
            for name, fn in functions.load_dir(d).items():
                if name in self.functions:
                    raise functions.FunctionDefinitionError(f"{fn.path}: name: {name!r} is also defined in "
                                                            f"{self.functions[name].path}")
                self.functions[name] = fn
        self.bin_dir = os.path.abspath(bin_dir)
        self.log_dir = os.path.abspath(log_dir)
        os.makedirs(self.log_dir, exist_ok=True)
        self.endpoint = endpoint
        self.region = region
        self.account = account
        self.overrides = overrides or {}
        self.pools = {name: FunctionPool(self, fn, fn.max_instances or max_instances)
                      for name, fn in self.functions.items()}
        self.concurrency = Concurrency(account_concurrency, {n: fn.concurrency for n, fn in self.functions.items()})
        self._logs = {}
        self._logs_lock = threading.Lock()

    def binary_path(self, fn):
        return os.path.join(self.bin_dir, fn.executable)

    def log_for(self, name):
        with self._logs_lock:
            if name not in self._logs:
                self._logs[name] = open(os.path.join(self.log_dir, f"{name}.log"), "a", buffering=1)
            return self._logs[name]

    def instance_environment(self, fn, runtime_port):
        """What Lambda gives a provided.* runtime, plus the definition's defaults and local overrides."""
        env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "en_US.UTF-8", "TZ": ":UTC"}
        env.update(fn.defaults())
        env.update(fn.local_environment)
        env.update(self.overrides.get("*", {}))
        env.update(self.overrides.get(fn.name, {}))
        # local values may name this stack's own endpoint (queue URLs and the like): ${LocalEndpoint}
        env = {k: v.replace("${LocalEndpoint}", self.endpoint) for k, v in env.items()}
        env.update({
            "AWS_LAMBDA_RUNTIME_API": f"127.0.0.1:{runtime_port}",
            "AWS_LAMBDA_FUNCTION_NAME": fn.name,
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(fn.memory),
            "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{fn.name}",
            "AWS_LAMBDA_LOG_STREAM_NAME": f"local/{runtime_port}",
            "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
            "AWS_LAMBDA_LOG_FORMAT": fn.log_format,
            "AWS_REGION": self.region,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_ACCESS_KEY_ID": os.environ.get("AWS_ACCESS_KEY_ID", "test"),
            "AWS_SECRET_ACCESS_KEY": os.environ.get("AWS_SECRET_ACCESS_KEY", "test"),
            "AWS_ENDPOINT_URL": self.endpoint,
            "LAMBDA_TASK_ROOT": self.bin_dir,
            "LAMBDA_RUNTIME_DIR": self.bin_dir,
            "_HANDLER": fn.executable,
        })
        if fn.log_level:
            env["AWS_LAMBDA_LOG_LEVEL"] = fn.log_level
        return env

    def arn(self, name):
        return f"arn:aws:lambda:{self.region}:{self.account}:function:{name}"

    def invoke(self, identifier, payload, headers):
        """Returns (status, headers, body) for the Invoke API."""
        name = functions.name_from_identifier(urllib.parse.unquote(identifier))
        pool = self.pools.get(name)
        if pool is None:
            return _aws_error(404, "ResourceNotFoundException", f"Function not found: {self.arn(name)}")
        kind = headers.get("X-Amz-Invocation-Type", "RequestResponse")
        if kind not in ("RequestResponse", "Event", "DryRun"):
            return _aws_error(400, "InvalidParameterValueException", f"InvocationType {kind!r} is not valid")
        if kind == "DryRun":
            return 204, [], b""
        limit = MAX_EVENT_PAYLOAD if kind == "Event" else MAX_SYNC_PAYLOAD
        if len(payload) > limit:
            return _aws_error(413, "RequestTooLargeException",
                              f"Request must be smaller than {limit} bytes for the {kind} invocation type")
        if payload:
            try:
                json.loads(payload)
            except ValueError:
                return _aws_error(400, "InvalidRequestContentException", "Could not parse request body into json")
        arn = urllib.parse.unquote(identifier) if identifier.startswith("arn%3A") or identifier.startswith("arn:") \
            else self.arn(name)
        client_context = headers.get("X-Amz-Client-Context")
        if client_context:
            client_context = base64.b64decode(client_context).decode("utf-8", "replace")
        inv = Invocation(name, payload or b"{}", arn, headers.get("X-Amzn-Trace-Id") or _trace_id(), client_context,
                         tenant_id=headers.get("X-Amz-Tenant-Id"))
        if kind == "Event":  # Lambda queues asynchronous events and retries throttled ones itself
            threading.Thread(target=pool.invoke, args=(inv,), daemon=True).start()
            return 202, [], b""
        refusal = self.concurrency.enter(name)
        if refusal:
            return _aws_error(429, "TooManyRequestsException", refusal[1], Reason=refusal[0])
        try:
            pool.invoke(inv)
        finally:
            self.concurrency.leave(name)
        out = [("X-Amz-Executed-Version", "$LATEST"), ("Content-Type", "application/json")]
        if inv.error_type is not None:
            out.append(("X-Amz-Function-Error", "Unhandled"))
        if headers.get("X-Amz-Log-Type") == "Tail":
            inv.instance.drain_logs()
            tail = "\n".join(inv.log_lines).encode()[-TAIL_BYTES:]
            out.append(("X-Amz-Log-Result", base64.b64encode(tail).decode()))
        return 200, out, inv.body

    def describe(self):
        return {name: {**self.functions[name].to_json(), **pool.describe(),
                       "running": self.concurrency.running.get(name, 0)} for name, pool in self.pools.items()}

    def stop(self):
        for pool in self.pools.values():
            pool.stop()


def _trace_id():
    return f"Root=1-{int(time.time()):08x}-{os.urandom(12).hex()};Parent={os.urandom(8).hex()};Sampled=0"


def _aws_error(status, code, message, **extra):
    body = json.dumps({"Type": "User", "message": message, "__type": code, **extra}).encode()
    return status, [("X-Amzn-ErrorType", code), ("Content-Type", "application/json")], body


class FrontDoor(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128

    def __init__(self, address, service, moto_address, moto_ready):
        self.service = service
        self.moto_address = moto_address
        self.moto_ready = moto_ready
        self.local = threading.local()
        self.gemini = gemini_standin.GeminiStandIn()
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


class FrontDoorHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def setup(self):
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, *args):
        pass

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
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        # A HEAD answer carries the length of the body a GET would return.
        length = head_length if self.command == "HEAD" and head_length is not None else len(body)
        self.send_header("Content-Length", str(length))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _handle(self):
        body = self._read_body()
        path = self.path.split("?", 1)[0]
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
            return self._send(*self.server.websocket.manage(self.command, conn_id, body))
        if path == "/_analemma/websocket":
            return self._send(*self.server.websocket.control(self.command, body))
        if path in ("/viewer", "/viewer/") and self.command == "GET":
            with open(VIEWER, "rb") as f:
                return self._send(200, [("Content-Type", "text/html; charset=utf-8"), ("Cache-Control", "no-store")], f.read())
        answer = self.server.gemini.handle(self.command, path, self.headers, body)
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
