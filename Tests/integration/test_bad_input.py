"""Bad input to every product function, through the real Invoke API and bootstraps: each gets a clear, coded error
naming what is wrong, the instance survives (the next good event works), and no state changes."""

import json
import os

import pytest

import resources
from conftest import invoke, raw_invoke

KERNEL = {"execution_id": "arn:aws:states:us-east-1:123456789012:execution:x:y", "owner_id": "team-a", "trace_id": "t",
          "manifest_id": "m" * 64, "version": 1,
          "cursor": {"status": "continue", "workflow_id": "w", "workflow": "s3://analemma-state/owners/team-a/workflows/x.json",
                     "step": 1, "segment": 0, "traversals": {}}}

CASES = [
    ("segment-runner", [], "Analemma.InvalidEvent", "not a JSON object"),
    ("segment-runner", "run", "Analemma.InvalidEvent", "not a JSON object"),
    ("segment-runner", {}, "Analemma.InvalidEvent", '"action" must be one of'),
    ("segment-runner", {"action": "drop_tables"}, "Analemma.InvalidEvent", '"action" must be one of'),
    ("segment-runner", {"action": "run"}, "Analemma.InvalidEvent", 'needs "kernel"'),
    ("segment-runner", {"action": "run", "kernel": {"owner_id": 7}}, "Analemma.InvalidEvent", "not a kernel payload"),
    ("segment-runner", {"action": "initialize", "execution_id": "e", "start": {"owner_id": "o", "workflow": {"nodes": "x"}}},
     "Analemma.InvalidWorkflow", "missing"),
    ("segment-runner", {"action": "initialize", "execution_id": "e", "start": {"owner_id": "o", "workflow": json.load(
        open(resources.ROOT + "/Deploy/examples/workflows/linear-5.json")), "input": {"owner_id": "mallory"}}},
     "Analemma.ProtectedField", '"owner_id"'),
    ("segment-runner", {"action": "initialize", "execution_id": "e", "start": {"owner_id": "\ud800", "workflow": {}}},
     "Analemma.InvalidEvent", "owner_id"),
    ("segment-runner", {"action": "initialize", "execution_id": "e", "start": {"owner_id": "o", "workflow": json.load(
        open(resources.ROOT + "/Deploy/examples/workflows/linear-5.json")), "input": {"topc": "typo"}}},
     "Analemma.InvalidEvent", 'lacks the declared input field(s) "topic"'),
    ("segment-runner", {"action": "initialize", "execution_id": "e", "start": {"owner_id": "o", "workflow": json.load(
        open(resources.ROOT + "/Deploy/examples/workflows/linear-5.json")), "input": {"topic": "x\ud800y"}}},
     "Analemma.InvalidEvent", 'field "topic" is not valid Unicode: a lone UTF-16 surrogate \\ud800'),
    ("segment-runner", {"action": "map_chunk", "item": {
        "chunk": {"chunk": "s3://analemma-state/owners/team-a/executions/x/map/m/1/chunk_0001.json", "index": -6, "size": 1},
        "map": {"node": "m", "bucket": "analemma-state", "key": "k", "prefix": "owners/team-a/executions/x/map/m/1",
                "items": 1, "chunks": 1, "chunk_size": 1, "max_concurrency": 1, "tolerated_failure_percentage": 0, "step": 1},
        "identity": {"execution_id": "arn:aws:states:us-east-1:123456789012:execution:analemma-workflow:nope",
                     "owner_id": "team-a", "trace_id": "t"}, "workflow": "s3://analemma-state/owners/team-a/workflows/x.json"}},
     "Analemma.ForgedPointer", "has no such map in flight"),
    ("segment-runner", {"action": "run", "kernel": {**KERNEL, "cursor": {**KERNEL["cursor"],
                        "workflow": "s3://analemma-state/owners/someone-else/workflows/x.json"}}}, None, None),
    ("segment-runner", {"action": "map_chunk", "item": {"chunk": {"chunk": "s3://analemma-state/owners/b/x", "index": 0, "size": 1},
                        "map": {}, "identity": {}, "workflow": "w"}}, "Analemma.InvalidEvent", "not a Distributed Map item"),
    ("segment-runner", {"action": "heal", "kernel": KERNEL}, "Analemma.InvalidEvent", "heal needs kernel.error_info"),
    ("segment-runner", {"action": "ask", "kernel": KERNEL}, "Analemma.InvalidEvent", "ask needs task_token"),
    ("light-aggregator", {}, "Analemma.InvalidEvent", "map_run"),
    ("light-aggregator", {"map_run": {"MapRunArn": "arn", "ResultWriterDetails": {"Bucket": "elsewhere", "Key": "k"}}},
     "Analemma.InvalidEvent", "execution_id"),
    ("light-aggregator", {"execution_id": "arn:aws:states:us-east-1:123456789012:execution:analemma-workflow:x",
                          "map_run": {"MapRunArn": "arn:aws:states:us-east-1:123456789012:mapRun:analemma-workflow/FanOut:r1",
                                      "ResultWriterDetails": {"Bucket": "elsewhere", "Key": "map-runs/r1/manifest.json"}}},
     "Analemma.ForgedPointer", "s3://elsewhere/"),
    ("light-aggregator", {"execution_id": "arn:aws:states:us-east-1:123456789012:execution:analemma-workflow:x",
                          "map_run": {"MapRunArn": "arn:aws:states:us-east-1:123456789012:mapRun:analemma-workflow/FanOut:r1",
                                      "ResultWriterDetails": {"Bucket": "analemma-state", "Key": "owners/team-a/workflows/x.json"}}},
     "Analemma.ForgedPointer", "not map run"),
    ("light-aggregator", {"execution_id": "arn:aws:states:us-east-1:123456789012:execution:analemma-workflow:x",
                          "map_run": {"MapRunArn": "arn:aws:states:us-east-1:123456789012:mapRun:analemma-workflow/FanOut:r1",
                                      "ResultWriterDetails": {"Bucket": "analemma-state", "Key": "map-runs/r1/manifest.json"}}},
     "Analemma.ForgedPointer", "cannot be read"),
    ("gc-worker", {"records": []}, "Analemma.InvalidEvent", "SQS event"),
    ("gc-worker", [1, 2], "Analemma.InvalidEvent", "SQS event"),
    ("websocket-notifier", [], "Analemma.InvalidEvent", "must be a JSON object"),
    ("websocket-notifier", {"hello": "world"}, "Analemma.InvalidEvent", "neither requestContext"),
    ("websocket-notifier", {"requestContext": {"routeKey": "$connect"}}, "Analemma.InvalidEvent", "connectionId"),
    ("websocket-notifier", {"Records": "not a list"}, "Analemma.InvalidEvent", "SQS event"),
]


