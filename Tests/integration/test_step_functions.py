"""Step Functions on the local stack (patched moto) calling our real functions."""

import json
import os
import uuid

import asl

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures")
PROBE = {"ProbeFunctionArn": "arn:aws:lambda:us-east-1:123456789012:function:probe"}
ROLE = "arn:aws:iam::123456789012:role/analemma-local"


def create(sfn, fixture, subs=PROBE):
    definition = asl.load(os.path.join(FIXTURES, fixture), subs)
    name = f"{fixture.split('.')[0]}-{uuid.uuid4().hex[:8]}"
    return sfn.create_state_machine(name=name, definition=definition, roleArn=ROLE)["stateMachineArn"]


from conftest import wait_execution as wait  # noqa: E402


def test_task_calls_a_local_function_and_completes(sfn):
    arn = create(sfn, "probe-catch.asl.json")
    run = sfn.start_execution(stateMachineArn=arn, name="ok", input=json.dumps({"action": "echo", "n": 7}))
    d = wait(sfn, run["executionArn"])
    assert d["status"] == "SUCCEEDED"
    assert json.loads(d["output"]) == {"action": "echo", "n": 7}


def test_function_error_is_caught_by_its_error_type(sfn):
    arn = create(sfn, "probe-catch.asl.json")
    run = sfn.start_execution(stateMachineArn=arn, input=json.dumps(
        {"action": "fail", "errorType": "Analemma.InvalidEvent", "message": "bad input"}))
    d = wait(sfn, run["executionArn"])
    assert d["status"] == "SUCCEEDED"
    caught = json.loads(d["output"])["caught"]
    assert caught["Error"] == "Analemma.InvalidEvent"
    assert json.loads(caught["Cause"])["errorMessage"] == "bad input"


def test_an_uncaught_error_fails_the_execution_with_its_type(sfn):
    arn = create(sfn, "probe-catch.asl.json")
    run = sfn.start_execution(stateMachineArn=arn, input=json.dumps({"action": "fail", "errorType": "Other.Kind"}))
    d = wait(sfn, run["executionArn"])
    assert d["status"] == "FAILED"
    assert d.get("error") == "Other.Kind"


def test_unnamed_executions_each_get_their_own_name(sfn):
    arn = create(sfn, "probe-catch.asl.json")
    first = sfn.start_execution(stateMachineArn=arn, input='{"action":"echo"}')["executionArn"]
    second = sfn.start_execution(stateMachineArn=arn, input='{"action":"echo"}')["executionArn"]
    assert first != second
    assert not first.endswith(":None")
    assert wait(sfn, first)["status"] == wait(sfn, second)["status"] == "SUCCEEDED"


def test_a_map_worker_with_more_than_1000_items_completes(sfn):
    arn = create(sfn, "inline-map-pass.asl.json", {})
    items = list(range(1200))
    run = sfn.start_execution(stateMachineArn=arn, input=json.dumps({"items": items}))
    d = wait(sfn, run["executionArn"])
    assert d["status"] == "SUCCEEDED"
    assert [o["v"] for o in json.loads(d["output"])] == items


def test_distributed_map_with_item_reader_runs_1000_real_invocations(sfn, s3):
    bucket = f"dmap-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bucket)
    items = [{"action": "echo", "i": i} for i in range(1000)]
    s3.put_object(Bucket=bucket, Key="items.json", Body=json.dumps(items).encode())
    arn = create(sfn, "probe-distributed-map.asl.json", {**PROBE, "ResultBucket": bucket})
    run = sfn.start_execution(stateMachineArn=arn, input=json.dumps({"bucket": bucket, "key": "items.json"}))
    d = wait(sfn, run["executionArn"], seconds=300)
    assert d["status"] == "SUCCEEDED", d
    out = json.loads(d["output"])
    manifest_key = out["ResultWriterDetails"]["Key"]
    assert manifest_key.startswith("results/") and manifest_key.endswith("/manifest.json")
    runs = sfn.list_map_runs(executionArn=run["executionArn"])["mapRuns"]
    counts = sfn.describe_map_run(mapRunArn=runs[0]["mapRunArn"])["itemCounts"]
    assert counts["succeeded"] == 1000 and counts["failed"] == 0


