"""Glass box end to end: the real segment-runner writes event shards and announces them on the FIFO queue; the real
websocket-notifier (local SQS event source + the local WebSocket API) posts them to WebSocket clients."""

import hashlib
import json
import os
import time
import urllib.request

import pytest

from conftest import ROOT, invoke
from test_workflows import example, pending_token, start, wait
from wsclient import Refused, WebSocketClient  # Deploy/local

import resources  # Deploy/local
import viewer  # Deploy/local

LIMIT = 128 * 1024


def token(owner, ttl=3600, secret=None):
    """A connect token from the real `analemma token` command (the local stack's secret unless another is given)."""
    return viewer.token(owner, ttl, bin_dir=os.path.join(ROOT, os.environ.get("ANALEMMA_BIN_DIR", ".build/release")),
                        secret=secret)


def gateway(endpoint, **control):
    req = urllib.request.Request(f"{endpoint}/_analemma/websocket", data=json.dumps(control).encode() if control else None,
                                 method="POST" if control else "GET")
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.loads(r.read())


@pytest.fixture(scope="module")
def engine(endpoint):
    return resources.ensure(endpoint)


def catalogue():
    """The glass-box README's event catalogue (generated from the kernel's EventKind): event -> its attributes."""
    with open(os.path.join(ROOT, "Sources", "Analemma", "GlassBox", "README.md")) as f:
        rows = [line.split("|") for line in f if line.startswith("| `")]
    return {row[1].strip().strip("`"): {a.strip().strip("`") for a in row[2].split(",") if a.strip()} for row in rows}


def events_of(messages):
    """Events in arrival order, each once: a shard announced while a subscriber's backlog was being sent arrives
    twice, and clients keep the first copy of each (shard, seq)."""
    seen, out = set(), []
    for m in messages:
        for e in m.get("events", []) if m.get("type") == "events" else []:
            if (m["shard"], e["seq"]) not in seen:
                seen.add((m["shard"], e["seq"]))
                out.append(e)
    return out


def finished(m):
    return m.get("type") == "events" and any(e["event"] == "execution_finished" for e in m["events"])


def subscribe(endpoint, owner, arn):
    ws = WebSocketClient(endpoint, token(owner))
    ws.send({"action": "subscribe", "execution_id": arn})
    first = ws.receive()
    return ws, first


def test_events_reach_a_subscriber_live_in_order_with_one_trace_id(sfn, endpoint, engine):
    arn = start(sfn, engine, example("research-brief.json"), {"topic": "tidal energy"})
    pending_token(sfn, endpoint, arn)
    ws, first = subscribe(endpoint, "team-a", arn)
    assert first["type"] == "subscribed" and first["execution_id"] == arn, first
    backlog = ws.receive_until(lambda m: any(e["event"] == "human_waiting" for e in m.get("events", [])))
    # A wrong answer is refused by the route itself (nothing sent), and says why.
    ws.send({"action": "answer", "execution_id": arn, "answer": {"approval": "yes", "is_admin": True}})
    refused = ws.receive_until(lambda m: m.get("type") in ("answer_refused", "answered"))[-1]
    assert refused["type"] == "answer_refused" and "is_admin" in refused["reason"] and refused["node"] == "review", refused
    # answered through the same socket: the notifier sends the task token it read from state
    ws.send({"action": "answer", "execution_id": arn, "answer": {"approval": "yes", "notes": "ship it"}})
    live = ws.receive_until(finished, limit=500)
    # A second answer after the token was used is reported as such, not acknowledged.
    ws.send({"action": "answer", "execution_id": arn, "answer": {"approval": "no"}})
    late = ws.receive_until(lambda m: m.get("type") in ("already_answered", "answered", "answer_refused", "error"))[-1]
    ws.close()
    assert wait(sfn, arn)["status"] == "SUCCEEDED"
    assert any(m.get("type") == "answered" and m["node"] == "review" and m["status"] == "accepted" for m in live)
    assert late["type"] == "already_answered", late
    events = events_of(backlog + live)
    kinds = [e["event"] for e in events]
    for expected in ("execution_started", "segment_started", "node_started", "node_finished", "llm_call", "checkpoint",
                     "human_waiting", "human_answered", "segment_finished", "execution_finished"):
        assert expected in kinds, f"{expected} missing from {kinds}"
    # in order: time never goes back, and within a shard seq counts up
    assert [e["time_ms"] for e in events] == sorted(e["time_ms"] for e in events)
    assert kinds.index("human_waiting") < kinds.index("human_answered") < kinds.index("execution_finished")
    assert kinds[0] == "execution_started" and kinds[-1] == "execution_finished"
    assert {e["trace_id"] for e in events} == {first["trace_id"]} and first["trace_id"]
    assert {e["execution_id"] for e in events} == {arn} and {e["owner_id"] for e in events} == {"team-a"}
    call = next(e for e in events if e["event"] == "llm_call")
    llm = call["attributes"]
    assert llm["gen_ai.request.model"] and int(llm["gen_ai.usage.input_tokens"]) > 0
    # the prompt and completion travel in the shard (bodies), not in log lines
    assert "tidal energy" in call["bodies"]["prompt"] and call["bodies"]["completion"].startswith("[gemini-standin")
    # every event is one the catalogue lists (generated from EventKind), with only the attributes it lists
    documented = catalogue()
    for e in events:
        assert e["event"] in documented, f"{e['event']} is not in the catalogue"
        assert set(e["attributes"]) <= documented[e["event"]], (e["event"], set(e["attributes"]) - documented[e["event"]])
    cp = next(e for e in events if e["event"] == "checkpoint")["attributes"]
    assert int(cp["s3_puts"]) >= 1 and int(cp["bytes"]) > 0 and len(cp["manifest_id"]) == 64
    assert max(ws.sizes) <= LIMIT


