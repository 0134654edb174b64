"""The gc-worker bootstrap fed by the local stack's SQS event source mapping (Deploy/local/event_sources.py):
re-verification, deletion, idempotent replays, deferral of fresh candidates, partial batch failures, DLQ."""

import hashlib
import json
import time

import pytest

import resources

GRACE = 3  # GC_GRACE_SECONDS of the local stack (Functions/gc-worker/function.json local.environment)


@pytest.fixture(scope="module")
def env(endpoint):
    engine = resources.ensure(endpoint)
    return engine, resources.clients(endpoint)


def block(c, engine, owner, body, refs=None, condemned_ago=None):
    h = hashlib.sha256(body).hexdigest()
    c["s3"].put_object(Bucket=engine["bucket"], Key=f"owners/{owner}/blocks/{h}", Body=body)
    if refs is not None:
        item = {"pk": {"S": f"BLK#{owner}#{h}"}, "sk": {"S": "META"}, "refs": {"N": str(refs)}}
        if condemned_ago is not None:
            item["condemned_at"] = {"N": str(int((time.time() - condemned_ago) * 1000))}
        c["dynamodb"].put_item(TableName=engine["refs_table"], Item=item)
    return h


def send(c, engine, body):
    c["sqs"].send_message(QueueUrl=engine["gc_queue_url"], MessageBody=body if isinstance(body, str) else json.dumps(body))


def exists(c, engine, owner, h):
    try:
        c["s3"].head_object(Bucket=engine["bucket"], Key=f"owners/{owner}/blocks/{h}")
        return True
    except c["s3"].exceptions.ClientError:
        return False


def meta(c, engine, owner, h):
    return c["dynamodb"].get_item(TableName=engine["refs_table"], Key={"pk": {"S": f"BLK#{owner}#{h}"}, "sk": {"S": "META"}},
                                  ConsistentRead=True).get("Item", {})


def until(predicate, seconds=30):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


def queue_empty(c, url):
    a = c["sqs"].get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    return a["ApproximateNumberOfMessages"] == "0" and a["ApproximateNumberOfMessagesNotVisible"] == "0" \
        and a.get("ApproximateNumberOfMessagesDelayed", "0") == "0"


def test_an_unreferenced_condemned_block_is_deleted_and_a_replay_deletes_nothing_twice(env):
    engine, c = env
    h = block(c, engine, "gc-a", b"old bytes", refs=0, condemned_ago=60)
    send(c, engine, {"owner_id": "gc-a", "block": h, "reason": "test"})
    assert until(lambda: "deleted_at" in meta(c, engine, "gc-a", h)), meta(c, engine, "gc-a", h)
    assert not exists(c, engine, "gc-a", h) and "claimed_at" in meta(c, engine, "gc-a", h)
    deleted_at = meta(c, engine, "gc-a", h)["deleted_at"]
    c["s3"].put_object(Bucket=engine["bucket"], Key=f"owners/gc-a/blocks/{h}", Body=b"old bytes")  # a writer re-uploaded it
    send(c, engine, {"owner_id": "gc-a", "block": h, "reason": "replayed"})
    assert until(lambda: queue_empty(c, engine["gc_queue_url"]))
    assert meta(c, engine, "gc-a", h)["deleted_at"] == deleted_at and exists(c, engine, "gc-a", h)


def test_a_referenced_block_is_kept(env):
    engine, c = env
    h = block(c, engine, "gc-b", b"still used", refs=1, condemned_ago=60)
    send(c, engine, {"owner_id": "gc-b", "block": h})
    assert until(lambda: queue_empty(c, engine["gc_queue_url"]))
    assert exists(c, engine, "gc-b", h) and "claimed_at" not in meta(c, engine, "gc-b", h)


def test_a_never_referenced_block_is_condemned_then_deleted_after_the_grace_period(env):
    engine, c = env
    h = block(c, engine, "gc-c", b"orphan of a crashed commit")
    send(c, engine, {"owner_id": "gc-c", "block": h, "reason": "aborted manifest"})
    assert until(lambda: "condemned_at" in meta(c, engine, "gc-c", h))
    assert exists(c, engine, "gc-c", h), "deleted before the grace period"
    assert until(lambda: not exists(c, engine, "gc-c", h), seconds=GRACE + 20)
    assert "deleted_at" in meta(c, engine, "gc-c", h)


