"""Chaos mode (`stack.py up --chaos RATE[,SEED]`): the errors AWS documents, injected into a fraction of the calls
the product makes — the functions' own S3, DynamoDB, SQS, Step Functions and API Gateway calls (each function signs
with its own access key) and the state machine's Lambda invokes (the interpreter's key). The state machine's
ItemReader/ResultWriter S3 calls are Step Functions' own on AWS (it retries them inside the service), and the test
harness's calls are not the product's: neither is touched.

Each decision is a hash of (seed, operation, request identity, attempt): the attempt is how many times this exact
request was seen, so a retried request meets a new decision, and concurrent workers sending the same requests
replay the same faults. Faults, as the AWS docs list them for each service:

- throttling: DynamoDB 400 `ThrottlingException`, S3 503 `SlowDown`, SQS 400 `RequestThrottled`, Step Functions 400
  `ThrottlingException`, Lambda 429 `TooManyRequestsException`, API Gateway 429 `LimitExceededException`;
- a server error: 500 (`InternalServerError`, `InternalError`, `ServiceException`);
- a reset: the connection closes before the request reaches the service;
- a lost answer: the request is applied, then the connection closes (the caller cannot tell it happened).
  The state machine's Lambda invokes are not TCP calls on AWS, so there both arrive as Step Functions reports a
  broken Lambda service: 500 `ServiceException` — before the function ran (reset) or after it ran (lost answer).

Control: `GET /_analemma/chaos` → figures; `POST {"rate": R}` changes the rate (0 turns it off).
"""

import hashlib
import json
import os
import re
import threading
import uuid

INTERPRETER_KEY = "ak"  # moto_patches.original_with_pool
CREDENTIAL = re.compile(r"Credential=([^/,\s]+)/")
KINDS = ("throttle", "server_error", "reset", "lost_answer")


def function_key(name):
    """The access key the local Lambda service gives a function's instances (each function its own)."""
    return "ASIA" + hashlib.sha256(name.encode()).hexdigest()[:16].upper()


class Chaos:
    def __init__(self, spec, functions):
        rate, _, seed = (spec or "0").partition(",")
        self.rate, self.seed = float(rate), seed or "0"
        if not 0 <= self.rate <= 1:
            raise ValueError(f"--chaos rate must be between 0 and 1, got {rate}")
        self.callers = {function_key(n): n for n in functions} | {INTERPRETER_KEY: "state-machine"}
        self.lock = threading.Lock()
        self.seen = {}
        self.figures = {"calls": 0, "faults": 0, **{k: 0 for k in KINDS}, "by_service": {}}

    def decide(self, command, path, headers, body):
        """None (pass the call on) or (kind, service, answer): answer is what to send instead of (reset) or after
        (lost_answer) applying the request — (status, headers, body), or None to close the connection."""
        if self.rate <= 0:
            return None
        caller = self.callers.get(access_key(headers.get("Authorization", "")))
        if caller is None:
            return None
        service, operation, identity = _classify(command, path, headers, body)
        if caller == "state-machine" and service != "lambda":
            return None
        with self.lock:
            attempt = self.seen.get((operation, identity), 0)
            self.seen[(operation, identity)] = attempt + 1
            self.figures["calls"] += 1
        digest = hashlib.sha256(f"{self.seed}|{operation}|{identity}|{attempt}".encode()).digest()
        if int.from_bytes(digest[:8], "big") / 2 ** 64 >= self.rate:
            return None
        kind = KINDS[digest[8] % len(KINDS)]
        with self.lock:
            self.figures["faults"] += 1
            self.figures[kind] += 1
            by = self.figures["by_service"].setdefault(service, {k: 0 for k in KINDS})
            by[kind] += 1
        return kind, service, _answer(kind, service)

    def control(self, method, body):
        if method == "POST":
            req = json.loads(body or b"{}")
            if "rate" in req:
                self.rate = float(req["rate"])
        with self.lock:
            out = {"rate": self.rate, "seed": self.seed, **json.loads(json.dumps(self.figures))}
        return 200, [("Content-Type", "application/json")], json.dumps(out).encode()


