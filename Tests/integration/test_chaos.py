"""Chaos (`make chaos`): the end-to-end workflows — routes, a human, a heal, an inline map, a 1,000-item Distributed
Map — on a stack that injects AWS's documented faults into a fraction of the product's calls (`--chaos RATE,SEED`).
Each scenario first runs with chaos off (the reference), then with it on: every execution must reach the same
outcome with the same user fields, and the state invariants must hold (every pointer of every committed manifest
reads back and matches its hash; every block's reference count is exactly its REF items; every referenced block
exists; no side effect twice — one heal record, one answer, each map item counted once).

Skipped unless ANALEMMA_CHAOS is set (make chaos sets it to the rate the stack was started with)."""

import json
import os
import re
import time
import urllib.request

import pytest

from conftest import client
from test_instance_death import user_fields
from test_map import docs, BROKEN
from test_workflows import engine, example, pending_token, start, wait  # noqa: F401 (fixtures)

import state_reader

RATE = os.environ.get("ANALEMMA_CHAOS")
pytestmark = pytest.mark.skipif(not RATE, reason="chaos runs through `make chaos`")
RUN = str(time.time_ns())[-8:]


def chaos(endpoint, **req):
    r = urllib.request.Request(f"{endpoint}/_analemma/chaos", data=json.dumps(req).encode() if req else None,
                               method="POST" if req else "GET")
    with urllib.request.urlopen(r, timeout=10) as resp:
        return json.loads(resp.read())


def gemini(endpoint, method="GET", doc=None):
    r = urllib.request.Request(f"{endpoint}/_analemma/gemini", method=method,
                               data=json.dumps(doc).encode() if doc is not None else None)
    with urllib.request.urlopen(r, timeout=10) as resp:
        return json.loads(resp.read())


def mapped(chunk_size, inline_max, n, tolerance):
    w = example("map-scoring.json")
    w["nodes"][0]["config"].update(chunk_size=chunk_size, tolerated_failure_percentage=tolerance, inline_max_chunks=inline_max)
    return w, {"docs": docs(n, broken=tuple(b for b in BROKEN if b < n))}


def healing():
    return example("self-healing.json"), {"source": "https://example.com/a"}


SCENARIOS = {
    "routes": lambda: (example("branching.json"), {"ticket": {"title": "DB down", "severity": "high"}}),
    "linear": lambda: (example("linear-5.json"), {"topic": "chaos"}),
    "human": lambda: (example("research-brief.json"), {"topic": "chaos"}),
    "heal": healing,
    "inline map": lambda: mapped(10, 1_000_000, 200, 10.0),
    "distributed map": lambda: mapped(1, 0, 1000, 1.0),
}
ANSWER = {"approval": "yes", "notes": "under chaos"}


def run(sfn, endpoint, engine, name, owner):  # noqa: F811
    workflow, given = SCENARIOS[name]()
    gemini(endpoint, "DELETE")
    if name == "heal":  # the heal's model answer (a retried Heal step may ask again: it gets the same one)
        gemini(endpoint, "POST", {"model": "*", "responses": [{"text": "Use the mirror URL instead."}] * 8})
    arn = start(sfn, engine, workflow, given, owner=owner)
    if name == "human":
        pending = pending_token(sfn, endpoint, arn, seconds=120)
        sfn.send_task_success(taskToken=pending["task_token"], output=json.dumps(ANSWER))
    d = wait(sfn, arn, seconds=900)
    gemini(endpoint, "DELETE")
    return arn, d


def comparable(value):
    """A final state without what differs between any two runs: the owner's, execution's and map run's own names in
    pointers and wall-clock times."""
    if isinstance(value, dict):
        return {k: comparable(v) for k, v in value.items() if not (k == "at_ms" or k.endswith("_at_ms"))}
    if isinstance(value, list):
        return [comparable(v) for v in value]
    if isinstance(value, str):
        value = re.sub(r"owners/[^/]+/executions/[0-9a-f]+/", "owners/O/executions/E/", value)
        return re.sub(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "U", value)  # map run and execution ids
    return value


def differences(want, got):
    """What differs, key by key for objects (short)."""
    if isinstance(want, dict) and isinstance(got, dict):
        return {k: differences(want.get(k), got.get(k)) for k in set(want) | set(got) if want.get(k) != got.get(k)}
    return (str(want)[:300], str(got)[:300])


