"""The local Lambda service: the Invoke API for our functions, run by their real bootstraps (instances.py).

https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html
"""

import base64
import json
import os
import threading
import time
import urllib.parse

import chaos
import functions
from concurrency import ACCOUNT_CONCURRENCY, Concurrency
from instances import MAX_SYNC_PAYLOAD, TAIL_BYTES, FunctionPool, Invocation

MAX_EVENT_PAYLOAD = 1024 * 1024  # asynchronous (Event) invocations


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
        self.log_permission = lambda name: True  # the front door's IAM replaces it (logs:PutLogEvents)
        self.tokens = {}  # function name -> session tokens its instances were given (the front door checks them)
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
            # Credentials of the function's own (as Lambda gives its role's): a key per function, a session token
            # per instance, so the front door can tell whose call it is (chaos mode; IAM once it is enforced).
            "AWS_ACCESS_KEY_ID": chaos.function_key(fn.name),
            "AWS_SECRET_ACCESS_KEY": os.environ.get("AWS_SECRET_ACCESS_KEY", "test"),
            "AWS_SESSION_TOKEN": self._session_token(fn.name),
            "AWS_ENDPOINT_URL": self.endpoint,
            "LAMBDA_TASK_ROOT": self.bin_dir,
            "LAMBDA_RUNTIME_DIR": self.bin_dir,
            "_HANDLER": fn.executable,
        })
        if fn.log_level:
            env["AWS_LAMBDA_LOG_LEVEL"] = fn.log_level
        return env

    def _session_token(self, name):
        """A session token for one instance of function `name`; the front door accepts the function's key only
        with a token it handed out."""
        token = os.urandom(24).hex()
        self.tokens.setdefault(name, set()).add(token)
        return token

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
