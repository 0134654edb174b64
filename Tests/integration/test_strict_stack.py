"""The local stack's conflict rules, one test per rule: it refuses what AWS refuses and accepts what AWS accepts.
Races are made deterministic with a hold (the front door keeps one request open, in flight, until released)."""

import json
import threading
import time
import urllib.request

import pytest
from botocore.exceptions import ClientError

from conftest import client

RUN = str(time.time_ns())


def control(endpoint, **req):
    data = json.dumps(req).encode() if req else None
    r = urllib.request.Request(f"{endpoint}/_analemma/holds", data=data, method="POST" if req else "GET")
    with urllib.request.urlopen(r, timeout=10) as resp:
        return json.loads(resp.read())


class Held:
    """Runs `call` in a thread whose request the front door holds open; `released()` lets it finish."""

    def __init__(self, endpoint, call, **hold):
        self.endpoint, self.hold = endpoint, control(endpoint, **hold)
        self.result, self.error = None, None
        self.thread = threading.Thread(target=self._run, args=(call,), daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self._reached():  # waits for the hold itself, not for a guessed time
            assert time.monotonic() < deadline, "the held request never arrived"
            time.sleep(0.01)

    def _reached(self):
        return any(h["id"] == self.hold["id"] and h["reached"] for h in control(self.endpoint)["holds"])

    def _run(self, call):
        try:
            self.result = call()
        except Exception as e:  # noqa: BLE001 — reported by released()
            self.error = e

    def released(self):
        control(self.endpoint, release=self.hold["id"])
        self.thread.join(30)
        if self.error:
            raise self.error
        return self.result


@pytest.fixture(scope="module")
def ddb(endpoint):
    c = client("dynamodb", endpoint)
    table = f"strict-{RUN}"
    c.create_table(TableName=table, BillingMode="PAY_PER_REQUEST",
                   AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                         {"AttributeName": "sk", "AttributeType": "S"}],
                   KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}])
    return c, table


@pytest.fixture(scope="module")
def s3(endpoint):
    c = client("s3", endpoint)
    bucket = f"strict-{RUN}"
    c.create_bucket(Bucket=bucket)
    return c, bucket


def item(name, **more):
    return {"pk": {"S": name}, "sk": {"S": "x"}, **{k: {"S": v} for k, v in more.items()}}


def put(table, name, **more):
    return {"Put": {"TableName": table, "Item": item(name, **more)}}


def code(e):
    return e.response["Error"]["Code"]


def test_a_write_to_an_item_in_an_ongoing_transaction_is_a_transaction_conflict(endpoint, ddb):
    c, table = ddb
    held = Held(endpoint, lambda: c.transact_write_items(TransactItems=[put(table, f"x-{RUN}", v="tx")]),
                service="dynamodb", operation="TransactWriteItems", match=f"x-{RUN}")
    with pytest.raises(ClientError) as refused:
        c.put_item(TableName=table, Item=item(f"x-{RUN}", v="single"))
    assert code(refused.value) == "TransactionConflictException"
    c.put_item(TableName=table, Item=item(f"other-{RUN}", v="single"))  # another item: accepted, as AWS does
    c.update_item(TableName=table, Key={"pk": {"S": f"other-{RUN}"}, "sk": {"S": "x"}},
                  UpdateExpression="SET v = :v", ExpressionAttributeValues={":v": {"S": "again"}})
    held.released()
    assert c.get_item(TableName=table, Key={"pk": {"S": f"x-{RUN}"}, "sk": {"S": "x"}})["Item"]["v"]["S"] == "tx"
    c.put_item(TableName=table, Item=item(f"x-{RUN}", v="after"))  # the transaction is over: accepted


def test_a_transaction_meeting_another_ongoing_transaction_is_cancelled_for_that_item(endpoint, ddb):
    c, table = ddb
    held = Held(endpoint, lambda: c.transact_write_items(TransactItems=[put(table, f"y-{RUN}", v="first")]),
                service="dynamodb", operation="TransactWriteItems", match=f"y-{RUN}")
    with pytest.raises(ClientError) as refused:
        c.transact_write_items(TransactItems=[put(table, f"z-{RUN}", v="second"), put(table, f"y-{RUN}", v="second")])
    assert code(refused.value) == "TransactionCanceledException"
    reasons = [r["Code"] for r in refused.value.response["CancellationReasons"]]
    assert reasons == ["None", "TransactionConflict"], reasons
    assert "Item" not in c.get_item(TableName=table, Key={"pk": {"S": f"z-{RUN}"}, "sk": {"S": "x"}})  # all or nothing
    c.transact_write_items(TransactItems=[put(table, f"z-{RUN}", v="alone")])  # disjoint items: accepted
    held.released()
    assert c.get_item(TableName=table, Key={"pk": {"S": f"y-{RUN}"}, "sk": {"S": "x"}})["Item"]["v"]["S"] == "first"


