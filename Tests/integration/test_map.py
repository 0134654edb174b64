"""map nodes on the local stack: items cut into chunks in S3, each item through the sub-workflow in the real
segment-runner bootstrap, success/failure/tolerance counted per chunk — inline in the map's segment, or (above
inline_max_chunks) on a Step Functions Distributed Map with ItemReader, ResultWriter and the light aggregator."""

import hashlib
import json

import pytest

import state_reader
from test_workflows import example, start, wait, history, history_all, assert_small_payloads, client, engine  # noqa: F401

BROKEN = (3, 250, 500, 750, 999)


def docs(n=1000, broken=BROKEN):
    return [{"id": i, "words": i % 97, "broken": i in broken} for i in range(n)]


INLINE = 1_000_000  # inline_max_chunks that keeps a map inline


def run_map(sfn, engine, chunk_size, tolerance, items, inline_max=INLINE, count=None):  # noqa: F811
    w = example("map-scoring.json")
    w["nodes"][0]["config"].update(chunk_size=chunk_size, tolerated_failure_percentage=tolerance, inline_max_chunks=inline_max)
    if count is not None:
        w["nodes"][0]["config"]["tolerated_failure_count"] = count
    arn = start(sfn, engine, w, {"docs": items})
    return arn, wait(sfn, arn, seconds=300)


def read_s3(endpoint, pointer):
    """The JSON at an s3:// pointer; `#bytes=first-last` names a chunk's frame in the items object (its items)."""
    location, _, fragment = pointer.partition("#bytes=")
    bucket, key = location[len("s3://"):].split("/", 1)
    ranged = {"Range": f"bytes={fragment}"} if fragment else {}
    doc = json.loads(client("s3", endpoint).get_object(Bucket=bucket, Key=key, **ranged)["Body"].read())
    return doc["items"] if fragment else doc


def test_1000_items_chunk_size_1_with_5_failures_completes_with_risk_and_exact_counts(sfn, endpoint, engine):  # noqa: F811
    arn, d = run_map(sfn, engine, 1, 1.0, docs())
    assert d["status"] == "SUCCEEDED", d
    out = json.loads(d["output"])
    assert out["outcome"] == "COMPLETED_WITH_RISK" and "risks" not in out["cursor"]  # risks stay in state
    _, fields = state_reader.read_state(endpoint, arn, ["cursor"])
    assert fields["cursor"]["risks"] == ["score_all"]
    s = out["output"]["scores"]
    assert (s["status"], s["items"], s["chunks"], s["succeeded_chunks"], s["failed_chunks"], s["failed_items_count"]) == \
        ("COMPLETED_WITH_RISK", 1000, 1000, 995, 5, 5)
    assert [f["index"] for f in s["failed_items"]] == list(BROKEN)
    assert [f["chunk"] for f in s["failed_items"]] == ["chunk_0004.json", "chunk_0251.json", "chunk_0501.json", "chunk_0751.json",
                                                       "chunk_1000.json"]
    assert all(f["error"] == 'node "check" (skill fail): item is broken' for f in s["failed_items"])
    # failed chunks are kept for redrive; the ItemReader input lists every chunk
    assert read_s3(endpoint, s["failed_chunk_pointers"][0]) == [docs()[3]]
    reader = read_s3(endpoint, s["item_reader"])
    assert len(reader) == 1000 and reader[0]["size"] == 1 and {r["chunk"] for r in reader} == {reader[0]["chunk"]}
    assert reader[0]["chunk"].endswith("/chunks.jsonl") and reader[-1]["index"] == 999 and reader[1]["offset"] > 0
    index = read_s3(endpoint, s["results_index"])
    first = read_s3(endpoint, index[0])
    assert first == {"chunk": 1, "first_index": 0, "items": 1, "failed": [], "results": [{"score": {"id": 0, "words": 0}}]}
    assert read_s3(endpoint, index[3])["results"] == [None]
    assert_small_payloads(history(sfn, arn))


def test_chunk_size_10_counts_chunks_and_lists_the_failed_items(sfn, endpoint, engine):  # noqa: F811
    broken = (3, 5, 250, 999)  # two in the first chunk
    arn, d = run_map(sfn, engine, 10, 5.0, docs(broken=broken))
    assert d["status"] == "SUCCEEDED", d
    s = json.loads(d["output"])["output"]["scores"]
    assert (s["chunks"], s["failed_chunks"], s["succeeded_chunks"], s["failed_items_count"]) == (100, 3, 97, 4)
    assert [(f["chunk"], f["index"]) for f in s["failed_items"]] == [
        ("chunk_0001.json", 3), ("chunk_0001.json", 5), ("chunk_0026.json", 250), ("chunk_0100.json", 999)]
    chunk = read_s3(endpoint, read_s3(endpoint, s["results_index"])[0])
    assert chunk["items"] == 10 and [f["index"] for f in chunk["failed"]] == [3, 5]
    assert chunk["results"][0] == {"score": {"id": 0, "words": 0}} and chunk["results"][3] is None


