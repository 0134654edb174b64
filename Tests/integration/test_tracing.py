"""OpenTelemetry traces from the real segment-runner bootstrap, over OTLP/HTTP with protobuf encoding, received by
the local stack's collector and decoded there with the reference classes (`opentelemetry-proto`): one root span per
execution, every segment, node and model call under it with the GenAI attributes, a Distributed Map's children in
the same trace; with the collector down every step still succeeds. The stack forwards every export to Arize Phoenix
(`make integration` starts it; PHOENIX= turns it off), and the demo's trace is read back from Phoenix's REST API:
what a team running Phoenix would see."""

import json
import time
import urllib.parse
import urllib.request

import pytest

import state_reader
from test_workflows import example, history_all, start, wait, engine  # noqa: F401
from test_time_travel import answered_run


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
    # one export request per invocation, or per segment where an invocation runs several (it flushes each for the
    # viewer); `make bench` reports the bytes and requests per step
    steps = sum(1 for e in history_all(sfn, arn) if e["type"] == "TaskScheduled")
    requests = collector(endpoint)["requests"]
    assert 0 < requests <= steps + len(segments), (requests, steps, len(segments))


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


def phoenix_spans(phoenix, project, trace, want, seconds=60):
    """The trace's spans as Phoenix's REST API lists them (GET /v1/projects/{project}/spans, paged by cursor),
    polled until every span id in `want` is there: the stack forwards off the request path, Phoenix ingests in batches."""
    deadline = time.time() + seconds
    while True:
        spans, cursor = [], None
        while True:
            query = {"trace_id": trace, "limit": 1000} | ({"cursor": cursor} if cursor else {})
            url = f"{phoenix}/v1/projects/{urllib.parse.quote(project)}/spans?{urllib.parse.urlencode(query)}"
            try:
                with urllib.request.urlopen(url, timeout=10) as r:
                    page = json.loads(r.read())
            except urllib.error.HTTPError as e:
                if e.code != 404 or time.time() > deadline:  # 404: the project is created by the first span
                    raise
                page = {"data": [], "next_cursor": None}
            spans += page["data"]
            cursor = page.get("next_cursor")
            if not cursor:
                break
        if want <= {s["context"]["span_id"] for s in spans} or time.time() > deadline:
            return spans
        time.sleep(1)


def test_the_demos_trace_reads_back_from_phoenix_one_root_and_every_span_under_it(sfn, endpoint, engine):  # noqa: F811
    listing = collector(endpoint, "DELETE")
    if not collector(endpoint)["forward"]:
        pytest.skip("the stack runs without Phoenix (PHOENIX= was given to make)")
    arn, _ = answered_run(sfn, endpoint, engine)
    _, fields = state_reader.read_state(endpoint, arn, ["trace_id"])
    trace = trace_hex(fields["trace_id"])
    ours = spans_of(endpoint, trace)
    assert ours, listing
    # Phoenix files spans under the resource's openinference.project.name (function.json's OTEL_RESOURCE_ATTRIBUTES)
    spans = phoenix_spans(collector(endpoint)["forward"], "analemma", trace, {s["span_id"] for s in ours})
    assert {s["context"]["span_id"] for s in spans} == {s["span_id"] for s in ours}, collector(endpoint)["forward_errors"]
    assert all(s["context"]["trace_id"] == trace for s in spans)
    by_id = {s["context"]["span_id"]: s for s in spans}
    [root] = [s for s in spans if not s["parent_id"]]
    assert root["name"] == "execution" and root["attributes"]["analemma.execution_id"] == arn
    segments = [s for s in spans if s["name"].startswith("segment ")]
    nodes = [s for s in spans if s["name"].startswith("node ")]
    calls = [s for s in spans if s["attributes"].get("gen_ai.operation.name") == "generate_content"]
    assert segments and calls
    assert all(s["parent_id"] == root["context"]["span_id"] for s in segments)
    # a node under the segment that ran it; the human step (answered by its own resume step, no segment) under the root
    [review] = [n for n in nodes if n["name"] == "node review"]
    assert review["parent_id"] == root["context"]["span_id"] and review["attributes"]["analemma.type"] == "hitp"
    assert review["attributes"]["analemma.waited_ms"] >= 0
    assert all(by_id[n["parent_id"]]["name"].startswith("segment ") for n in nodes if n is not review)
    assert {n["name"].removeprefix("node ") for n in nodes} == {"prepare", "normalise", "draft", "review", "decide", "publish"}
    for c in calls:
        assert by_id[c["parent_id"]]["name"].startswith("node "), c
        a = c["attributes"]
        assert a["gen_ai.provider.name"] == "gcp.gemini" and a["gen_ai.request.model"] and a["gen_ai.response.model"]
        assert isinstance(a["gen_ai.usage.input_tokens"], int) and a["gen_ai.usage.input_tokens"] > 0
        assert isinstance(a["gen_ai.usage.output_tokens"], int)