def test_a_cancelled_transaction_leaves_every_item_as_it_was_and_a_passing_one_applies_all(ddb):
    """All or nothing, whatever the order: a Put, an Update and a Delete that ran before a failed condition are undone
    (moto rolls back by item here: moto_patches._item_level_transaction_rollback)."""
    c, table = ddb
    keep, gone = f"keep-{RUN}", f"gone-{RUN}"
    c.put_item(TableName=table, Item=item(keep, v="before"))
    c.put_item(TableName=table, Item=item(gone, v="before"))
    key = {"sk": {"S": "x"}}
    actions = [put(table, f"new-{RUN}", v="tx"),
               {"Update": {"TableName": table, "Key": {"pk": {"S": keep}, **key}, "UpdateExpression": "SET v = :v",
                           "ExpressionAttributeValues": {":v": {"S": "tx"}}}},
               {"Delete": {"TableName": table, "Key": {"pk": {"S": gone}, **key}}}]
    failing = {"ConditionCheck": {"TableName": table, "Key": {"pk": {"S": f"absent-{RUN}"}, **key},
                                  "ConditionExpression": "attribute_exists(pk)"}}
    with pytest.raises(ClientError) as refused:
        c.transact_write_items(TransactItems=actions + [failing])
    assert code(refused.value) == "TransactionCanceledException"
    assert [r["Code"] for r in refused.value.response["CancellationReasons"]] == ["None", "None", "None", "ConditionalCheckFailed"]
    def value(name):
        return c.get_item(TableName=table, Key={"pk": {"S": name}, **key}).get("Item", {}).get("v", {}).get("S")
    assert (value(f"new-{RUN}"), value(keep), value(gone)) == (None, "before", "before")
    c.transact_write_items(TransactItems=actions)
    assert (value(f"new-{RUN}"), value(keep), value(gone)) == ("tx", "tx", None)


def test_a_transactional_read_of_an_item_being_written_is_cancelled_and_a_plain_read_is_not(endpoint, ddb):
    c, table = ddb
    key = {"pk": {"S": f"r-{RUN}"}, "sk": {"S": "x"}}
    held = Held(endpoint, lambda: c.put_item(TableName=table, Item=item(f"r-{RUN}", v="w")),
                service="dynamodb", operation="PutItem", match=f"r-{RUN}")
    with pytest.raises(ClientError) as refused:
        c.transact_get_items(TransactItems=[{"Get": {"TableName": table, "Key": key}}])
    assert code(refused.value) == "TransactionCanceledException"
    assert [r["Code"] for r in refused.value.response["CancellationReasons"]] == ["TransactionConflict"]
    c.get_item(TableName=table, Key=key)  # a plain read meets no conflict
    held.released()
    assert c.transact_get_items(TransactItems=[{"Get": {"TableName": table, "Key": key}}])["Responses"][0]["Item"]


def test_a_conditional_put_racing_another_write_of_the_key_is_409_and_then_412(endpoint, s3):
    c, bucket = s3
    held = Held(endpoint, lambda: c.put_object(Bucket=bucket, Key=f"k-{RUN}", Body=b"first", IfNoneMatch="*"),
                service="s3", operation="PutObject", match=f"k-{RUN}")
    with pytest.raises(ClientError) as refused:
        c.put_object(Bucket=bucket, Key=f"k-{RUN}", Body=b"second", IfNoneMatch="*")
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 409
    assert code(refused.value) == "ConditionalRequestConflict"
    c.put_object(Bucket=bucket, Key=f"other-{RUN}", Body=b"x", IfNoneMatch="*")  # another key: accepted
    held.released()
    assert c.get_object(Bucket=bucket, Key=f"k-{RUN}")["Body"].read() == b"first"
    with pytest.raises(ClientError) as late:  # the first write finished: now it is the precondition that fails
        c.put_object(Bucket=bucket, Key=f"k-{RUN}", Body=b"third", IfNoneMatch="*")
    assert late.value.response["ResponseMetadata"]["HTTPStatusCode"] == 412
    c.put_object(Bucket=bucket, Key=f"k-{RUN}", Body=b"plain")  # an unconditional overwrite: accepted, as AWS does


def test_a_task_token_works_once_as_aws_says(endpoint, sfn):
    import resources  # Deploy/local
    from test_workflows import example, pending_token, start
    engine = resources.ensure(endpoint)
    arn = start(sfn, engine, example("research-brief.json"), {"topic": "spent tokens"})
    token = pending_token(sfn, endpoint, arn)["task_token"]
    sfn.send_task_success(taskToken=token, output=json.dumps({"approval": "yes", "notes": "once"}))
    for call in (lambda: sfn.send_task_success(taskToken=token, output=json.dumps({"approval": "no"})),
                 lambda: sfn.send_task_failure(taskToken=token, error="Late", cause="too late")):
        with pytest.raises(ClientError) as spent:
            call()
        assert code(spent.value) == "TaskTimedOut" and "does not exist anymore" in str(spent.value)


