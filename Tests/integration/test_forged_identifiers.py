"""Forged and foreign identifiers, every kind, at every function (direct Invoke through the real bootstraps).

Two owners of this module's own (so no other test's GC or retention touches their state) each have live
executions: one driven step by step (its exact current kernel payload in hand) and one waiting for a human with a
subscribed WebSocket client. The attacker may invoke any function with any event. Every forged event must be
refused with a coded error (or, for the GC worker and retention, change nothing), leave both owners' S3 objects and
DynamoDB items exactly as they were, and post nothing to any WebSocket connection."""

import copy
import hashlib
import json
import time
import urllib.request

import pytest

from conftest import invoke
from test_bad_input import record_case
from test_glassbox import gateway, token
from test_workflows import example, loop_workflow, pending_token, start
from wsclient import WebSocketClient  # Deploy/local

import resources  # Deploy/local

RUN = str(time.time_ns())[-9:]
OWNER_A, OWNER_B = f"forge-a-{RUN}", f"forge-b-{RUN}"
ACCOUNT_ARN = "arn:aws:states:us-east-1:123456789012"


def key(arn):
    return hashlib.sha256(arn.encode()).hexdigest()[:24]


@pytest.fixture(scope="module")
def world(endpoint, lam, sfn):
    engine = resources.ensure(endpoint)
    c = resources.clients(endpoint)
    direct = {}
    for owner in (OWNER_A, OWNER_B):
        arn = f"{ACCOUNT_ARN}:execution:direct:{owner}"
        # A loop longer than one invocation's row of segments (64): the run stops mid-way, its cursor still `continue`.
        doc = {"owner_id": owner, "workflow": loop_workflow(80), "input": {}}
        _, k0 = invoke(lam, {"action": "initialize", "execution_id": arn, "start": doc}, name="segment-runner")
        _, k1 = invoke(lam, {"action": "run", "kernel": k0}, name="segment-runner")
        assert k1.get("version") == 65 and k1["cursor"]["status"] == "continue", k1
        direct[owner] = k1
    waiting = {}
    for owner in (OWNER_A, OWNER_B):
        arn = start(sfn, engine, example("research-brief.json"), {"topic": "forgery"}, owner=owner)
        pending_token(sfn, endpoint, arn)
        waiting[owner] = arn
    victim = WebSocketClient(endpoint, token(OWNER_A), timeout=2)
    victim.send({"action": "subscribe", "execution_id": waiting[OWNER_A]})
    assert victim.receive()["type"] == "subscribed"
    victim.receive_until(lambda m: any(e["event"] == "human_waiting" for e in m.get("events", [])))
    connection = next(cid for cid in gateway(endpoint)["connections"])
    blocks = sorted(o["Key"].rsplit("/", 1)[1] for o in c["s3"].list_objects_v2(
        Bucket=engine["bucket"], Prefix=f"owners/{OWNER_B}/blocks/").get("Contents", []))
    yield {"engine": engine, "c": c, "direct": direct, "waiting": waiting, "victim": victim, "connection": connection,
           "blocks_b": blocks}
    victim.close()


def snapshot(w):
    """Everything either owner has: S3 objects (key → ETag) under both prefixes and the ResultWriter prefix, and every
    DynamoDB item (all tables) that names either owner or any of their executions."""
    c, engine = w["c"], w["engine"]
    objects = {}
    for prefix in (f"owners/{OWNER_A}/", f"owners/{OWNER_B}/", "map-runs/"):
        for page in c["s3"].get_paginator("list_objects_v2").paginate(Bucket=engine["bucket"], Prefix=prefix):
            objects.update({o["Key"]: o["ETag"] for o in page.get("Contents", [])})
    marks = [OWNER_A, OWNER_B, *[k["execution_id"] for k in w["direct"].values()], *w["waiting"].values(), w["connection"]]
    items = []
    for table in (engine["manifest_table"], engine["refs_table"], engine["connections_table"]):
        for page in c["dynamodb"].get_paginator("scan").paginate(TableName=table):
            items += sorted(json.dumps(i, sort_keys=True) for i in page["Items"] if any(m in json.dumps(i) for m in marks))
    return objects, sorted(items)