def check_invariants(endpoint, engine, owner, arns):  # noqa: F811
    """The state of `owner` (this suite's own) after the runs: (violations, how many manifests and blocks were checked)."""
    c = {s: client(s, endpoint) for s in ("s3", "dynamodb")}
    bad, checked = [], {"manifests": 0, "blocks": 0}
    referenced = set()
    for arn in arns:
        for m in state_reader.history(c, arn):
            if m["state"] != "COMMITTED":
                continue
            checked["manifests"] += 1
            try:
                state_reader.read_fields(c, m)  # every field's bytes, checked against its SHA-256
            except Exception as e:  # noqa: BLE001 — any failure to read back is a dangling pointer
                bad.append(f"{arn}: manifest {m['manifest_id'][:12]} does not read back: {e}")
            referenced |= {(b, arn) for b in state_reader.blocks(c, m)}
    items = []
    for page in c["dynamodb"].get_paginator("scan").paginate(TableName=engine["refs_table"]):
        items += [i for i in page["Items"] if i["pk"]["S"].startswith(f"BLK#{owner}#")]
    refs, metas = {}, {}
    for i in items:
        block = i["pk"]["S"].split("#", 2)[2]
        if i["sk"]["S"] == "META":
            metas[block] = int(i.get("refs", {"N": "0"})["N"])
        else:
            refs.setdefault(block, set()).add(i["sk"]["S"][len("REF#"):])
    checked["blocks"] = len(set(metas) | set(refs))
    for block in set(metas) | set(refs):
        if metas.get(block, 0) != len(refs.get(block, ())):
            bad.append(f"block {block[:12]}: refs {metas.get(block)} but {len(refs.get(block, ()))} REF items")
    for block, arn in referenced:
        if arn not in refs.get(block, ()):
            bad.append(f"block {block[:12]} is used by {arn} without a reference")
        try:
            c["s3"].head_object(Bucket=engine["bucket"], Key=f"owners/{owner}/blocks/{block}")
        except Exception:  # noqa: BLE001
            bad.append(f"block {block[:12]} used by {arn} is missing from S3")
    if not checked["manifests"] or not checked["blocks"]:
        bad.append(f"nothing was checked: {checked}")
    return bad, checked


def test_every_execution_reaches_its_correct_outcome_under_chaos(sfn, endpoint, engine):  # noqa: F811
    rate = float(RATE)
    chaos(endpoint, rate=0)
    reference = {}
    for name in SCENARIOS:
        arn, d = run(sfn, endpoint, engine, name, owner=f"chaos-ref-{RUN}")
        assert d["status"] == "SUCCEEDED", (name, d.get("error"), str(d.get("cause"))[:500])
        reference[name] = (comparable(json.loads(d["output"])["output"]), comparable(user_fields(endpoint, arn)))
    chaos(endpoint, rate=rate)
    before = chaos(endpoint)
    owner, arns, wrong = f"chaos-{RUN}", [], []
    for name in SCENARIOS:
        arn, d = run(sfn, endpoint, engine, name, owner=owner)
        arns.append(arn)
        if d["status"] != "SUCCEEDED":
            wrong.append(f"{name}: {d['status']} {d.get('error')} {str(d.get('cause'))[:300]}")
            continue
        output, fields = reference[name]
        got = comparable(user_fields(endpoint, arn))
        if comparable(json.loads(d["output"])["output"]) != output or got != fields:
            diff = {k: differences(fields.get(k), got.get(k)) for k in set(fields) | set(got) if fields.get(k) != got.get(k)}
            wrong.append(f"{name}: final state differs from the undisturbed run's: {diff}")
    after = chaos(endpoint)
    chaos(endpoint, rate=0)  # the checks below read state without faults
    violations, checked = check_invariants(endpoint, engine, owner, arns)
    faults = after["faults"] - before["faults"]
    print(json.dumps({"bench": "chaos", "metric": "executions_correct", "value": len(SCENARIOS) - len(wrong),
                      "unit": f"of {len(SCENARIOS)}", "rate": rate}))
    print(json.dumps({"bench": "chaos", "metric": "faults_injected", "value": faults, "unit": "faults",
                      "calls": after["calls"] - before["calls"], "by_kind": {k: after[k] - before[k] for k in
                                                                          ("throttle", "server_error", "reset", "lost_answer")},
                      "by_service": {svc: sum(kinds.values()) - sum(before["by_service"].get(svc, {}).values())
                                     for svc, kinds in after["by_service"].items()}}))
    print(json.dumps({"bench": "chaos", "metric": "invariant_violations", "value": len(violations), "unit": "violations",
                      **checked}))
    report = os.environ.get("ANALEMMA_CHAOS_REPORT")
    if report:
        with open(report, "a") as f:
            f.write(json.dumps({"rate": rate, "executions": len(SCENARIOS), "correct": len(SCENARIOS) - len(wrong),
                                "faults": faults, "calls": after["calls"] - before["calls"],
                                "violations": len(violations), "wrong": wrong, "violation_list": violations[:20]}) + "\n")
    assert faults > 0, "chaos injected nothing"
    assert not wrong, wrong
    assert not violations, violations[:20]