def _dmap(sfn, s3, items):
    bucket = f"dmap-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="items.json", Body=json.dumps(items).encode())
    arn = create(sfn, "probe-distributed-map.asl.json", {**PROBE, "ResultBucket": bucket})
    run = sfn.start_execution(stateMachineArn=arn, input=json.dumps({"bucket": bucket, "key": "items.json"}))
    return bucket, wait(sfn, run["executionArn"], seconds=300)


def test_result_writer_writes_aws_shaped_result_files_and_manifest(sfn, s3):
    """moto patch: ResultWriter writes SUCCEEDED_0.json / FAILED_0.json records and lists them in the manifest."""
    items = [{"action": "fail" if i in (3, 7) else "echo", "i": i} for i in range(100)]
    bucket, d = _dmap(sfn, s3, items)  # 2% failed, 5% tolerated
    assert d["status"] == "SUCCEEDED", d
    key = json.loads(d["output"])["ResultWriterDetails"]["Key"]
    manifest = json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
    assert set(manifest) == {"DestinationBucket", "MapRunArn", "ResultFiles"} and manifest["DestinationBucket"] == bucket
    files = manifest["ResultFiles"]
    assert files["PENDING"] == [] and len(files["SUCCEEDED"]) == 1 and len(files["FAILED"]) == 1
    assert files["SUCCEEDED"][0]["Key"].endswith("/SUCCEEDED_0.json")
    ok = json.loads(s3.get_object(Bucket=bucket, Key=files["SUCCEEDED"][0]["Key"])["Body"].read())
    bad_body = s3.get_object(Bucket=bucket, Key=files["FAILED"][0]["Key"])["Body"].read()
    bad = json.loads(bad_body)
    assert len(ok) == 98 and len(bad) == 2 and files["FAILED"][0]["Size"] == len(bad_body)
    assert {"ExecutionArn", "Name", "Input", "Output", "Status", "StartDate", "StopDate", "StateMachineArn"} <= set(ok[0])
    assert ok[0]["Status"] == "SUCCEEDED" and json.loads(ok[0]["Input"]) == items[0]
    assert [json.loads(r["Input"])["i"] for r in bad] == [3, 7] and all(r["Status"] == "FAILED" for r in bad)
    assert all(r["Error"] and r["Cause"] for r in bad)


def test_distributed_map_over_its_tolerance_fails_with_exceed_tolerated_failure_threshold(sfn, s3):
    """moto patch: ToleratedFailurePercentage is enforced (10% failed > 5% tolerated)."""
    items = [{"action": "fail" if i % 10 == 0 else "echo", "i": i} for i in range(100)]
    _, d = _dmap(sfn, s3, items)
    assert d["status"] == "FAILED" and d["error"] == "States.ExceedToleratedFailureThreshold", d
    assert "10 of 100 items failed" in d["cause"]


def test_dynamodb_transactions_survive_concurrent_writers(endpoint):
    """moto patch: TransactWriteItems under concurrent PutItems on the same table answers 200, never 500."""
    import threading

    import boto3
    from botocore.config import Config
    db = boto3.client("dynamodb", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="test",
                      aws_secret_access_key="test", config=Config(retries={"max_attempts": 0}))
    table = f"concurrency-{uuid.uuid4().hex[:8]}"
    db.create_table(TableName=table, BillingMode="PAY_PER_REQUEST",
                    AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                    KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}])
    errors = []

    def writer(w):
        try:
            for i in range(20):
                db.put_item(TableName=table, Item={"pk": {"S": f"w{w}-{i}"}, "v": {"N": str(i)}})
                db.transact_write_items(TransactItems=[
                    {"Put": {"TableName": table, "Item": {"pk": {"S": f"t{w}-{i}-{j}"}}}} for j in range(10)])
        except Exception as e:  # noqa: BLE001 - any failure is the finding
            errors.append(e)

    threads = [threading.Thread(target=writer, args=(w,)) for w in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert db.scan(TableName=table, Select="COUNT")["Count"] == 4 * 20 * 11