def writes(endpoint, function):
    """Accepted writes the function has made so far, per service (the front door's ledger, by its own credentials)."""
    with urllib.request.urlopen(f"{endpoint}/_analemma/writes", timeout=10) as r:
        return json.loads(r.read()).get(function, {})


# Services whose writes by the function must not move during a refused call. The gc-worker is left to the snapshot
# (retention may rightly expire other tests' old executions; deferred candidates from earlier tests arrive on their
# own), and so are the notifier's DynamoDB deletes (an earlier test's announcement may find a connection gone).
WATCHED = {"segment-runner": None, "light-aggregator": None, "websocket-notifier": {"apigateway", "sqs", "s3"}}


def forged_segment_events(w):
    ka, kb = w["direct"][OWNER_A], w["direct"][OWNER_B]

    def with_(k, **changes):
        out = copy.deepcopy(k)
        for path, value in changes.items():
            node, *rest = path.split("__")
            target = out
            for part in [node, *rest][:-1]:
                target = target[part]
            target[[node, *rest][-1]] = value
        return out
    chunk_map = {"node": "m", "bucket": w["engine"]["bucket"], "key": "k",
                 "prefix": f"owners/{OWNER_B}/executions/{key(kb['execution_id'])}/map/m/1", "items": 1, "chunks": 1,
                 "chunk_size": 1, "max_concurrency": 1, "tolerated_failure_percentage": 0, "step": 1}
    chunk = {"chunk": f"s3://{w['engine']['bucket']}/{chunk_map['prefix']}/chunk_0001.json", "index": 1, "size": 1}
    return {
        "run: another execution's id": {"action": "run", "kernel": with_(ka, execution_id=kb["execution_id"])},
        "run: another owner's id": {"action": "run", "kernel": with_(ka, owner_id=OWNER_B)},
        "run: another execution's manifest": {"action": "run", "kernel": with_(ka, manifest_id=kb["manifest_id"])},
        "run: a version ahead": {"action": "run", "kernel": with_(ka, version=ka["version"] + 5)},
        "run: another owner's workflow": {"action": "run", "kernel": with_(ka, cursor__workflow=kb["cursor"]["workflow"])},
        "run: another execution's trace id": {"action": "run", "kernel": with_(ka, trace_id=kb["trace_id"])},
        "finalize: a cursor claiming done": {"action": "finalize", "kernel": with_(ka, cursor__status="done")},
        "map_done: statistics naming another owner's objects": {"action": "map_done", "kernel": with_(
            ka, cursor__status="fan_out", map_agg={"stats": {"bucket": w["engine"]["bucket"], "map_run_arn": "arn:x:y",
                                                              "result_files": {"FAILED": [{"Key": f"owners/{OWNER_B}/x"}]}}})},
        "initialize: replay of another owner's execution": {"action": "initialize", "execution_id": kb["execution_id"],
                                                            "start": {"owner_id": OWNER_A, "workflow": example("linear-5.json"),
                                                                      "input": {"topic": "forgery"}}},
        "map_chunk: another execution's map": {"action": "map_chunk", "item": {
            "chunk": chunk, "map": chunk_map, "workflow": kb["cursor"]["workflow"],
            "identity": {"execution_id": kb["execution_id"], "owner_id": OWNER_B, "trace_id": kb["trace_id"]}}},
        "map_chunk: a negative index": {"action": "map_chunk", "item": {
            "chunk": {**chunk, "index": -6}, "map": chunk_map, "workflow": kb["cursor"]["workflow"],
            "identity": {"execution_id": kb["execution_id"], "owner_id": OWNER_B, "trace_id": kb["trace_id"]}}},
        "map_chunk: an index of 2^62": {"action": "map_chunk", "item": {
            "chunk": {**chunk, "index": 2 ** 62}, "map": chunk_map, "workflow": kb["cursor"]["workflow"],
            "identity": {"execution_id": kb["execution_id"], "owner_id": OWNER_B, "trace_id": kb["trace_id"]}}},
        "initialize: continuing another owner's execution": {"action": "initialize", "execution_id": f"{ka['execution_id']}-next",
                                                            "start": {"continue": {"execution_id": kb["execution_id"], "owner_id": OWNER_A,
                                                                                   "manifest_id": kb["manifest_id"], "version": kb["version"]}}},
        "initialize: continuing an execution that hands over to no one": {
            "action": "initialize", "execution_id": f"{kb['execution_id']}-next",
            "start": {"continue": {"execution_id": kb["execution_id"], "owner_id": OWNER_B, "manifest_id": kb["manifest_id"],
                                   "version": kb["version"]}}},
        "heal: another execution's id": {"action": "heal", "kernel": with_(
            kb, execution_id=ka["execution_id"], error_info={"Error": "Analemma.Transient", "Cause": "x"})},
    }


