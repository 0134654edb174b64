"""Conflicts AWS has and moto never shows, decided at the front door from the requests in flight.

moto applies DynamoDB item operations one at a time (its store is not thread-safe: moto_patches.py), so on its own a
transaction never meets another. The front door sees every request from receipt to answer and applies AWS's
documented rules to those in flight:

- DynamoDB (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/transaction-apis.html#transaction-conflict-handling):
  a PutItem, UpdateItem or DeleteItem of an item an ongoing TransactWriteItems includes → 400
  TransactionConflictException; a TransactWriteItems with an item another ongoing TransactWriteItems includes →
  TransactionCanceledException, reason `TransactionConflict` for that item; a TransactGetItems with an item an ongoing
  TransactWriteItems, BatchWriteItem, PutItem, UpdateItem or DeleteItem includes → TransactionCanceledException.
- S3 (https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-writes.html): a conditional PUT
  (`If-None-Match`/`If-Match`) of a key another write is uploading → 409 ConditionalRequestConflict (retry it).

Tests make races deterministic with holds: `POST /_analemma/holds {"service": "s3"|"dynamodb", "operation": …,
"match": "<substring of the key or body>"}` holds the next matching request open (registered as in flight) until
`POST /_analemma/holds {"release": id}`; `GET /_analemma/holds` says whether it was reached.
"""

import json
import threading
import urllib.parse

DDB_PREFIX = "DynamoDB_20120810."
HOLD_SAFETY_SECONDS = 120  # a hold a test forgot to release ends by itself


class Hold:
    def __init__(self, hid, service, operation, match):
        self.id, self.service, self.operation, self.match = hid, service, operation, match
        self.reached = threading.Event()
        self.released = threading.Event()

    def matches(self, service, operation, text):
        return (not self.reached.is_set() and self.service == service and self.operation in (None, operation)
                and (self.match or "") in text)

    def to_json(self):
        return {"id": self.id, "service": self.service, "operation": self.operation, "match": self.match,
                "reached": self.reached.is_set(), "released": self.released.is_set()}