def test_the_trace_id_is_on_every_shard_and_manifest_of_the_execution(sfn, endpoint, engine):
    arn = start(sfn, engine, example("linear-5.json"), {"topic": "wind"})
    assert wait(sfn, arn)["status"] == "SUCCEEDED"
    c = resources.clients(endpoint)
    manifests = c["dynamodb"].query(TableName=engine["manifest_table"], KeyConditionExpression="pk = :p",
                                    ExpressionAttributeValues={":p": {"S": f"EXEC#{arn}"}})["Items"]
    traces = {i["trace_id"]["S"] for i in manifests if i["sk"]["S"].startswith("M#")}
    assert len(traces) == 1 and "" not in traces, traces
    trace = traces.pop()
    # the documented query (Deploy/README.md): manifests by trace id, then the execution's shards
    found = c["dynamodb"].scan(TableName=engine["manifest_table"], FilterExpression="trace_id = :t",
                               ExpressionAttributeValues={":t": {"S": trace}})["Items"]
    assert {i["pk"]["S"] for i in found} == {f"EXEC#{arn}"}
    shards = [o["Key"] for o in c["s3"].list_objects_v2(Bucket=engine["bucket"], Prefix=events_prefix(arn))
              .get("Contents", [])]
    mine = []
    for key in shards:
        tags = {t["Key"]: t["Value"] for t in c["s3"].get_object_tagging(Bucket=engine["bucket"], Key=key)["TagSet"]}
        body = c["s3"].get_object(Bucket=engine["bucket"], Key=key)["Body"].read().decode()
        records = [json.loads(line) for line in body.splitlines()]
        if records[0]["execution_id"] == arn:
            mine.append(key)
            assert tags["trace_id"] == trace and {r["trace_id"] for r in records} == {trace}
    assert len(mine) >= 4  # initialize, 3 segments, finalize


def test_another_owner_cannot_subscribe_or_answer(sfn, endpoint, engine):
    arn = start(sfn, engine, example("research-brief.json"), {"topic": "geothermal"})
    pending_token(sfn, endpoint, arn)
    ws, first = subscribe(endpoint, "team-b", arn)
    assert first["type"] == "error" and first["code"] == "Analemma.Forbidden", first
    assert "team-b" in first["message"]
    ws.send({"action": "answer", "execution_id": arn, "answer": {"approval": "yes", "notes": "forged"}})
    refused = ws.receive()
    assert refused["type"] == "error" and refused["code"] == "Analemma.Forbidden"
    time.sleep(1)
    assert sfn.describe_execution(executionArn=arn)["status"] == "RUNNING"  # still waiting for its owner
    ws.close()
    # an unknown execution is refused the same way (nothing tells B whether it exists)
    ws, first = subscribe(endpoint, "team-b", arn + "-nope")
    assert first["type"] == "error" and first["code"] == "Analemma.Forbidden"
    ws.close()


