"""An instance that dies mid-step (kill -9 of the real segment-runner bootstrap) is retried by the state machine
(`Runtime.ExitError`, bounded) and the kernel's replay makes the retry safe: every execution completes with exactly
the state an undisturbed run produces.

The local Lambda service SIGKILLs the instance serving the n-th invocation, `ms` after delivering it (a seeded plan:
`POST /_analemma/kills`), so the death lands before, during or after the step's commit.
"""

import json
import random
import urllib.request

from conftest import ROOT  # noqa: F401 (sys.path for Deploy/local)
from test_workflows import engine, example, start, wait  # noqa: F401 (fixtures)

import state_reader

SEED = 20261201
EXECUTIONS = 20
PROTECTED = {"execution_id", "owner_id", "trace_id", "cursor", "llm_usage", "workflow_id"}


def plan_kills(endpoint, plan):
    req = urllib.request.Request(f"{endpoint}/_analemma/kills", method="POST",
                                 data=json.dumps({"function": "segment-runner", "plan": plan}).encode())
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.loads(r.read())["killed"]


def user_fields(endpoint, arn):
    _, fields = state_reader.read_state(endpoint, arn)
    return {k: v for k, v in fields.items() if k not in PROTECTED}


def test_kill_9_at_seeded_points_every_execution_completes_with_undisturbed_state(sfn, endpoint, engine):  # noqa: F811
    workflow = example("linear-5.json")
    baseline_arn = start(sfn, engine, workflow, {"topic": "wind"})
    baseline = wait(sfn, baseline_arn)
    assert baseline["status"] == "SUCCEEDED", baseline
    expected_output = json.loads(baseline["output"])["output"]
    expected_fields = user_fields(endpoint, baseline_arn)
    steps = len([e for e in sfn.get_execution_history(executionArn=baseline_arn, maxResults=1000)["events"]
                 if e["type"] == "TaskScheduled"])
    assert steps >= 3  # initialize, run (its three segments in a row), finalize

    rng = random.Random(SEED)
    killed = []
    for i in range(EXECUTIONS):
        # One death per execution, at a seeded step and moment (0-30 ms into the invocation). Executions run one at a
        # time so the numbering names this execution's invocations and a retry is never the one killed.
        plan_kills(endpoint, {str(rng.randint(1, steps)): rng.randint(0, 30)})
        arn = start(sfn, engine, workflow, {"topic": "wind"})
        d = wait(sfn, arn)
        killed += plan_kills(endpoint, {})
        assert d["status"] == "SUCCEEDED", (i, d)
        assert json.loads(d["output"])["output"] == expected_output
        assert user_fields(endpoint, arn) == expected_fields
    # The plan really killed instances mid-invocation, and the state machine really retried deaths.
    assert len(killed) == EXECUTIONS, killed
    assert plan_kills(endpoint, {}) == []
    retried = 0
    for e in sfn.list_executions(stateMachineArn=engine["state_machine_arn"], maxResults=1000)["executions"]:
        events = sfn.get_execution_history(executionArn=e["executionArn"], maxResults=1000)["events"]
        retried += sum(1 for ev in events if ev["type"] == "TaskFailed"
                       and ev["taskFailedEventDetails"].get("error") == "Runtime.ExitError")
    assert retried >= EXECUTIONS // 2, f"only {retried} Runtime.ExitError retries seen for {EXECUTIONS} kills"
