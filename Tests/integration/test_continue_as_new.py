"""Past the history limit: a workflow longer than one execution's history can hold continues as new executions of
the same state machine (continue-as-new). The chain keeps its trace id and its budgets, every execution stays under
the limit, and the first execution's ARN leads to the final result.

Runs on a stack whose history limit is lowered (`stack.py up --history-limit N`, which the segment runner follows):
ANALEMMA_HISTORY_LIMIT names it. `make reliability` runs a 10,000-segment loop this way (ANALEMMA_LONG=1); otherwise
a 600-segment one."""

import json
import os
import subprocess

import pytest

from conftest import ROOT, client
from test_tracing import collector, spans_of, trace_hex
from test_workflows import engine, history_all, loop_workflow, start, wait  # noqa: F401 (fixtures)

import state_reader

LIMIT = int(os.environ.get("ANALEMMA_HISTORY_LIMIT") or 0)
pytestmark = pytest.mark.skipif(not LIMIT, reason="needs a stack with a lowered history limit (make reliability)")
SEGMENTS = 10_000 if os.environ.get("ANALEMMA_LONG") else 600


def chain(sfn, first):
    """Every execution of the chain that starts at `first`, in order, each once it ended."""
    out, arn = [], first
    while True:
        d = wait(sfn, arn, seconds=3600)
        out.append(d)
        result = json.loads(d.get("output") or "{}")
        if d["status"] != "SUCCEEDED" or result.get("outcome") != "CONTINUED_AS_NEW":
            return out
        arn = result["continued_as"]


def test_a_loop_longer_than_one_history_completes_as_a_chain_of_executions(sfn, endpoint, engine):  # noqa: F811
    traversals = SEGMENTS  # the loop's two route nodes chain into one segment: one segment (one step) per round
    collector(endpoint, "DELETE")
    arn = start(sfn, engine, {**loop_workflow(traversals), "budget": {"node_runs": 1_000_000}}, {})
    executions = chain(sfn, arn)
    last = executions[-1]
    assert last["status"] == "SUCCEEDED", (len(executions), last.get("error"), str(last.get("cause"))[:500])
    assert json.loads(last["output"])["output"] == {"done": "looped"}
    assert len(executions) >= 2, "the loop never reached the history limit: nothing was continued"
    sizes = [len(history_all(sfn, e["executionArn"])) for e in executions]
    assert max(sizes) < LIMIT, sizes
    # One trace id, one owner, the manifest chain continued, budgets counted across the chain.
    traces = {json.loads(e["output"])["trace_id"] for e in executions}
    assert len(traces) == 1, traces
    _, fields = state_reader.read_state(endpoint, last["executionArn"], ["cursor", "trace_id", "execution_id"])
    cursor = fields["cursor"]
    assert fields["trace_id"] in traces and fields["execution_id"] == last["executionArn"]
    assert cursor["traversals"]["b->a"] == traversals and cursor["runs"] >= SEGMENTS
    assert cursor["chain"]["index"] == len(executions) - 1 and cursor["chain"]["root"] == arn
    c = {"dynamodb": client("dynamodb", endpoint)}
    first_of_last = state_reader.history(c, last["executionArn"])[0]
    previous_head, _ = state_reader.head(c, executions[-2]["executionArn"])
    assert first_of_last["parent_manifest_id"] == previous_head, "the new execution does not continue the last manifest"
    # The first execution's ARN leads to the final result: `analemma outcome` follows the chain.
    env = dict(os.environ, AWS_ENDPOINT_URL=endpoint, AWS_ACCESS_KEY_ID="test", AWS_SECRET_ACCESS_KEY="test", AWS_REGION="us-east-1")
    binary = os.path.join(ROOT, os.environ.get("ANALEMMA_BIN_DIR", ".build/release"), "analemma")
    r = subprocess.run([binary, "outcome", arn], capture_output=True, text=True, env=env, timeout=120)
    assert r.returncode == 0, r.stderr
    outcome = json.loads(r.stdout)
    assert outcome["execution_id"] == last["executionArn"] and outcome["chain"] == [e["executionArn"] for e in executions]
    assert outcome["output"]["output"] == {"done": "looped"}
    # One trace, one root: the first execution's span, closed by the last; every execution's segments under it.
    spans = spans_of(endpoint, trace_hex(fields["trace_id"]), seconds=60)
    roots = [s for s in spans if s["parent_span_id"] == ""]
    assert len(roots) == 1 and roots[0]["name"] == "execution", [r["name"] for r in roots]
    root = roots[0]["attributes"]
    assert root["analemma.execution_id"] == arn and root["analemma.last_execution_id"] == last["executionArn"]
    segments = [s for s in spans if s["name"].startswith("segment ")]
    assert all(s["parent_span_id"] == roots[0]["span_id"] for s in segments)
    assert {s["attributes"]["analemma.execution_id"] for s in segments} == {e["executionArn"] for e in executions}
    print(json.dumps({"bench": "continue-as-new", "metric": "executions", "value": len(executions), "unit": "executions",
                      "segments": SEGMENTS, "history_limit": LIMIT, "largest_history": max(sizes)}))