@pytest.mark.parametrize("make", [
    lambda: "",
    lambda: "v1.team-a.99999999999.0000",
    lambda: token("team-a", secret="another-secret-of-enough-length"),
    lambda: token("team-a", ttl=1),
])
def test_connections_without_a_valid_token_are_refused(endpoint, make):
    bad = make()
    if bad.startswith("v1.team-a.") and bad.count(".") == 3 and not bad.endswith("0000"):
        time.sleep(2.1)  # the 1-second token has expired by now
    before = gateway(endpoint)["refused"]
    with pytest.raises(Refused) as refused:
        WebSocketClient(endpoint, bad)
    assert refused.value.status == 401 and "connect token refused" in refused.value.body
    assert gateway(endpoint)["refused"] == before + 1


def test_a_token_that_expires_while_the_connection_is_open_stops_working(sfn, endpoint, engine):
    arn = start(sfn, engine, example("research-brief.json"), {"topic": "geothermal"})
    pending_token(sfn, endpoint, arn)
    ws = WebSocketClient(endpoint, token("team-a", ttl=3))
    ws.send({"action": "subscribe", "execution_id": arn})
    assert ws.receive()["type"] == "subscribed"
    time.sleep(3.5)  # the token expires; the socket stays open
    ws.send({"action": "subscribe", "execution_id": arn})
    refused = ws.receive_until(lambda m: m.get("type") == "error")[-1]
    assert refused["code"] == "Analemma.Forbidden" and "expired" in refused["message"], refused
    ws.send({"action": "answer", "execution_id": arn, "answer": {"approval": "yes"}})
    refused = ws.receive_until(lambda m: m.get("type") in ("error", "answered"))[-1]
    assert refused["type"] == "error" and "expired" in refused["message"], refused
    ws.close()
    assert sfn.describe_execution(executionArn=arn)["status"] == "RUNNING"  # the expired answer was not sent


def test_a_vanished_connection_is_dropped_on_410(sfn, endpoint, engine, lam):
    c = resources.clients(endpoint)
    arn = start(sfn, engine, example("research-brief.json"), {"topic": "hydro"})
    pending_token(sfn, endpoint, arn)
    ws, first = subscribe(endpoint, "team-a", arn)
    assert first["type"] == "subscribed"
    ws.receive_until(lambda m: any(e["event"] == "human_waiting" for e in m.get("events", [])))
    conn = gateway(endpoint)["connections"]
    items = lambda: c["dynamodb"].scan(TableName="analemma-connections")["Items"]  # noqa: E731
    ids = {i["pk"]["S"][5:] for i in items() if i["pk"]["S"].startswith("CONN#")}
    [mine] = [i for i in conn if i in ids and any(x["pk"]["S"] == f"SUB#{arn}" and x["sk"]["S"] == f"CONN#{i}" for x in items())]
    gateway(endpoint, forget=mine)  # the client vanished without a $disconnect
    gone_before = gateway(endpoint)["gone"]
    shard = latest_shard(c, engine, arn)
    r, out = invoke(lam, sqs_event(arn, shard), name="websocket-notifier")
    assert out == {"batchItemFailures": []}, out
    assert gateway(endpoint)["gone"] == gone_before + 1
    assert not [i for i in items() if mine in (i["pk"]["S"], i["sk"]["S"]) or i["pk"]["S"] == f"CONN#{mine}"
                or i["sk"]["S"] == f"CONN#{mine}"]
    ws.close()


def events_prefix(arn, owner="team-a"):
    return f"owners/{owner}/executions/{hashlib.sha256(arn.encode()).hexdigest()[:24]}/events/"


