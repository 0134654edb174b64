"""A local OpenTelemetry collector for the stack: OTLP/HTTP with protobuf encoding, decoded with the project's own
generated classes (`opentelemetry-proto`, the reference definitions), so a body a real collector could not parse is
refused here too (400), and JSON or another content type is 415, as collectors answer. With `forward` set (the stack's
`--phoenix`), every accepted body is also sent, byte for byte, to a real collector (Arize Phoenix) - the fan-out an
OpenTelemetry Collector does with two exporters - so tests read the same spans back from a product teams run.

  POST   /_analemma/otlp/v1/traces   ExportTraceServiceRequest (application/x-protobuf) -> ExportTraceServiceResponse
  GET    /_analemma/otlp             the spans received (hex ids, names, kinds, times, attributes, status, resource),
                                     and where they were forwarded: {"forward": url, "forwarded": n, "forward_errors": [...]}
  POST   /_analemma/otlp             {"down": true|false}: answer 503 (a collector that is down) or serve again
  DELETE /_analemma/otlp             forget them
https://opentelemetry.io/docs/specs/otlp/#otlphttp
"""

import json
import queue
import threading
import urllib.request

TRACES = "/_analemma/otlp/v1/traces"
CONTROL = "/_analemma/otlp"


def _value(v):
    kind = v.WhichOneof("value")
    if kind == "array_value":
        return [_value(x) for x in v.array_value.values]
    if kind == "kvlist_value":
        return {kv.key: _value(kv.value) for kv in v.kvlist_value.values}
    return getattr(v, kind) if kind else None


class Collector:
    def __init__(self, forward=None):
        self.lock = threading.Lock()
        self.spans, self.requests, self.bytes, self.down = [], 0, 0, False
        self.forward, self.forwarded, self.forward_errors = forward, 0, []
        self.outbox = queue.Queue()
        if forward:
            threading.Thread(target=self._forwarder, daemon=True).start()

    def _forwarder(self):
        """Sends accepted bodies on, in order, off the functions' request path (an export never waits for Phoenix)."""
        while True:
            body = self.outbox.get()
            req = urllib.request.Request(f"{self.forward}/v1/traces", data=body, method="POST",
                                         headers={"Content-Type": "application/x-protobuf"})
            try:
                with urllib.request.urlopen(req, timeout=30) as r:
                    r.read()
                with self.lock:
                    self.forwarded += 1
            except OSError as e:
                with self.lock:
                    self.forward_errors.append(str(e)[:300])

    def handle(self, method, path, headers, body):
        if path == TRACES and method == "POST":
            return self._export(headers, body)
        if path != CONTROL:
            return None
        with self.lock:
            if method == "DELETE":
                self.spans, self.requests, self.bytes = [], 0, 0
            elif method == "POST":
                self.down = bool(json.loads(body or b"{}").get("down"))
            return 200, [("Content-Type", "application/json")], json.dumps(
                {"spans": self.spans, "requests": self.requests, "bytes": self.bytes, "down": self.down,
                 "forward": self.forward, "forwarded": self.forwarded, "forward_errors": self.forward_errors}).encode()

    def _export(self, headers, body):
        from opentelemetry.proto.collector.trace.v1 import trace_service_pb2
        from google.protobuf.message import DecodeError
        if self.down:
            return 503, [("Content-Type", "text/plain")], b"collector unavailable"
        if (headers.get("Content-Type") or "").split(";")[0].strip() != "application/x-protobuf":
            return 415, [("Content-Type", "text/plain")], b"only application/x-protobuf is accepted"
        request = trace_service_pb2.ExportTraceServiceRequest()
        try:
            request.ParseFromString(body)
        except DecodeError as e:
            return 400, [("Content-Type", "text/plain")], f"not an ExportTraceServiceRequest: {e}".encode()
        spans = []
        for rs in request.resource_spans:
            resource = {kv.key: _value(kv.value) for kv in rs.resource.attributes}
            for ss in rs.scope_spans:
                for s in ss.spans:
                    spans.append({
                        "trace_id": s.trace_id.hex(), "span_id": s.span_id.hex(), "parent_span_id": s.parent_span_id.hex(),
                        "name": s.name, "kind": s.kind, "start_ns": s.start_time_unix_nano, "end_ns": s.end_time_unix_nano,
                        "attributes": {kv.key: _value(kv.value) for kv in s.attributes},
                        "status": {"code": s.status.code, "message": s.status.message}, "resource": resource,
                        "scope": ss.scope.name, "schema_url": ss.schema_url or rs.schema_url})
        with self.lock:
            self.spans += spans
            self.requests += 1
            self.bytes += len(body)
        if self.forward:
            self.outbox.put(body)
        response = trace_service_pb2.ExportTraceServiceResponse()
        return 200, [("Content-Type", "application/x-protobuf")], response.SerializeToString()