WRITES = {
    "s3": {"PUT", "POST", "DELETE"},
    "dynamodb": {"DynamoDB_20120810." + op for op in ("PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem",
                                                        "TransactWriteItems")},
    "sqs": {"AmazonSQS." + op for op in ("SendMessage", "SendMessageBatch", "DeleteMessage", "DeleteMessageBatch")},
    "stepfunctions": {"AWSStepFunctions." + op for op in ("StartExecution", "SendTaskSuccess", "SendTaskFailure",
                                                          "SendTaskHeartbeat", "StopExecution")},
    "apigateway": {"POST @connections", "DELETE @connections"},
}


class Ledger:
    """Every accepted call that changes state, counted per caller (function) and service: `GET /_analemma/writes`. A test
    holds a refused invocation to "no write at all", SQS and API Gateway included, not only to what S3 and DynamoDB
    hold afterwards."""

    def __init__(self, functions):
        self.callers = {function_key(n): n for n in functions} | {INTERPRETER_KEY: "state-machine"}
        self.lock = threading.Lock()
        self.counts = {}

    def record(self, command, path, headers, body, status):
        """After the service answered: a write it accepted (2xx) is counted."""
        caller = self.callers.get(access_key(headers.get("Authorization", "")))
        if caller is None or not isinstance(status, int) or not 200 <= status < 300:
            return
        service, operation, _ = _classify(command, path, headers, body)
        if operation in WRITES.get(service, ()):
            with self.lock:
                by = self.counts.setdefault(caller, {})
                by[service] = by.get(service, 0) + 1

    def control(self):
        with self.lock:
            return 200, [("Content-Type", "application/json")], json.dumps(self.counts).encode()


def access_key(authorization):
    """The access key id a SigV4 Authorization header names."""
    m = CREDENTIAL.search(authorization)
    return m.group(1) if m else None


def _classify(command, path, headers, body):
    """(service, operation, identity) of a request."""
    target = headers.get("X-Amz-Target") or ""
    digest = hashlib.sha256(body or b"").hexdigest()[:16]
    if path.startswith("/2015-03-31/functions/"):
        return "lambda", "Invoke", f"{path}|{digest}"
    if path.startswith("/@connections/"):
        return "apigateway", f"{command} @connections", f"{path}|{digest}"
    if target.startswith("DynamoDB_"):
        return "dynamodb", target, digest
    if target.startswith("AmazonSQS"):
        return "sqs", target, digest
    if target.startswith("AWSStepFunctions"):
        return "stepfunctions", target, digest
    return "s3", command, f"{path}|{headers.get('Range', '')}|{digest}"


THROTTLE = {
    "dynamodb": (400, "application/x-amz-json-1.0", "com.amazonaws.dynamodb.v20120810#ThrottlingException", "Rate exceeded"),
    "sqs": (400, "application/x-amz-json-1.0", "AWS.SimpleQueueService.RequestThrottled", "Request is throttled"),
    "stepfunctions": (400, "application/x-amz-json-1.0", "ThrottlingException", "Rate exceeded"),
    "lambda": (429, "application/json", "TooManyRequestsException", "Rate Exceeded."),
    "apigateway": (429, "application/json", "LimitExceededException", "Rate exceeded"),
}
SERVER = {
    "dynamodb": (500, "application/x-amz-json-1.0", "com.amazonaws.dynamodb.v20120810#InternalServerError", "Internal server error"),
    "sqs": (500, "application/x-amz-json-1.0", "InternalError", "We encountered an internal error."),
    "stepfunctions": (500, "application/x-amz-json-1.0", "InternalServerError", "Internal error"),
    "lambda": (500, "application/json", "ServiceException", "Lambda encountered an internal error."),
    "apigateway": (500, "application/json", "InternalServerErrorException", "Internal server error"),
}


def _answer(kind, service):
    if service == "lambda" and kind in ("reset", "lost_answer"):
        kind = "server_error"
    elif kind in ("reset", "lost_answer"):
        return None
    if service == "s3":
        code, status = ("SlowDown", 503) if kind == "throttle" else ("InternalError", 500)
        request_id = os.urandom(8).hex().upper()
        body = (f"<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>{code}</Code><Message>chaos</Message>"
                f"<RequestId>{request_id}</RequestId></Error>")
        return status, [("Content-Type", "application/xml"), ("x-amz-request-id", request_id)], body.encode()
    status, content_type, code, message = (THROTTLE if kind == "throttle" else SERVER)[service]
    short = code.split("#")[-1]
    headers = [("Content-Type", content_type), ("X-Amzn-ErrorType", short), ("x-amzn-RequestId", str(uuid.uuid4()))]
    return status, headers, json.dumps({"__type": code, "message": message}).encode()