def latest_shard(c, engine, arn):
    keys = sorted(o["Key"] for o in c["s3"].list_objects_v2(Bucket=engine["bucket"], Prefix=events_prefix(arn))
                  .get("Contents", []))
    for key in reversed(keys):
        first = json.loads(c["s3"].get_object(Bucket=engine["bucket"], Key=key)["Body"].read().splitlines()[0])
        if first["execution_id"] == arn:
            return key
    pytest.fail("no shard")


def sqs_event(arn, key, owner="team-a", trace="t"):
    n = {"owner_id": owner, "execution_id": arn, "trace_id": trace, "shard": f"s3://analemma-state/{key}", "count": 1,
         "last_event": "x"}
    return {"Records": [{"messageId": "m-1", "body": json.dumps(n), "eventSource": "aws:sqs"}]}


def test_oversized_events_are_cut_to_128_kb_with_a_marker_and_pointer(sfn, endpoint, engine, lam):
    """A shard with huge events (written as the kernel writes shards) reaches the client in messages of ≤128 KB."""
    c = resources.clients(endpoint)
    arn = start(sfn, engine, example("research-brief.json"), {"topic": "fusion"})
    pending_token(sfn, endpoint, arn)
    ws, first = subscribe(endpoint, "team-a", arn)
    ws.receive_until(lambda m: any(e["event"] == "human_waiting" for e in m.get("events", [])))
    key = latest_shard(c, engine, arn).rsplit("/", 1)[0] + "/9999999999999-huge.jsonl"
    records = [{"event": "tool_call", "time_ms": 1, "seq": i, "execution_id": arn, "trace_id": first["trace_id"],
                "owner_id": "team-a", "attributes": {"args": ("é" * 90_000) if i % 3 == 0 else "x" * 20_000}}
               for i in range(12)]
    c["s3"].put_object(Bucket=engine["bucket"], Key=key, Body="\n".join(json.dumps(r) for r in records).encode())
    gateway(endpoint, throttle=2)  # the first two posts get 429: retried with backoff, nothing lost
    throttled = gateway(endpoint)["throttled"]
    _, out = invoke(lam, sqs_event(arn, key, trace=first["trace_id"]), name="websocket-notifier")
    assert out == {"batchItemFailures": []}
    got = ws.receive_until(lambda m: any(e["seq"] == 11 for e in m.get("events", [])))
    cut = [e for e in events_of(got) if e["seq"] in range(12)]
    assert [e["seq"] for e in cut] == list(range(12))  # every record, in order
    assert max(ws.sizes) <= LIMIT and len([m for m in got if m.get("type") == "events"]) > 1
    for e in cut:
        if e["seq"] % 3 == 0:
            assert e["truncated"] is True and e["full"] == f"s3://analemma-state/{key}#seq={e['seq']}"
            assert e["attributes"]["args"].endswith("…[truncated]")
        else:
            assert "truncated" not in e and len(e["attributes"]["args"]) == 20_000
    stats = gateway(endpoint)
    assert stats["throttled"] == throttled + 2 and stats["too_large"] == 0 and stats["max_message_bytes"] <= LIMIT
    ws.close()


def test_the_local_endpoint_answers_the_handshake_as_rfc_6455_says():
    from websocket import accept_key  # Deploy/local
    assert accept_key("dGhlIHNhbXBsZSBub25jZQ==") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="  # RFC 6455 §1.3


@pytest.mark.parametrize("name,expected,log", [
    ("connect.json", {"statusCode": 401}, "connection refused"),
    ("subscribe.json", {"statusCode": 401}, "message refused"),
    ("disconnect.json", {"statusCode": 200, "body": ""}, None),
    ("announcement.json", {"batchItemFailures": []}, None),
    ("announcement-forged.json", {"batchItemFailures": []}, "announcement dropped"),  # poison: never retried
])
def test_sample_events_do_what_the_readme_says(lam, engine, name, expected, log):
    import base64
    with open(os.path.join(ROOT, "Functions", "websocket-notifier", "events", name)) as f:
        event = json.load(f)
    r, out = invoke(lam, event, name="websocket-notifier", LogType="Tail")
    assert not r.get("FunctionError"), out
    assert {k: out[k] for k in expected} == expected, out
    if log:
        assert log in base64.b64decode(r["LogResult"]).decode()