def forged_aggregator_events(w):
    arn = w["waiting"][OWNER_A]
    run = f"{ACCOUNT_ARN}:mapRun:analemma-workflow/FanOut:forged{RUN}"
    return {
        "aggregate: a map run that is not the execution's": {"map_run": {"MapRunArn": run, "ResultWriterDetails": {
            "Bucket": w["engine"]["bucket"], "Key": f"map-runs/forged{RUN}/manifest.json"}}, "execution_id": arn,
            "owner_id": OWNER_A, "trace_id": "t"},
        "aggregate: another owner's object as the manifest": {"map_run": {"MapRunArn": run, "ResultWriterDetails": {
            "Bucket": w["engine"]["bucket"], "Key": f"owners/{OWNER_B}/workflows/x.json"}}, "execution_id": arn},
        "aggregate: another bucket": {"map_run": {"MapRunArn": run, "ResultWriterDetails": {
            "Bucket": "somebody-elses-bucket", "Key": f"map-runs/forged{RUN}/manifest.json"}}, "execution_id": arn},
    }


def forged_notifier_events(w):
    cid, arn_a, arn_b = w["connection"], w["waiting"][OWNER_A], w["waiting"][OWNER_B]

    def message(body, route="subscribe"):
        return {"requestContext": {"routeKey": route, "eventType": "MESSAGE", "connectionId": cid, "stage": "local"},
                "body": json.dumps(body)}

    def announcement(owner, execution, shard):
        return {"Records": [{"messageId": "m1", "body": json.dumps({
            "owner_id": owner, "execution_id": execution, "trace_id": "t", "count": 1, "last_event": "checkpoint",
            "shard": f"s3://{w['engine']['bucket']}/{shard}"})}]}
    a_events = f"owners/{OWNER_A}/executions/{key(arn_a)}/events"
    return {
        "subscribe: the victim's connection, no token": message({"action": "subscribe", "execution_id": arn_a}),
        "subscribe: the victim's connection, another owner's token": message(
            {"action": "subscribe", "execution_id": arn_a, "token": token(OWNER_B)}),
        "answer: the victim's connection, no token": message(
            {"action": "answer", "execution_id": arn_a, "answer": {"approval": "yes", "notes": "forged"}}, route="$default"),
        "answer: the victim's connection, another owner's token": message(
            {"action": "answer", "execution_id": arn_a, "answer": {"approval": "yes"}, "token": token(OWNER_B)}),
        "$disconnect: the victim's live connection": {"requestContext": {"routeKey": "$disconnect", "eventType": "DISCONNECT",
                                                                         "connectionId": cid}},
        "$connect: taking over the victim's connection": {
            "requestContext": {"routeKey": "$connect", "eventType": "CONNECT", "connectionId": cid},
            "queryStringParameters": {"token": token(OWNER_B)}},
        "announce: another owner's shard to the victim's execution": announcement(
            OWNER_A, arn_a, f"owners/{OWNER_B}/executions/{key(arn_b)}/events/0000000000001-x.jsonl"),
        "announce: another execution's folder of the same owner": announcement(
            OWNER_A, arn_a, f"owners/{OWNER_A}/executions/{key(arn_b)}/events/0000000000001-x.jsonl"),
        "announce: the victim's execution as another owner": announcement(OWNER_B, arn_a, f"{a_events}/0000000000001-x.jsonl"),
    }


