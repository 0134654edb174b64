"""OpenTelemetry traces from the real segment-runner bootstrap, over OTLP/HTTP with protobuf encoding, received by
the local stack's collector and decoded there with the reference classes (`opentelemetry-proto`): one root span per
execution, every segment, node and model call under it with the GenAI attributes, a Distributed Map's children in
the same trace; with the collector down every step still succeeds."""

import json
import time
import urllib.request

import state_reader
from test_workflows import example, history_all, start, wait, engine  # noqa: F401


def collector(endpoint, method="GET", doc=None):
    req = urllib.request.Request(f"{endpoint}/_analemma/otlp", method=method,
                                 data=json.dumps(doc).encode() if doc is not None else None)
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.loads(r.read())


def trace_hex(kernel_trace):
    """The 128-bit trace id the kernel derives from its trace id (X-Ray root or its own)."""
    if kernel_trace.startswith("1-"):
        return kernel_trace[2:].replace("-", "")
    if kernel_trace.startswith("analemma-"):
        return kernel_trace[len("analemma-"):]
    raise AssertionError(f"unexpected trace id {kernel_trace}")


def spans_of(endpoint, trace, seconds=20):
    deadline = time.time() + seconds
    while True:
        found = [s for s in collector(endpoint)["spans"] if s["trace_id"] == trace]
        if any(s["name"] == "execution" for s in found) or time.time() > deadline:
            return found
        time.sleep(0.3)


def test_a_runs_trace_has_one_root_with_every_segment_node_and_model_call_under_it(sfn, endpoint, engine):  # noqa: F811
    collector(endpoint, "DELETE")
    arn = start(sfn, engine, example("linear-5.json"), {"topic": "tides"})
    assert wait(sfn, arn)["status"] == "SUCCEEDED"
    _, fields = state_reader.read_state(endpoint, arn, ["trace_id"])
    spans = spans_of(endpoint, trace_hex(fields["trace_id"]))
    [root] = [s for s in spans if s["name"] == "execution"]
    assert root["parent_span_id"] == "" and root["kind"] == 2 and root["attributes"]["analemma.execution_id"] == arn
    assert root["resource"]["service.name"] == "segment-runner" and root["schema_url"].startswith("https://opentelemetry.io/schemas/")
    by_id = {s["span_id"]: s for s in spans}
    segments = [s for s in spans if s["name"].startswith("segment ")]
    nodes = [s for s in spans if s["name"].startswith("node ")]
    calls = [s for s in spans if s["attributes"].get("gen_ai.operation.name") == "generate_content"]
    assert segments and nodes and calls
    assert all(s["parent_span_id"] == root["span_id"] for s in segments)
    assert all(by_id[n["parent_span_id"]]["name"].startswith("segment ") for n in nodes)
    for c in calls:
        assert by_id[c["parent_span_id"]]["name"].startswith("node "), c
        a = c["attributes"]
        assert isinstance(a["gen_ai.usage.input_tokens"], int) and a["gen_ai.usage.input_tokens"] > 0
        assert a["gen_ai.request.model"] and a["gen_ai.provider.name"] == "gcp.gemini" and c["kind"] == 3
    assert root["start_ns"] <= min(s["start_ns"] for s in spans) and root["end_ns"] >= max(s["end_ns"] for s in spans)
    # every node the history ran is a span; every segment span ends after it starts
    assert all(s["end_ns"] >= s["start_ns"] > 0 for s in spans)
    stats = collector(endpoint)
    steps = sum(1 for e in history_all(sfn, arn) if e["type"] == "TaskScheduled")
    print(json.dumps({"bench": "tracing.linear_5", "metric": "otlp_bytes_per_step", "value": stats["bytes"] / steps, "unit": "bytes",
                      "requests": stats["requests"], "spans": len(spans), "steps": steps}))


def test_a_distributed_maps_children_share_the_roots_trace(sfn, endpoint, engine):  # noqa: F811
    collector(endpoint, "DELETE")
    w = example("map-scoring.json")
    w["nodes"][0]["config"].update(chunk_size=10, inline_max_chunks=0, tolerated_failure_percentage=100)
    arn = start(sfn, engine, w, {"docs": [{"id": i, "words": i, "broken": False} for i in range(30)]})
    assert wait(sfn, arn, seconds=180)["status"] == "SUCCEEDED"
    _, fields = state_reader.read_state(endpoint, arn, ["trace_id"])
    spans = spans_of(endpoint, trace_hex(fields["trace_id"]))
    [root] = [s for s in spans if s["name"] == "execution"]
    chunks = [s for s in spans if s["name"] == "map_chunk"]
    assert len(chunks) == 3 and all(c["parent_span_id"] == root["span_id"] for c in chunks)


def test_with_the_collector_down_every_step_still_succeeds(sfn, endpoint, engine, state_dir):  # noqa: F811
    collector(endpoint, "POST", {"down": True})
    try:
        arn = start(sfn, engine, example("linear-5.json"), {"topic": "tides"})
        assert wait(sfn, arn)["status"] == "SUCCEEDED"
    finally:
        collector(endpoint, "POST", {"down": False})
    with open(f"{state_dir}/logs/segment-runner.log", errors="replace") as f:
        assert any("spans not exported" in line and "503" in line for line in f)