def test_a_poisoned_message_fails_alone_and_lands_in_the_dlq(env):
    engine, c = env
    h = block(c, engine, "gc-d", b"good one", refs=0, condemned_ago=60)
    c["sqs"].purge_queue(QueueUrl=engine["gc_dlq_url"])
    send(c, engine, {"owner_id": "../../etc", "block": "nope"})
    send(c, engine, {"owner_id": "gc-d", "block": h})
    assert until(lambda: not exists(c, engine, "gc-d", h)), "the good message of the batch was not processed"

    def in_dlq():
        msgs = c["sqs"].receive_message(QueueUrl=engine["gc_dlq_url"], MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", [])
        return any("../../etc" in m["Body"] for m in msgs)
    assert until(in_dlq, seconds=40), "the poisoned message never reached the DLQ"


def sweep(lam):
    r = lam.invoke(FunctionName="gc-worker", Payload=json.dumps({"action": "sweep"}).encode())
    out = json.loads(r["Payload"].read())
    assert "FunctionError" not in r, out
    return out


def test_the_sweeper_rolls_back_interrupted_commits_and_queues_unreachable_blocks(env, lam, sfn):
    engine, c = env
    # a live execution: its blocks are reachable and must survive
    with open(resources.ROOT + "/Deploy/examples/workflows/linear-5.json") as f:
        workflow = json.load(f)
    run = sfn.start_execution(stateMachineArn=engine["state_machine_arn"],
                              input=json.dumps({"owner_id": "gc-live", "workflow": workflow, "input": {"topic": "kept"}}))
    assert until(lambda: sfn.describe_execution(executionArn=run["executionArn"])["status"] == "SUCCEEDED")
    live = [o["Key"] for o in c["s3"].list_objects_v2(Bucket=engine["bucket"], Prefix="owners/gc-live/blocks/")["Contents"]]
    # an orphan (a crashed commit's upload nobody references) and an interrupted commit's recovery record
    orphan = block(c, engine, "gc-e", b"orphan bytes")
    pending = block(c, engine, "gc-f", b"in an interrupted commit")
    body = {"manifest_id": "f" * 64, "parent_manifest_id": None, "execution_id": "exec-interrupted", "owner_id": "gc-f",
            "segment_index": 1, "fields": {"x": {"block": pending, "offset": 0, "length": 24, "size": 24,
                                                 "sha256": hashlib.sha256(b"in an interrupted commit").hexdigest(),
                                                 "encoding": "identity", "temperature": "HOT", "mutations": 1}}}
    c["dynamodb"].put_item(TableName=engine["manifest_table"], Item={
        "pk": {"S": "EXEC#exec-interrupted"}, "sk": {"S": "M#" + "f" * 64}, "body": {"S": json.dumps(body)},
        "state": {"S": "PREPARED"}, "owner_id": {"S": "gc-f"}, "segment_index": {"N": "1"},
        "prepared_at": {"N": str(int((time.time() - 60) * 1000))}})
    time.sleep(GRACE + 1)
    report = sweep(lam)
    assert report["aborted_commits"] == 1 and report["queued_from_recovery"] == 1 and report["orphans_queued"] >= 1, report
    assert report["objects_scanned"] >= len(live) + 2
    # aborted, its references released, then forgotten (recovery deletes the record once nothing is left to undo)
    assert "Item" not in c["dynamodb"].get_item(TableName=engine["manifest_table"],
                                                Key={"pk": {"S": "EXEC#exec-interrupted"}, "sk": {"S": "M#" + "f" * 64}})
    assert until(lambda: not exists(c, engine, "gc-e", orphan) and not exists(c, engine, "gc-f", pending), seconds=3 * GRACE + 20)
    for key in live:
        c["s3"].head_object(Bucket=engine["bucket"], Key=key)  # still there
    again = sweep(lam)  # idempotent: nothing left to roll back
    assert again["aborted_commits"] == 0


MIN_AGE = 8  # RETENTION_MIN_AGE_SECONDS of the local stack; RETENTION_KEEP_LAST is 2 there
HUMAN = {"workflow_id": "wait-for-me", "version": 1, "entry": "ask", "nodes": [
    {"id": "ask", "type": "hitp", "writes": ["approval"], "config": {"question": "Ship it?"}}], "edges": []}


def execution_objects(c, engine, owner, arn):
    prefix = f"owners/{owner}/executions/{hashlib.sha256(arn.encode()).hexdigest()[:24]}/"
    return [o["Key"] for o in c["s3"].list_objects_v2(Bucket=engine["bucket"], Prefix=prefix).get("Contents", [])]


def map_run_objects(c, engine, sfn, arn):
    runs = [e["mapRunStartedEventDetails"]["mapRunArn"].split(":")[-1]
            for e in sfn.get_execution_history(executionArn=arn, maxResults=1000)["events"] if e["type"] == "MapRunStarted"]
    keys = []
    for run in runs:
        keys += [o["Key"] for o in c["s3"].list_objects_v2(Bucket=engine["bucket"], Prefix=f"map-runs/{run}/").get("Contents", [])]
    return runs, keys


def test_retention_expires_only_old_ended_executions_and_leaves_nothing_of_them(env, lam, sfn):
    """Live (waiting for a human), recently ended and old ended executions of two owners: only the old ended ones
    past RETENTION_KEEP_LAST expire, each leaving no object, manifest or block behind; the human still answers."""
    from test_workflows import example, start, wait
    engine, c = env
    owner, other = f"ret-{int(time.time())}", f"ret2-{int(time.time())}"
    waiting = start(sfn, engine, HUMAN, {}, owner=owner)
    mapping = example("map-scoring.json")
    mapping["nodes"][0]["config"].update(chunk_size=5, inline_max_chunks=0, tolerated_failure_percentage=50)
    old = [start(sfn, engine, example("linear-5.json"), {"topic": f"old {i}"}, owner=owner) for i in range(2)]
    old.append(start(sfn, engine, mapping, {"docs": [{"id": i, "words": i, "broken": False} for i in range(20)]}, owner=owner))
    lone = start(sfn, engine, example("linear-5.json"), {"topic": "only one"}, owner=other)
    for arn in old + [lone]:
        assert wait(sfn, arn, seconds=120)["status"] == "SUCCEEDED"
    runs, before = map_run_objects(c, engine, sfn, old[2])
    assert runs and before, "the distributed map wrote no ResultWriter files"
    assert all(execution_objects(c, engine, owner, arn) for arn in old), "each execution owns objects (event shards, chunks)"
    time.sleep(MIN_AGE + 1)
    recent = [start(sfn, engine, example("linear-5.json"), {"topic": f"recent {i}"}, owner=owner) for i in range(3)]
    for arn in recent:
        assert wait(sfn, arn)["status"] == "SUCCEEDED"
    assert sfn.describe_execution(executionArn=waiting)["status"] == "RUNNING"

    r = lam.invoke(FunctionName="gc-worker", Payload=json.dumps({"action": "retain"}).encode())
    report = json.loads(r["Payload"].read())
    assert "FunctionError" not in r, report
    expired = set(report["expired"])
    assert set(old) <= expired, report
    assert not expired & {waiting, lone, *recent}, report  # live, the other owner's only one, ended too recently

    def head(arn):
        return c["dynamodb"].get_item(TableName=engine["manifest_table"], Key={"pk": {"S": f"EXEC#{arn}"}, "sk": {"S": "HEAD"}}).get("Item")
    assert all(head(arn) is None for arn in old) and all(head(arn) for arn in [waiting, lone, *recent])
    for arn in old:
        left = c["dynamodb"].query(TableName=engine["manifest_table"], KeyConditionExpression="pk = :p",
                                   ExpressionAttributeValues={":p": {"S": f"EXEC#{arn}"}})["Items"]
        assert left == [] and execution_objects(c, engine, owner, arn) == [], arn
    assert map_run_objects(c, engine, sfn, old[2])[1] == [], "the map's ResultWriter files were left behind"

    import state_reader
    endpoint = c["s3"].meta.endpoint_url
    kept = set()
    for arn in [waiting, *recent]:  # kept executions read back whole (every block checked against its hash)
        m, fields = state_reader.read_state(endpoint, arn)
        assert m is not None and fields["owner_id"] == owner
        kept |= {b for past in state_reader.history(c, arn) for b in state_reader.blocks(c, past)}  # time travel too

    def only_kept_blocks():
        listed = c["s3"].list_objects_v2(Bucket=engine["bucket"], Prefix=f"owners/{owner}/blocks/").get("Contents", [])
        left = {o["Key"].rsplit("/", 1)[1] for o in listed}
        return left <= kept and left
    assert until(only_kept_blocks, seconds=3 * GRACE + 30), "blocks only the expired executions used were not collected"
    # The human step of the live execution still works after retention.
    _, fields = state_reader.read_state(endpoint, waiting, ["pending_human"])
    sfn.send_task_success(taskToken=fields["pending_human"]["task_token"], output=json.dumps({"approval": "yes"}))
    assert wait(sfn, waiting)["status"] == "SUCCEEDED"
