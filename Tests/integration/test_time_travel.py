"""Time travel and fork for users, through the real `analemma` binary and segment-runner bootstrap: `history` lists a
run's checkpoints, `state` reads any of them, `diff` compares two, and `fork` starts a new execution from one with
fields changed, sharing every block it did not change and recording its lineage; the owner checks hold throughout."""

import json
import os
import subprocess

import state_reader
from conftest import ROOT, client
from test_workflows import aws_cli, example, pending_token, start, wait, engine  # noqa: F401


def analemma(endpoint, *args):
    env = dict(os.environ, AWS_ENDPOINT_URL=endpoint, AWS_ACCESS_KEY_ID="test", AWS_SECRET_ACCESS_KEY="test",
               AWS_REGION="us-east-1", STATE_BUCKET="analemma-state", MANIFEST_TABLE="analemma-manifests")
    binary = os.path.join(ROOT, os.environ.get("ANALEMMA_BIN_DIR", ".build/release"), "analemma")
    return subprocess.run([binary, *args], capture_output=True, text=True, env=env, timeout=120)


def ok(endpoint, *args):
    r = analemma(endpoint, *args)
    assert r.returncode == 0, r.stderr
    return [json.loads(line) for line in r.stdout.splitlines()]


def answered_run(sfn, endpoint, engine, notes="fine"):  # noqa: F811
    arn = start(sfn, engine, example("research-brief.json"), {"topic": "kelp"})
    pending = pending_token(sfn, endpoint, arn)
    r = aws_cli(endpoint, "stepfunctions", "send-task-success", "--task-token", pending["task_token"],
                "--task-output", json.dumps({"approval": "yes", "notes": notes}))
    assert r.returncode == 0, r.stderr
    d = wait(sfn, arn)
    assert d["status"] == "SUCCEEDED", d
    return arn, json.loads(d["output"])


def test_history_state_and_diff_read_every_checkpoint_of_a_run(sfn, endpoint, engine):  # noqa: F811
    arn, output = answered_run(sfn, endpoint, engine)
    lines = ok(endpoint, "history", arn)
    assert [c["version"] for c in lines] == list(range(1, len(lines) + 1)) and len(lines) >= 4
    assert lines[0]["status"] == "continue" and lines[-1]["status"] == "done"
    answered = next(c for c in lines if "approval" in c["changed"])
    assert answered["nodes"] == ["review"] and answered["changed"]["notes"] == len(json.dumps("fine"))
    assert any(c["status"] == "wait_human" for c in lines[:lines.index(answered)])
    [before] = ok(endpoint, "state", arn, "--at", f"v{answered['version'] - 1}", "topic", "draft")
    assert set(before["state"]) == {"topic", "draft"} and before["state"]["topic"] == "kelp"
    [at] = ok(endpoint, "state", arn, "--at", answered["manifest_id"][:12], "approval", "notes")
    assert at["state"] == {"approval": "yes", "notes": "fine"} and at["manifest_id"] == answered["manifest_id"]
    [head] = ok(endpoint, "state", arn)
    assert head["state"]["final"] == output["output"]["final"] and head["version"] == lines[-1]["version"]
    [diff] = ok(endpoint, "diff", f"{arn}@v{answered['version'] - 1}", f"v{answered['version']}")
    changes = {c["field"]: c for c in diff["changes"]}
    assert changes["approval"]["kind"] == "added" and changes["approval"]["after"] == "yes"
    assert changes["notes"]["after"] == "fine" and "draft" not in changes
    bad = analemma(endpoint, "state", arn, "--at", "v999")
    assert bad.returncode == 1 and "names no checkpoint" in bad.stderr
    foreign = analemma(endpoint, "history", arn, "--owner", "team-b")
    assert foreign.returncode == 1 and "Analemma.Forbidden" in foreign.stderr