def forged_gc_events(w):
    block = w["blocks_b"][0]
    return {
        "collect: another owner's live block": {"Records": [{"messageId": "g1", "body": json.dumps(
            {"owner_id": OWNER_B, "block": block, "reason": "forged"})}]},
        "collect: a live block under the wrong owner": {"Records": [{"messageId": "g2", "body": json.dumps(
            {"owner_id": OWNER_A, "block": block, "reason": "forged"})}]},
        "collect: an owner that climbs": {"Records": [{"messageId": "g3", "body": json.dumps(
            {"owner_id": f"{OWNER_A}/../{OWNER_B}", "block": block})}]},
        "retain: anyone may ask (live executions are never expired)": {"action": "retain"},
    }


CASES = [("segment-runner", forged_segment_events), ("light-aggregator", forged_aggregator_events),
         ("websocket-notifier", forged_notifier_events), ("gc-worker", forged_gc_events)]


def all_cases():
    """(function, case name) pairs; events are built from the live world inside the test."""
    dummy = {"engine": {"bucket": "b"}, "direct": {o: {"execution_id": "e", "owner_id": o, "manifest_id": "m", "version": 1,
                                                          "trace_id": "t", "cursor": {"workflow": "w", "status": "continue"}}
                                                      for o in (OWNER_A, OWNER_B)},
             "waiting": {OWNER_A: "a", OWNER_B: "b"}, "connection": "c", "blocks_b": ["0" * 64]}
    return [(function, name) for function, build in CASES for name in build(dummy)]


@pytest.mark.parametrize("function,case", all_cases(), ids=[f"{f}: {n}" for f, n in all_cases()])
def test_a_forged_identifier_is_refused_and_changes_nothing(endpoint, lam, sfn, world, function, case):
    event = dict(CASES)[function](world)[case]
    before, posted, wrote = snapshot(world), gateway(endpoint)["posted"], writes(endpoint, function)
    r, out = invoke(lam, event, name=function)
    refused = bool(r.get("FunctionError")) and out.get("errorType", "").startswith("Analemma.")
    if function == "gc-worker":  # it answers batches and retention with a report: refusal is "nothing happened"
        refused = not r.get("FunctionError") or refused
    elif function == "websocket-notifier" and not r.get("FunctionError"):  # routes answer with status codes; SQS: drop
        refused = out.get("statusCode", 200) >= 400 if "statusCode" in out else out == {"batchItemFailures": []}
    watched = WATCHED.get(function, set())
    written = {svc: n - wrote.get(svc, 0) for svc, n in writes(endpoint, function).items()
               if n != wrote.get(svc, 0) and (watched is None or svc in watched)} if function in WATCHED else {}
    after = snapshot(world)
    if function == "gc-worker":  # retention rightly deletes ended executions' ResultWriter files (other tests')
        after = ({**after[0], **{k: v for k, v in before[0].items() if k.startswith("map-runs/") and k not in after[0]}},
                 after[1])
    changed = after != before or bool(written)
    leaked = gateway(endpoint)["posted"] != posted
    try:
        world["victim"].ws.recv(timeout=0.5)
        leaked = True
    except TimeoutError:
        pass
    record_case(clear_error=refused, wrongly_allowed=not refused, state_changed=changed or leaked)
    assert refused, out
    assert not written, f"a forged event made writes: {written}"
    assert not changed, "a forged event changed stored state"
    assert not leaked, "a forged event posted to a WebSocket connection"
    if function in ("segment-runner", "light-aggregator"):
        for k in world["direct"].values():
            assert k["manifest_id"] not in json.dumps(out) or case.startswith("run: another execution's manifest"), out


def test_the_victims_stay_usable_after_every_forgery(endpoint, lam, sfn, world):
    """The refusals changed nothing: the victim's question is still open and answered through its own connection."""
    victim, arn = world["victim"], world["waiting"][OWNER_A]
    victim.send({"action": "answer", "execution_id": arn, "answer": {"approval": "yes", "notes": "real"}})
    got = victim.receive_until(lambda m: m.get("type") in ("answered", "error", "answer_refused"))
    assert got[-1]["type"] == "answered", got[-1]
    for owner, k in world["direct"].items():
        _, nxt = invoke(lam, {"action": "run", "kernel": k}, name="segment-runner")
        assert nxt.get("version", 0) > k["version"] and nxt["cursor"]["status"] == "done", nxt