@pytest.fixture(scope="module")
def state(endpoint):
    engine = resources.ensure(endpoint)
    c = resources.clients(endpoint)

    def snapshot():
        objects = sum(page.get("KeyCount", 0) for page in c["s3"].get_paginator("list_objects_v2").paginate(Bucket=engine["bucket"]))
        items = sum(c["dynamodb"].scan(TableName=t, Select="COUNT")["Count"] for t in (engine["manifest_table"], engine["refs_table"]))
        return objects, items
    return snapshot


@pytest.mark.parametrize("function,event,code,says", CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_bad_events_get_a_coded_error_and_change_nothing(lam, state, function, event, code, says):
    before = state()
    r, out = invoke(lam, event, name=function)
    allowed = r.get("FunctionError") != "Unhandled"
    clear = not allowed and out["errorType"].startswith("Analemma.") and bool(out["errorMessage"]) \
        and (not code or (out["errorType"] == code and says in out["errorMessage"]))
    changed = state() != before
    record_case(clear_error=clear, wrongly_allowed=allowed, state_changed=changed)
    assert not allowed, out
    assert clear, out
    assert not changed, "a refused event changed stored state"


def record_case(**figures):
    """`make reliability`: this case's figures (conftest writes them to ANALEMMA_RELIABILITY_REPORT)."""
    path = os.environ.get("ANALEMMA_RELIABILITY_REPORT")
    if path:
        with open(path, "a") as f:
            f.write(json.dumps({"suite": "bad-input/figures", **{k: int(v) for k, v in figures.items()}}) + "\n")


def test_forged_and_foreign_pointers_are_refused_not_read(lam):
    forged = {**KERNEL, "cursor": {**KERNEL["cursor"], "workflow": "s3://analemma-state/owners/someone-else/workflows/x.json"}}
    _, out = invoke(lam, {"action": "run", "kernel": forged}, name="segment-runner")
    assert out["errorType"] in ("Analemma.ForgedPointer", "Analemma.InvalidState"), out
    climbing = {**KERNEL, "cursor": {**KERNEL["cursor"], "workflow": "s3://analemma-state/owners/team-a/../b/workflows/x.json"}}
    _, out = invoke(lam, {"action": "finalize", "kernel": climbing}, name="segment-runner")
    assert out["errorType"] in ("Analemma.ForgedPointer", "Analemma.InvalidState"), out


@pytest.mark.parametrize("function", ["segment-runner", "light-aggregator", "gc-worker"])
def test_not_json_and_oversized_payloads_are_refused_at_the_door_and_the_instance_survives(endpoint, lam, function):
    status, _, body = raw_invoke(endpoint, function, b"\xff\xfe{not json")
    assert status == 400 and b"InvalidRequestContentException" in body
    status, _, body = raw_invoke(endpoint, function, b'{"x":"' + b"a" * (6 * 1024 * 1024) + b'"}')
    assert status == 413
    big = {"junk": "x" * (5 * 1024 * 1024)}  # under the limit: reaches the function, which refuses it by shape
    r, out = invoke(lam, big, name=function)
    assert out["errorType"] == "Analemma.InvalidEvent", out
    r, out = invoke(lam, {"action": "nope"} if function == "segment-runner" else {}, name=function)
    assert out["errorType"] == "Analemma.InvalidEvent", "the instance did not survive"
