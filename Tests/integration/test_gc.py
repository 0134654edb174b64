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


def test_retention_keeps_the_last_executions_and_collects_the_rest(env, lam):
    """Local policy RETENTION_KEEP_LAST=2: the oldest of three executions of an owner is expired, its blocks collected."""
    engine, c = env
    with open(resources.ROOT + "/Deploy/examples/workflows/linear-5.json") as f:
        workflow = json.load(f)
    owner = f"ret-{int(time.time())}"
    executions = []
    for i in range(3):
        execution = f"arn:aws:states:us-east-1:123456789012:execution:retention:{owner}-{i}"
        r = lam.invoke(FunctionName="segment-runner", Payload=json.dumps({"action": "initialize", "execution_id": execution, "start": {
            "owner_id": owner, "workflow": workflow, "input": {"topic": f"topic number {i}"}}}).encode())
        assert "FunctionError" not in r
        executions.append(execution)
        time.sleep(0.05)
    oldest_blocks = {o["Key"] for o in c["s3"].list_objects_v2(Bucket=engine["bucket"], Prefix=f"owners/{owner}/blocks/")["Contents"]}
    r = lam.invoke(FunctionName="gc-worker", Payload=json.dumps({"action": "retain"}).encode())
    report = json.loads(r["Payload"].read())
    assert "FunctionError" not in r, report
    assert executions[0] in report["expired"] and executions[1] not in report["expired"] and executions[2] not in report["expired"]
    heads = [c["dynamodb"].get_item(TableName=engine["manifest_table"], Key={"pk": {"S": f"EXEC#{e}"}, "sk": {"S": "HEAD"}}).get("Item")
             for e in executions]
    assert heads[0] is None and heads[1] and heads[2]
    assert report["blocks_queued"] >= 1

    def collected():
        left = {o["Key"] for o in c["s3"].list_objects_v2(Bucket=engine["bucket"], Prefix=f"owners/{owner}/blocks/").get("Contents", [])}
        return len(left) < len(oldest_blocks)
    assert until(collected, seconds=3 * GRACE + 20), "the expired execution's own blocks were not collected"
    import state_reader
    endpoint = c["s3"].meta.endpoint_url
    for e in executions[1:]:  # the kept executions still read back whole (every block checked against its hash)
        m, fields = state_reader.read_state(endpoint, e)
        assert m is not None and fields["owner_id"] == owner