def test_beyond_tolerance_fails_cleanly_with_the_counts(sfn, endpoint, engine):  # noqa: F811
    arn, d = run_map(sfn, engine, 10, 1.0, docs(n=100, broken=(1, 12, 25)))
    assert d["status"] == "FAILED" and d["error"] == "Analemma.ToleranceExceeded", d
    assert d["cause"].startswith('node "score_all": 3 of 10 chunks failed (30%), over the tolerated 1%; 3 failed items')
    _, fields = state_reader.read_state(endpoint, arn, ["failure", "cursor"])
    assert fields["failure"]["code"] == "Analemma.ToleranceExceeded" and fields["cursor"]["status"] == "failed"


def test_a_clean_map_succeeds_without_risk(sfn, endpoint, engine):  # noqa: F811
    arn, d = run_map(sfn, engine, 25, 0.0, docs(n=100, broken=()))
    assert d["status"] == "SUCCEEDED", d
    out = json.loads(d["output"])
    assert out["outcome"] == "SUCCEEDED" and out["output"]["scores"]["status"] == "COMPLETED"
    assert out["output"]["scores"]["chunks"] == 4


@pytest.mark.parametrize("config,expected", [
    ({"items": "nope"}, "map needs config.items naming a field it reads"),
    ({"workflow": {"entry": "h", "nodes": [{"id": "h", "type": "hitp", "writes": ["x"]}], "edges": []}}, "cannot wait for a human"),
    ({"tolerated_failure_percentage": 150}, "tolerated_failure_percentage must be 0–100"),
])
def test_bad_map_config_is_rejected_before_state(sfn, engine, config, expected):  # noqa: F811
    w = example("map-scoring.json")
    w["nodes"][0]["config"].update(config)
    arn = start(sfn, engine, w, {"docs": []})
    d = wait(sfn, arn)
    assert d["status"] == "FAILED" and d["error"] == "Analemma.InvalidWorkflow", d
    assert expected in d["cause"]


def test_distributed_1000_items_chunk_size_1_with_5_failures_completes_with_risk(sfn, endpoint, engine):  # noqa: F811
    arn, d = run_map(sfn, engine, 1, 1.0, docs(), inline_max=300)
    assert d["status"] == "SUCCEEDED", d
    out = json.loads(d["output"])
    assert out["outcome"] == "COMPLETED_WITH_RISK"
    s = out["output"]["scores"]
    assert (s["mode"], s["status"], s["items"], s["chunks"], s["succeeded_chunks"], s["failed_chunks"]) == \
        ("distributed", "COMPLETED_WITH_RISK", 1000, 1000, 995, 5)
    # The same statistics as an inline map (one MapStats type): failed items by index, their chunks, the results index.
    assert s["failed_items_count"] == 5 and [f["index"] for f in s["failed_items"]] == list(BROKEN)
    assert [f["chunk"] for f in s["failed_items"]] == ["chunk_0004.json", "chunk_0251.json", "chunk_0501.json",
                                                       "chunk_0751.json", "chunk_1000.json"]
    assert all("item is broken" in f["error"] for f in s["failed_items"])
    assert read_s3(endpoint, s["failed_chunk_pointers"][0]) == [docs()[3]]
    assert len(read_s3(endpoint, s["results_index"])) == 1000
    manifest = read_s3(endpoint, s["manifest"])
    assert manifest["MapRunArn"] == s["map_run_arn"] and len(manifest["ResultFiles"]["FAILED"]) == 1
    failed = read_s3(endpoint, f"s3://{manifest['DestinationBucket']}/{manifest['ResultFiles']['FAILED'][0]['Key']}")
    assert len(failed) == 5 and {r["Status"] for r in failed} == {"FAILED"}
    assert json.loads(failed[0]["Cause"])["errorType"] == "Analemma.ChunkFailed"
    succeeded = read_s3(endpoint, f"s3://{manifest['DestinationBucket']}/{manifest['ResultFiles']['SUCCEEDED'][0]['Key']}")
    assert len(succeeded) == 995 and json.loads(succeeded[0]["Output"])["result"].endswith("/results/chunk_0001.json")
    # `Input` is what the child received (the ItemSelector's object), as AWS's ResultWriter records it.
    child = json.loads(succeeded[0]["Input"])
    assert set(child) == {"chunk", "map", "workflow", "identity"} and child["identity"]["execution_id"] == arn, child
    entered = [e["stateEnteredEventDetails"]["name"] for e in history(sfn, arn) if "stateEnteredEventDetails" in e]
    assert {"FanOut", "Aggregate", "MapDone"} <= set(entered)
    assert_small_payloads(history(sfn, arn))


