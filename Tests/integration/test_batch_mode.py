"""Batch maps (`config.batch`) end to end: the real segment-runner bootstrap submits a map's items as one Gemini
Batch API job to the stand-in, the state machine's WaitBatch/PollBatch loop waits for it (no Lambda sleeps), and the
answers become the map's results, priced at the batch price in the cost report."""

import json
import time

import state_reader
from conftest import client, invoke
from test_cognition import events_of, gemini, fresh_standin  # noqa: F401
from test_cost import check
from test_workflows import CATALOG, MODEL, history_all, start, wait, engine  # noqa: F401


def batch_map(**config):
    item = {"id": "summarise", "type": "llm", "reads": ["item"], "writes": ["summary"],
            "config": {"prompt": "Summarise: {{item}}", **config.pop("llm", {})}}
    return {"workflow_id": "batch-map", "version": 1, "entry": "each", "outputs": ["summaries"],
            "nodes": [{"id": "each", "type": "map", "reads": ["docs"], "writes": ["summaries"],
                       "config": {"items": "docs", "batch": True, "batch_poll_seconds": 1,
                                  "workflow": {"entry": "summarise", "nodes": [item], "edges": []}, **config}}],
            "edges": []}


def results(endpoint, stats):
    """Every item's result, in item order, read through the map's results index."""
    s3 = client("s3", endpoint)

    def get(uri):
        bucket, key = uri[len("s3://"):].split("/", 1)
        return json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
    return [r for chunk in get(stats["results_index"]) for r in get(chunk)["results"]]


def test_a_1000_item_map_runs_as_one_batch_job_at_the_batch_price(sfn, endpoint, engine):  # noqa: F811
    gemini(endpoint, "POST", {"batch_polls": 2})  # the job runs through two polls before it is done
    docs = [f"document {i}" for i in range(1000)]
    arn = start(sfn, engine, batch_map(), {"docs": docs})
    cost, seen, _ = check(sfn, endpoint, arn)  # exact Lambda requests and transitions, polls included
    standin = gemini(endpoint)
    assert standin["requests"] == [], "a batch map makes no generateContent call"
    [job] = standin["batches"]
    assert job["requests"] == 1000 and job["model"] == f"models/{MODEL['medium']}" and job["gets"] == 3
    entered = [e["stateEnteredEventDetails"]["name"] for e in history_all(sfn, arn) if e["type"].endswith("StateEntered")]
    assert entered.count("PollBatch") == 3 and entered.count("WaitBatch") == 3 and "FanOut" not in entered
    _, fields = state_reader.read_state(endpoint, arn, ["summaries", "llm_usage"])
    stats = fields["summaries"]
    assert stats["mode"] == "batch" and stats["status"] == "COMPLETED" and stats["items"] == 1000
    assert stats["failed_items_count"] == 0
    answers = results(endpoint, stats)
    assert [a["summary"] for a in answers] == [f"[gemini-standin {MODEL['medium']}] Summarise: {d}" for d in docs]
    # priced at half the catalog's interactive price, for the tokens the job reported
    model = next(m for m in CATALOG["models"] if m["id"] == MODEL["medium"])
    full = (job["prompt_tokens"] * model["input_usd_per_mtok"] + job["output_tokens"] * model["output_usd_per_mtok"]) / 1e6
    used = fields["llm_usage"]["nodes"]["each"]
    assert used["calls"] == 1000 and used["input_tokens"] == job["prompt_tokens"]
    assert abs(used["estimated_cost_usd"] - full * model.get("batch_price_factor", 0.5)) < 1e-9, (used, full)
    assert abs(cost["usd"]["model"] - used["estimated_cost_usd"]) < 1e-9
    print(json.dumps({"bench": "batch.map_1000", "metric": "model_usd_ratio_to_interactive",
                      "value": used["estimated_cost_usd"] / full, "unit": "ratio", "interactive_usd": full,
                      "batch_usd": used["estimated_cost_usd"], "polls": job["gets"], **seen}))


