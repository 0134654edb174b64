"""Long runs (`make reliability`, ANALEMMA_LONG=1): a 2,000-traversal loop - about 4,000 kernel steps, more than
one execution's 25,000-event history holds, so it continues once as a new execution - keeps its payload under 4 KB
at every transition of the chain."""

import os

import pytest

from test_continue_as_new import chain
from test_workflows import PAYLOAD_LIMIT, engine, loop_workflow, start, state_outputs  # noqa: F401

pytestmark = pytest.mark.skipif(not os.environ.get("ANALEMMA_LONG"), reason="long run: make reliability runs it")


def test_a_2000_traversal_loop_keeps_the_payload_under_4_kb_at_every_transition(sfn, engine):  # noqa: F811
    arn = start(sfn, engine, {**loop_workflow(2000), "budget": {"node_runs": 10_000}}, {})
    executions = chain(sfn, arn)
    assert executions[-1]["status"] == "SUCCEEDED", executions[-1]
    outputs = [o for e in executions for o in state_outputs(sfn, e["executionArn"])]
    assert len(outputs) > 4000
    sizes = [len(o["output"].encode()) for o in outputs]
    assert max(sizes) <= PAYLOAD_LIMIT, max(sizes)
    print(f"long-runs: {len(outputs)} transitions in {len(executions)} executions, largest payload {max(sizes)} bytes")