def test_synchronous_invokes_beyond_the_functions_concurrency_are_throttled_with_429(endpoint, lam):
    """probe-reserved has a reserved concurrency of 2: two sleeping invocations run, a third synchronous one is
    refused at once with 429 (Reason named); an asynchronous one is accepted (Lambda queues it), and once the two
    finished the function takes synchronous calls again."""
    from conftest import raw_invoke
    sleepers = [threading.Thread(target=raw_invoke, args=(endpoint, "probe-reserved", json.dumps(
        {"action": "sleep", "seconds": 3}).encode())) for _ in range(2)]
    for t in sleepers:
        t.start()
    deadline = time.monotonic() + 30
    while functions(endpoint)["probe-reserved"]["running"] < 2:  # both admitted (waits for state, not for time)
        assert time.monotonic() < deadline
        time.sleep(0.01)
    status, headers, body = raw_invoke(endpoint, "probe-reserved", b'{"action": "echo"}')
    assert status == 429, (status, body)
    refusal = json.loads(body)
    assert refusal["__type"] == "TooManyRequestsException"
    assert refusal["Reason"] == "ReservedFunctionConcurrentInvocationLimitExceeded"
    status, _, _ = raw_invoke(endpoint, "probe-reserved", b'{"action": "echo"}', {"X-Amz-Invocation-Type": "Event"})
    assert status == 202
    for t in sleepers:
        t.join(30)
    r, out = invoke_once(lam)
    assert not r.get("FunctionError"), out


def functions(endpoint):
    with urllib.request.urlopen(f"{endpoint}/_analemma/functions", timeout=10) as r:
        return json.loads(r.read())


def invoke_once(lam):
    from conftest import invoke
    return invoke(lam, {"action": "echo"}, name="probe-reserved")


@pytest.mark.parametrize("size,fails", [(262_000, False), (262_200, True)])
def test_a_state_output_over_256_kib_fails_with_states_data_limit_exceeded(endpoint, sfn, size, fails):
    """Step Functions' 256 KiB limit on a state's output (moto's interpreter checks it; held here so it stays so)."""
    import resources  # Deploy/local
    from conftest import wait_execution
    definition = {"StartAt": "Big", "States": {"Big": {"Type": "Pass", "Result": "x" * (size - 2), "End": True}}}
    machine = sfn.create_state_machine(name=f"data-limit-{size}-{RUN}", definition=json.dumps(definition),
                                       roleArn=resources.ROLE)["stateMachineArn"]
    arn = sfn.start_execution(stateMachineArn=machine, input="{}")["executionArn"]
    d = wait_execution(sfn, arn)
    if fails:
        assert d["status"] == "FAILED" and d["error"] == "States.DataLimitExceeded", d
    else:
        assert d["status"] == "SUCCEEDED", d["status"]


def counting_loop(until):
    """Pass → Choice → Pass … until $.i reaches `until` (4 history events per round), then Succeed."""
    return {"StartAt": "Count", "States": {
        "Count": {"Type": "Pass", "Parameters": {"i.$": "States.MathAdd($.i, 1)"}, "Next": "More"},
        "More": {"Type": "Choice", "Choices": [{"Variable": "$.i", "NumericLessThan": until, "Next": "Count"}],
                 "Default": "Done"},
        "Done": {"Type": "Succeed"}}}


@pytest.mark.parametrize("rounds,fails", [(100, False), (7_000, True)])
def test_an_execution_whose_history_reaches_25000_events_fails(endpoint, sfn, rounds, fails):
    """Step Functions' quota: a Standard execution fails when its history reaches 25,000 events. 100 rounds (~400
    events) succeed; 7,000 rounds (~28,000) fail at the limit, and the history ends there."""
    import resources  # Deploy/local
    from conftest import wait_execution
    machine = sfn.create_state_machine(name=f"history-{rounds}-{RUN}", definition=json.dumps(counting_loop(rounds)),
                                       roleArn=resources.ROLE)["stateMachineArn"]
    arn = sfn.start_execution(stateMachineArn=machine, input='{"i": 0}')["executionArn"]
    d = wait_execution(sfn, arn, seconds=300)
    if not fails:
        assert d["status"] == "SUCCEEDED" and json.loads(d["output"]) == {"i": rounds}, d
        return
    assert d["status"] == "FAILED" and d["error"] == "States.Runtime" and "25000 events" in d["cause"], d
    from test_workflows import history_all
    events = history_all(sfn, arn)
    assert 25_000 <= len(events) <= 25_004 and events[-1]["type"] == "ExecutionFailed", (len(events), events[-1]["type"])
