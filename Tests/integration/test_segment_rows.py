"""Segments in a row: the segment runner runs consecutive segments in one invocation while no state-machine step is
needed between them (no human, no Distributed Map) and the deadline leaves room, checkpointing each. Standard
workflows are billed per state transition: one segment per invocation costs two (RunSegment + Route).

Transitions are counted as AWS bills them: every state entered (`*StateEntered` in the execution's history)."""

import json

from conftest import client
from test_workflows import MODEL, aws_cli, engine, example, history_all, pending_token, start, wait  # noqa: F401

import state_reader


def linear_llm(n):
    """A straight line of `n` model calls: every `llm` node is a segment of its own."""
    return {"workflow_id": f"linear-llm-{n}", "entry": "n0", "inputs": ["topic"], "outputs": [f"f{n - 1}"],
            "nodes": [{"id": f"n{i}", "type": "llm", "reads": ["topic"] if i == 0 else [f"f{i - 1}"], "writes": [f"f{i}"],
                       "config": {"prompt": "Go on: {{topic}}" if i == 0 else f"Go on: {{{{f{i - 1}}}}}",
                                  "complexity": "low"}}
                      for i in range(n)],
            "edges": [{"from": f"n{i}", "to": f"n{i + 1}"} for i in range(n - 1)]}


def transitions(events):
    return sum(1 for e in events if e["type"].endswith("StateEntered"))


def checkpoints(endpoint, arn):
    return state_reader.history({"dynamodb": client("dynamodb", endpoint)}, arn)


def test_a_100_segment_linear_workflow_costs_at_most_half_a_transition_per_segment(sfn, endpoint, engine):  # noqa: F811
    segments = 100
    arn = start(sfn, engine, linear_llm(segments), {"topic": "tides"})
    d = wait(sfn, arn, seconds=300)
    assert d["status"] == "SUCCEEDED", d
    out = json.loads(d["output"])["output"]
    assert out[f"f{segments - 1}"].startswith(f"[gemini-standin {MODEL['low']}] Go on:"), out
    events = history_all(sfn, arn)
    per_segment = transitions(events) / segments
    assert per_segment <= 0.5, (transitions(events), segments)
    # Still one checkpoint per segment: the initial one, one per segment, the final one.
    records = checkpoints(endpoint, arn)
    m, fields = state_reader.read_state(endpoint, arn)
    assert fields["cursor"]["step"] >= segments and len(records) >= segments + 1, (fields["cursor"]["step"], len(records))
    assert fields["llm_usage"]["total"]["calls"] == segments
    runs = [e for e in events if e["type"] == "TaskStateEntered" and e["stateEnteredEventDetails"]["name"] == "RunSegment"]
    assert len(runs) < segments / 10, len(runs)
    print(json.dumps({"bench": "transitions.linear_100", "metric": "transitions_per_segment", "value": round(per_segment, 3),
                      "unit": "transitions/segment", "segments": segments, "run_invocations": len(runs),
                      "baseline_one_segment_per_invocation": 2.0}))


def test_the_research_brief_stops_its_row_at_the_human_step_and_reports_its_figure(sfn, endpoint, engine):  # noqa: F811
    arn = start(sfn, engine, example("research-brief.json"), {"topic": "kelp"})
    pending = pending_token(sfn, endpoint, arn)
    assert pending["node"] == "review"
    r = aws_cli(endpoint, "stepfunctions", "send-task-success", "--task-token", pending["task_token"],
                "--task-output", json.dumps({"approval": "yes", "notes": "fine"}))
    assert r.returncode == 0, r.stderr
    d = wait(sfn, arn)
    assert d["status"] == "SUCCEEDED", d
    events = history_all(sfn, arn)
    names = [e["stateEnteredEventDetails"]["name"] for e in events if e["type"].endswith("StateEntered")]
    # The human waits get their own states (AskHuman, Resume); the segments before them ran in one RunSegment.
    assert "AskHuman" in names and "Resume" in names, names
    assert names.index("RunSegment") < names.index("AskHuman") and names.count("RunSegment") <= 2, names
    _, fields = state_reader.read_state(endpoint, arn)
    steps = fields["cursor"]["step"]
    print(json.dumps({"bench": "transitions.research_brief", "metric": "transitions_per_segment",
                      "value": round(len(names) / steps, 3), "unit": "transitions/segment", "transitions": len(names),
                      "steps": steps}))