def test_distributed_chunk_size_10_counts_chunks(sfn, endpoint, engine):  # noqa: F811
    arn, d = run_map(sfn, engine, 10, 5.0, docs(broken=(3, 5, 250, 999)), inline_max=0)
    assert d["status"] == "SUCCEEDED", d
    s = json.loads(d["output"])["output"]["scores"]
    assert (s["mode"], s["chunks"], s["failed_chunks"], s["succeeded_chunks"]) == ("distributed", 100, 3, 97)
    assert s["failed_items_count"] == 4
    assert [(f["chunk"], f["index"]) for f in s["failed_items"]] == [
        ("chunk_0001.json", 3), ("chunk_0001.json", 5), ("chunk_0026.json", 250), ("chunk_0100.json", 999)]
    # the execution's own objects (chunks, item reader input, chunk results) carry its trace id
    trace = json.loads(d["output"])["trace_id"]
    s3 = client("s3", endpoint)
    prefix = f"owners/team-a/executions/{hashlib.sha256(arn.encode()).hexdigest()[:24]}/map/"
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket="analemma-state", Prefix=prefix).get("Contents", [])]
    mine = [k for k in keys if {t["Value"] for t in s3.get_object_tagging(Bucket="analemma-state", Key=k)["TagSet"]} == {trace}]
    assert any(k.endswith("/items.json") for k in mine) and any("/results/" in k for k in mine), keys[:5]
    # The fan-out is two objects at any item count: the items (one frame per chunk) and the ItemReader input.
    written = [k for k in keys if "/results/" not in k]
    assert sorted(k.rsplit("/", 1)[1] for k in written) == ["chunks.jsonl", "items.json"], written
    # The cost report counts the 100 children (a RunChunk invocation and state each, from DescribeMapRun) beside
    # the parent's own Lambda tasks (the Aggregate one too) and entered states.
    usage = json.loads(d["output"])["cost"]["usage"]
    events = history_all(sfn, arn)
    tasks = sum(1 for e in events if e["type"] == "TaskScheduled" and e["taskScheduledEventDetails"]["resourceType"] == "lambda")
    entered = sum(1 for e in events if e["type"].endswith("StateEntered"))
    assert (usage["lambda_requests"], usage["transitions"]) == (tasks + 100, entered + 100), (usage, tasks, entered)


def test_distributed_beyond_tolerance_fails_with_a_clear_record(sfn, endpoint, engine):  # noqa: F811
    arn, d = run_map(sfn, engine, 1, 0.5, docs(n=400, broken=(1, 2, 3)), inline_max=0)
    assert d["status"] == "FAILED" and d["error"] == "Analemma.ToleranceExceeded", d
    assert d["cause"].startswith('node "score_all": States.ExceedToleratedFailureThreshold: ') and "3 of 400 items failed" in d["cause"]
    _, fields = state_reader.read_state(endpoint, arn, ["failure", "cursor"])
    assert fields["failure"]["code"] == "Analemma.ToleranceExceeded" and fields["failure"]["nodes"] == ["score_all"]


@pytest.mark.parametrize("inline_max", [INLINE, 0], ids=["inline", "distributed"])
def test_results_stream_one_chunk_file_at_a_time_through_the_command(sfn, endpoint, engine, inline_max):  # noqa: F811
    import os
    import subprocess
    from conftest import ROOT
    arn, d = run_map(sfn, engine, 7, 20.0, docs(n=50, broken=(10,)), inline_max=inline_max)
    assert d["status"] == "SUCCEEDED", d
    s = json.loads(d["output"])["output"]["scores"]
    env = dict(os.environ, AWS_ENDPOINT_URL=endpoint, AWS_ACCESS_KEY_ID="test", AWS_SECRET_ACCESS_KEY="test", AWS_REGION="us-east-1")
    binary = os.path.join(ROOT, os.environ.get("ANALEMMA_BIN_DIR", ".build/release"), "analemma")
    r = subprocess.run([binary, "results", s["results_index"]], capture_output=True, text=True, env=env, timeout=60)
    assert r.returncode == 0, r.stderr
    lines = [json.loads(line) for line in r.stdout.splitlines()]
    assert [x["index"] for x in lines] == list(range(50)) and "50 results" in r.stderr
    assert lines[10]["result"] is None and lines[11]["result"] == {"score": {"id": 11, "words": 11}}


@pytest.mark.parametrize("inline_max", [INLINE, 0], ids=["inline", "distributed"])
@pytest.mark.parametrize("count,status", [(2, "FAILED"), (3, "SUCCEEDED")])
def test_a_failure_count_limits_the_map_even_under_the_percentage(sfn, engine, inline_max, count, status):  # noqa: F811
    """Step Functions fails a Map Run that exceeds either threshold: 3 failed chunks of 40 (7.5%) pass a 50% limit
    but not a count of 2."""
    arn, d = run_map(sfn, engine, 1, 50.0, docs(n=40, broken=(1, 12, 25)), inline_max=inline_max, count=count)
    assert d["status"] == status, d
    if status == "FAILED":
        assert d["error"] == "Analemma.ToleranceExceeded", d
        if inline_max:
            assert "3 of 40 chunks failed (7.5%), over 2 tolerated failed chunks" in d["cause"], d["cause"]
        else:
            assert "States.ExceedToleratedFailureThreshold" in d["cause"] and "3 of 40 items failed" in d["cause"], d["cause"]
    else:
        s = json.loads(d["output"])["output"]["scores"]
        assert json.loads(d["output"])["outcome"] == "COMPLETED_WITH_RISK"
        assert (s["failed_chunks"], s["tolerated_failure_count"]) == (3, 3)