def test_a_fork_at_the_answered_review_ends_differently_and_shares_every_unchanged_block(sfn, endpoint, engine):  # noqa: F811
    arn, output = answered_run(sfn, endpoint, engine)
    answered = next(c for c in ok(endpoint, "history", arn) if "approval" in c["changed"])
    [forked] = ok(endpoint, "fork", arn, "--at", f"v{answered['version']}", "--set", 'notes="cite the 2025 survey"')
    assert forked["forked_from"] == arn and forked["at"] == answered["manifest_id"]
    d = wait(sfn, forked["execution_id"])
    assert d["status"] == "SUCCEEDED", d
    out = json.loads(d["output"])["output"]
    assert out["final"] != output["output"]["final"] and out["final"].endswith("Reviewer notes: cite the 2025 survey")
    assert out["approval"] == "yes"
    # the fork's first checkpoint: the source checkpoint's refs for every field it did not change, block for block
    c = {"dynamodb": client("dynamodb", endpoint), "s3": client("s3", endpoint)}
    source = state_reader.table(c, state_reader.manifest(c, arn, answered["manifest_id"]))
    first = next(m for m in state_reader.history(c, forked["execution_id"]) if m["state"] == "COMMITTED")
    fork = state_reader.table(c, first)
    assert first["parent_manifest_id"] == answered["manifest_id"]
    changed = {"notes", "cursor", "execution_id", "lineage"}
    unchanged = sorted(set(source) - changed)
    assert unchanged and all(fork[f]["sha256"] == source[f]["sha256"] for f in unchanged)
    shared = [f for f in unchanged if fork[f]["block"] == source[f]["block"]]
    assert shared == unchanged, f"fields copied into new blocks: {sorted(set(unchanged) - set(shared))}"
    new_blocks = state_reader.blocks(c, first) - state_reader.blocks(c, state_reader.manifest(c, arn, answered["manifest_id"]))
    assert len(new_blocks) <= 4, new_blocks  # the changed fields' blocks (and a page), nothing else
    [lineage] = ok(endpoint, "state", forked["execution_id"], "--at", "v1", "lineage")
    assert lineage["state"]["lineage"] == {"forked_from": arn, "at": answered["manifest_id"], "from": "", "set": "notes"}
    [diff] = ok(endpoint, "diff", f"{arn}@{answered['manifest_id']}", f"{forked['execution_id']}@v1")
    assert {ch["field"] for ch in diff["changes"]} == changed
    print(json.dumps({"bench": "fork.research_brief", "metric": "shared_fields", "value": len(shared), "unit": "fields",
                      "new_blocks": len(new_blocks), "fields": len(fork)}))


def test_a_fork_from_a_node_runs_from_there(sfn, endpoint, engine):  # noqa: F811
    arn, _ = answered_run(sfn, endpoint, engine)
    [forked] = ok(endpoint, "fork", arn, "--at", "v1", "--from", "publish", "--set", 'draft="a shorter brief"',
                  "--set", 'notes="none"')
    d = wait(sfn, forked["execution_id"])
    assert d["status"] == "SUCCEEDED", d
    assert json.loads(d["output"])["output"]["final"] == "a shorter brief\n\nReviewer notes: none"


def fork_start(sfn, engine, fork):  # noqa: F811
    arn = sfn.start_execution(stateMachineArn=engine["state_machine_arn"], input=json.dumps({"fork": fork}))["executionArn"]
    return arn, wait(sfn, arn)


def test_a_forged_or_protected_fork_is_refused_and_writes_nothing(sfn, endpoint, engine):  # noqa: F811
    arn, _ = answered_run(sfn, endpoint, engine)
    c = {"dynamodb": client("dynamodb", endpoint)}
    first = state_reader.history(c, arn)[0]["manifest_id"]
    cases = [({"execution_id": arn, "owner_id": "team-b", "at": first}, "Analemma.ForgedPointer"),
             ({"execution_id": arn, "owner_id": "team-a", "at": "0" * 64}, "Analemma.ForgedPointer"),
             ({"execution_id": arn, "owner_id": "team-a", "at": first, "set": {"cursor": {}}}, "Analemma.ProtectedField"),
             ({"execution_id": arn, "owner_id": "team-a", "at": first, "from": "nowhere"}, "Analemma.InvalidState"),
             ({"execution_id": arn, "owner_id": "team-a", "at": first, "sneaky": 1}, "Analemma.InvalidEvent"),
             ({"execution_id": arn, "owner_id": "team-a", "at": first, "set": {f"f{i}": 1 for i in range(1001)}},
              "Analemma.InvalidEvent")]
    for fork, code in cases:
        new, d = fork_start(sfn, engine, fork)
        assert d["status"] == "FAILED" and d["error"] == code, (fork, d)
        assert state_reader.head(c, new) == (None, 0), "a refused fork wrote a checkpoint"
    bad = analemma(endpoint, "fork", arn, "--at", "v1", "--set", "notes=not json")
    assert bad.returncode == 1 and "not JSON" in bad.stderr
