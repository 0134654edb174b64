"""Long runs (`make reliability`, ANALEMMA_LONG=1): a 2,000-traversal loop - about 4,000 kernel steps, run as rows of
segments in one invocation each (up to SEGMENTS_PER_INVOCATION) - ends with every traversal counted, its output
written, and the payload under 4 KB at every transition. Continuing as new executions past the history limit is
`make continue-as-new`'s (test_continue_as_new.py)."""

import json
import os

import pytest

from test_continue_as_new import chain
from test_workflows import PAYLOAD_LIMIT, engine, loop_workflow, start, state_outputs  # noqa: F401

import state_reader

pytestmark = pytest.mark.skipif(not os.environ.get("ANALEMMA_LONG"), reason="long run: make reliability runs it")

TRAVERSALS = 2000


def test_a_2000_traversal_loop_keeps_the_payload_under_4_kb_at_every_transition(sfn, endpoint, engine):  # noqa: F811
    arn = start(sfn, engine, {**loop_workflow(TRAVERSALS), "budget": {"node_runs": 10_000}}, {})
    executions = chain(sfn, arn)
    last = executions[-1]
    assert last["status"] == "SUCCEEDED", last
    assert json.loads(last["output"])["output"] == {"done": "looped"}
    _, fields = state_reader.read_state(endpoint, last["executionArn"], ["cursor"])
    assert fields["cursor"]["traversals"]["b->a"] == TRAVERSALS, fields["cursor"]["traversals"]
    # Each transition's payload, RunSegment's after every row of segments included.
    outputs = [o for e in executions for o in state_outputs(sfn, e["executionArn"])]
    runs = [o for o in outputs if o["name"] == "RunSegment"]
    assert runs, [o["name"] for o in outputs]
    sizes = [len(o["output"].encode()) for o in outputs]
    assert max(sizes) <= PAYLOAD_LIMIT, max(sizes)
    print(f"long-runs: {TRAVERSALS} traversals in {len(outputs)} transitions ({len(runs)} RunSegment) across "
          f"{len(executions)} executions, largest payload {max(sizes)} bytes")