def test_a_non_conforming_batch_answer_is_a_failed_item_within_tolerance(sfn, endpoint, engine):  # noqa: F811
    schema = {"type": "object", "properties": {"gist": {"type": "string"}}, "required": ["gist"]}
    gemini(endpoint, "POST", {"model": "*", "responses": [{"text": '{"gist": "zero"}'}, {"text": "not json"}] +
                              [{"text": json.dumps({"gist": str(i)})} for i in range(2, 6)]})
    w = batch_map(chunk_size=2, tolerated_failure_percentage=50, llm={"response_schema": schema})
    arn = start(sfn, engine, w, {"docs": [f"d{i}" for i in range(6)]})
    d = wait(sfn, arn, seconds=60)
    assert d["status"] == "SUCCEEDED" and json.loads(d["output"])["outcome"] == "COMPLETED_WITH_RISK", d
    _, fields = state_reader.read_state(endpoint, arn, ["summaries"])
    stats = fields["summaries"]
    assert stats["failed_chunks"] == 1 and stats["failed_items_count"] == 1
    [failed] = stats["failed_items"]
    assert failed["index"] == 1 and "not JSON" in failed["error"]
    answers = results(endpoint, stats)
    assert answers[0] == {"summary": {"gist": "zero"}} and answers[1] is None and answers[5] == {"summary": {"gist": "5"}}


def test_a_failed_poll_is_asked_again_later_and_the_job_still_lands(sfn, endpoint, engine, state_dir):  # noqa: F811
    gemini(endpoint, "POST", {"batch_polls": 1, "batch_get_errors": 2})
    arn = start(sfn, engine, batch_map(), {"docs": ["a", "b", "c"]})
    d = wait(sfn, arn, seconds=90)
    assert d["status"] == "SUCCEEDED", d
    [job] = gemini(endpoint)["batches"]
    assert job["gets"] == 4  # two 503s, one RUNNING, then SUCCEEDED
    states = [e["state"] for e in events_of(state_dir, arn, "map_batch")]
    assert states.count("poll failed: Analemma.ModelUnavailable") == 2 and states[-1] == "succeeded", states


def test_a_failed_batch_job_fails_the_execution_with_its_code(sfn, endpoint, engine):  # noqa: F811
    gemini(endpoint, "POST", {"batch_outcome": "BATCH_STATE_EXPIRED"})
    d = wait(sfn, start(sfn, engine, batch_map(), {"docs": ["a", "b"]}), seconds=60)
    assert d["status"] == "FAILED" and d["error"] == "Analemma.ModelBatchFailed" and "BATCH_STATE_EXPIRED" in d["cause"], d


def test_a_forged_poll_reads_no_other_job_and_changes_nothing(sfn, endpoint, engine):  # noqa: F811
    gemini(endpoint, "POST", {"batch_polls": 1000})  # the job never ends while the test forges polls
    arn = start(sfn, engine, batch_map(), {"docs": ["a", "b"]})
    lam = client("lambda", endpoint)
    waiting = None
    for _ in range(200):
        events = history_all(sfn, arn)
        polls = [e for e in events if e["type"] == "TaskSucceeded"]
        outs = [json.loads(e["taskSucceededEventDetails"]["output"])["Payload"] for e in polls]
        waiting = next((o for o in outs if o.get("cursor", {}).get("status") == "wait_batch"), None)
        if waiting:
            break
        time.sleep(0.1)
    assert waiting and waiting["wait_seconds"] == 1, waiting
    head = state_reader.read_state(endpoint, arn, ["cursor"])[1]["cursor"]
    forged = json.loads(json.dumps(waiting))
    forged["cursor"]["batch"]["ticket"]["job"] = "batches/someone-elses"
    r, body = invoke(lam, {"action": "batch_poll", "kernel": forged}, name="segment-runner")
    assert r.get("FunctionError") and body["errorType"] == "Analemma.ForgedPointer", body
    huge = dict(waiting, wait_seconds=1e300)
    r, body = invoke(lam, {"action": "batch_poll", "kernel": huge}, name="segment-runner")
    assert r.get("FunctionError") and body["errorType"] == "Analemma.InvalidEvent", body
    assert state_reader.read_state(endpoint, arn, ["cursor"])[1]["cursor"] == head
    assert [j["gets"] for j in gemini(endpoint)["batches"]] and all(
        not j["name"].endswith("someone-elses") for j in gemini(endpoint)["batches"])
    sfn.stop_execution(executionArn=arn)
