"""The cost report (`cost` in an execution's output): the segment runner counts its own requests as AWS bills them
(S3 by tier, DynamoDB request units, SQS), its Lambda requests and MB-ms, and the state transitions each kernel step
stands for; `finalize` prices them with the price table (`PRICE_TABLE`, defaults: us-east-1 list prices).

Held here against what the real bootstraps did on the local stack, read independently: the execution history's
Lambda tasks and entered states (exact), and the checkpoints in the manifest table (each one at least a PUT and a
transaction)."""

import json
import os
import subprocess

from conftest import ROOT, client, invoke
from test_workflows import example, history_all, pending_token, start, wait, aws_cli, engine  # noqa: F401

import state_reader

SEGMENT_RUNNER_MB = 1024  # Deploy/template.yaml's MemorySize for SegmentRunner


def facts(sfn, arn):
    events = history_all(sfn, arn)
    return {"lambda": sum(1 for e in events if e["type"] == "TaskScheduled"
                          and e["taskScheduledEventDetails"]["resourceType"] == "lambda"),
            "transitions": sum(1 for e in events if e["type"].endswith("StateEntered"))}


def check(sfn, endpoint, arn):
    d = wait(sfn, arn, seconds=120)
    assert d["status"] == "SUCCEEDED", d
    cost = json.loads(d["output"])["cost"]
    usage, usd = cost["usage"], cost["usd"]
    seen = facts(sfn, arn)
    # Exact: every kernel invocation is a Lambda task of the history, every state entered a transition.
    assert usage["lambda_requests"] == seen["lambda"], (usage, seen)
    assert usage["transitions"] == seen["transitions"], (usage, seen)
    assert usage["lambda_mb_ms"] >= SEGMENT_RUNNER_MB * seen["lambda"] and usage["lambda_mb_ms"] % SEGMENT_RUNNER_MB == 0
    # Bounded below by the stored checkpoints: each commit PUTs its cursor block and writes a transaction.
    records = state_reader.history({"dynamodb": client("dynamodb", endpoint)}, arn)
    assert usage["s3_writes"] >= len(records) and usage["dynamodb_write_units"] >= 2 * (len(records) - 1), (usage, len(records))
    assert usage["s3_reads"] >= 1 and usage["dynamodb_read_units"] >= 1 and usage["sqs_requests"] >= 1
    # Priced by the default table; the total is the sum of its lines.
    assert abs(usd["stepfunctions"] - usage["transitions"] * 0.025 / 1000) < 1e-8
    assert abs(usd["s3"] - (usage["s3_writes"] * 0.005 + usage["s3_reads"] * 0.0004) / 1000) < 1e-8
    lines = ["s3", "dynamodb", "sqs", "websocket", "lambda", "stepfunctions", "model"]
    assert abs(usd["total"] - sum(usd[k] for k in lines)) < 1e-7, usd
    return cost, seen, len(records)


def test_a_linear_run_reports_what_it_used_and_its_price(sfn, endpoint, engine):  # noqa: F811
    arn = start(sfn, engine, example("linear-5.json"), {"topic": "solar power"})
    cost, seen, checkpoints = check(sfn, endpoint, arn)
    assert cost["usd"]["model"] > 0  # the stand-in model's estimate, from llm_usage
    print(json.dumps({"bench": "cost.linear_5", "metric": "usd_per_execution", "value": cost["usd"]["total"], "unit": "USD",
                      "checkpoints": checkpoints, **seen, "cost": cost}))


def test_a_human_step_and_its_answer_are_in_the_report(sfn, endpoint, engine):  # noqa: F811
    arn = start(sfn, engine, example("research-brief.json"), {"topic": "kelp"})
    pending = pending_token(sfn, endpoint, arn)
    r = aws_cli(endpoint, "stepfunctions", "send-task-success", "--task-token", pending["task_token"],
                "--task-output", json.dumps({"approval": "yes", "notes": "fine"}))
    assert r.returncode == 0, r.stderr
    check(sfn, endpoint, arn)


def test_a_forged_usage_in_the_payload_changes_nothing_stored(sfn, endpoint, engine):  # noqa: F811
    """The usage lives in the stored cursor, never the payload: a payload that carries one is refused as not
    matching stored state, and the report is computed from what was stored."""
    arn = start(sfn, engine, example("linear-5.json"), {"topic": "tides"})
    wait(sfn, arn)
    _, fields = state_reader.read_state(endpoint, arn, ["cursor"])
    assert "usage" in fields["cursor"] and fields["cursor"]["usage"]["lambda_requests"] >= 1
    events = history_all(sfn, arn)
    runs = [e for e in events if e["type"] == "TaskSucceeded"]
    kernel = json.loads(runs[-2]["taskSucceededEventDetails"]["output"])["Payload"]  # what Finalize was given
    lam = client("lambda", endpoint)
    kernel["cursor"]["usage"] = {"lambda_requests": 10 ** 300}
    r, body = invoke(lam, {"action": "finalize", "kernel": kernel}, name="segment-runner")
    assert r.get("FunctionError") and body["errorType"] == "Analemma.InvalidEvent", body
    kernel["cursor"]["usage"] = {"lambda_requests": 5_000_000}
    r, body = invoke(lam, {"action": "finalize", "kernel": kernel}, name="segment-runner")
    assert not r.get("FunctionError"), body
    assert body["cost"]["usage"]["lambda_requests"] < 100, body["cost"]  # the stored tally, not the payload's word
    _, after = state_reader.read_state(endpoint, arn, ["cursor"])
    assert after["cursor"] == fields["cursor"]


def cost_cli(endpoint, arn):
    env = dict(os.environ, AWS_ENDPOINT_URL=endpoint, AWS_ACCESS_KEY_ID="test", AWS_SECRET_ACCESS_KEY="test",
               AWS_REGION="us-east-1", STATE_BUCKET="analemma-state", MANIFEST_TABLE="analemma-manifests")
    binary = os.path.join(ROOT, os.environ.get("ANALEMMA_BIN_DIR", ".build/release"), "analemma")
    r = subprocess.run([binary, "cost", arn], capture_output=True, text=True, env=env, timeout=120)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def test_analemma_cost_reads_a_waiting_run_from_state_and_an_ended_one_from_its_output(sfn, endpoint, engine):  # noqa: F811
    arn = start(sfn, engine, example("research-brief.json"), {"topic": "tidal"})
    pending = pending_token(sfn, endpoint, arn)
    waiting = cost_cli(endpoint, arn)
    _, fields = state_reader.read_state(endpoint, arn, ["cursor"])
    assert waiting["source"] == "state" and waiting["status"] == "RUNNING" and waiting["chain"] == [arn]
    assert waiting["cost"]["usage"] == fields["cursor"]["usage"] and waiting["cost"]["usd"]["total"] > 0, waiting
    r = aws_cli(endpoint, "stepfunctions", "send-task-success", "--task-token", pending["task_token"],
                "--task-output", json.dumps({"approval": "yes", "notes": "ok"}))
    assert r.returncode == 0, r.stderr
    cost, _, _ = check(sfn, endpoint, arn)
    ended = cost_cli(endpoint, arn)
    assert ended["source"] == "output" and ended["cost"] == cost
    # Counts only grow: the ended report holds at least what the waiting one did, service by service.
    assert all(cost["usage"].get(k, 0) >= v for k, v in waiting["cost"]["usage"].items()), (waiting, cost)