class Conflicts:
    def __init__(self):
        self.lock = threading.Lock()
        self.key_names = {}  # table → its key attribute names (learned from CreateTable as it passes)
        self.writing = {}  # (table, key) → in-flight TransactWriteItems touching it
        self.single = {}  # (table, key) → in-flight PutItem/UpdateItem/DeleteItem/BatchWriteItem
        self.uploads = {}  # (bucket, key) → in-flight S3 writes
        self.holds, self.next_hold = [], 1
        self.stats = {"transaction_conflicts": 0, "transactions_cancelled": 0, "s3_conflicts": 0, "holds_reached": 0}

    # -- the front door's two calls: admit before proxying (a refusal, or a release to call after), learn after
    def admit(self, command, path, headers, body):
        """(refusal, release): refusal is (status, headers, body) to answer instead; release() ends the request."""
        target = headers.get("X-Amz-Target") or ""
        if target.startswith(DDB_PREFIX):
            return self._dynamodb(target[len(DDB_PREFIX):], body)
        if command == "PUT" and "/_analemma/" not in path and not headers.get("X-Amz-Target"):
            return self._s3_put(path, headers)
        return None, _nothing

    def learn(self, headers, body):
        if headers.get("X-Amz-Target") == DDB_PREFIX + "CreateTable":
            try:
                req = json.loads(body)
                with self.lock:
                    self.key_names[req["TableName"]] = [k["AttributeName"] for k in req["KeySchema"]]
            except (ValueError, KeyError, TypeError):
                pass

    # -- DynamoDB
    def _key(self, table, item):
        names = self.key_names.get(table) or [n for n in ("pk", "sk") if n in item] or sorted(item)
        return table, json.dumps({n: item.get(n) for n in names}, sort_keys=True)

    def _items(self, operation, req):
        if operation in ("PutItem",):
            return [self._key(req.get("TableName"), req.get("Item") or {})]
        if operation in ("UpdateItem", "DeleteItem"):
            return [self._key(req.get("TableName"), req.get("Key") or {})]
        if operation == "TransactWriteItems":
            out = []
            for action in req.get("TransactItems") or []:
                for kind, spec in action.items():
                    out.append(self._key(spec.get("TableName"), spec.get("Item") if kind == "Put" else spec.get("Key") or {}))
            return out
        if operation == "TransactGetItems":
            return [self._key(a["Get"].get("TableName"), a["Get"].get("Key") or {}) for a in req.get("TransactItems") or []
                    if isinstance(a, dict) and "Get" in a]
        if operation == "BatchWriteItem":
            out = []
            for table, writes in (req.get("RequestItems") or {}).items():
                for w in writes:
                    if "PutRequest" in w:
                        out.append(self._key(table, w["PutRequest"].get("Item") or {}))
                    elif "DeleteRequest" in w:
                        out.append(self._key(table, w["DeleteRequest"].get("Key") or {}))
            return out
        return []

    def _dynamodb(self, operation, body):
        try:
            items = self._items(operation, json.loads(body or b"{}"))
        except (ValueError, AttributeError, TypeError, KeyError):
            return None, _nothing  # moto answers malformed requests itself
        if not items:
            return None, _nothing
        with self.lock:
            if operation in ("PutItem", "UpdateItem", "DeleteItem") and any(i in self.writing for i in items):
                self.stats["transaction_conflicts"] += 1
                return _ddb_error("TransactionConflictException", "Operation was rejected because there is an ongoing "
                                  "transaction for the item."), _nothing
            busy = self.writing if operation == "TransactWriteItems" else \
                {**self.writing, **self.single} if operation == "TransactGetItems" else {}
            if any(i in busy for i in items):
                self.stats["transactions_cancelled"] += 1
                reasons = [{"Code": "TransactionConflict", "Message": "Transaction is ongoing for the item"} if i in busy
                           else {"Code": "None"} for i in items]
                codes = ", ".join(r["Code"] for r in reasons)
                return _ddb_error("TransactionCanceledException", f"Transaction cancelled, please refer cancellation "
                                  f"reasons for specific reasons [{codes}]", CancellationReasons=reasons), _nothing
            table = self.writing if operation == "TransactWriteItems" else self.single if operation != "TransactGetItems" \
                else None
            if table is not None:
                for i in items:
                    table[i] = table.get(i, 0) + 1
            hold = self._take_hold("dynamodb", operation, body.decode("utf-8", "replace"))

        def release():
            with self.lock:
                if table is not None:
                    for i in items:
                        table[i] -= 1
                        if not table[i]:
                            del table[i]
        return None, self._waiting(hold, release)

    # -- S3
    def _s3_put(self, path, headers):
        parts = urllib.parse.unquote(path.split("?", 1)[0]).lstrip("/").split("/", 1)
        if len(parts) != 2 or not parts[1]:
            return None, _nothing
        key = (parts[0], parts[1])
        conditional = bool(headers.get("If-None-Match") or headers.get("If-Match"))
        with self.lock:
            if conditional and key in self.uploads:
                self.stats["s3_conflicts"] += 1
                return (409, [("Content-Type", "application/xml")], (
                    "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>ConditionalRequestConflict</Code><Message>"
                    "A conflicting conditional operation is currently in progress against this resource. Please try "
                    f"again.</Message><Key>{key[1]}</Key></Error>").encode()), _nothing
            self.uploads[key] = self.uploads.get(key, 0) + 1
            hold = self._take_hold("s3", "PutObject", "/".join(key))

        def release():
            with self.lock:
                self.uploads[key] -= 1
                if not self.uploads[key]:
                    del self.uploads[key]
        return None, self._waiting(hold, release)

    # -- holds
    def _take_hold(self, service, operation, text):
        for h in self.holds:
            if h.matches(service, operation, text):
                h.reached.set()
                self.stats["holds_reached"] += 1
                return h
        return None

    @staticmethod
    def _waiting(hold, release):
        if hold is None:
            return release
        hold.released.wait(HOLD_SAFETY_SECONDS)  # held open here, in flight, until the test releases it
        return release

    def control(self, method, body):
        if method == "POST":
            req = json.loads(body or b"{}")
            with self.lock:
                if "release" in req:
                    for h in self.holds:
                        if h.id == req["release"]:
                            h.released.set()
                    return 200, [("Content-Type", "application/json")], b"{}"
                h = Hold(self.next_hold, req.get("service"), req.get("operation"), req.get("match"))
                self.next_hold += 1
                self.holds.append(h)
                return 200, [("Content-Type", "application/json")], json.dumps(h.to_json()).encode()
        with self.lock:
            out = {"holds": [h.to_json() for h in self.holds], **self.stats}
        return 200, [("Content-Type", "application/json")], json.dumps(out).encode()


def _nothing():
    pass


def _ddb_error(code, message, **extra):
    return 400, [("Content-Type", "application/x-amz-json-1.0")], \
        json.dumps({"__type": f"com.amazonaws.dynamodb.v20120810#{code}", "message": message, **extra}).encode()
