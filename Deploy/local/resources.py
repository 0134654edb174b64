"""The resources the workflow engine needs, created on the local stack (idempotent): the state bucket, the manifest
and block-reference tables, the GC queue and its DLQ, and the workflow state machine (updated when it exists, so
an edited StateMachines/workflow.asl.json takes effect). Names match the defaults in Functions/*/function.json.

  python Deploy/local/resources.py --endpoint http://127.0.0.1:4566     # prints the names/ARNs as JSON
"""

import argparse
import json
import os
import sys

import boto3
from botocore.config import Config

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
import asl  # noqa: E402

ACCOUNT = "123456789012"
REGION = "us-east-1"
NAMES = {
    "bucket": "analemma-state",
    "manifest_table": "analemma-manifests",
    "refs_table": "analemma-block-refs",
    "gc_queue": "analemma-gc",
    "gc_dlq": "analemma-gc-dlq",
    "state_machine": "analemma-workflow",
    "events_queue": "analemma-events.fifo",
    "connections_table": "analemma-connections",
}
ROLE = f"arn:aws:iam::{ACCOUNT}:role/analemma-workflow"


def clients(endpoint):
    kw = dict(endpoint_url=endpoint, region_name=REGION, aws_access_key_id=os.environ.get("AWS_ACCESS_KEY_ID", "test"),
              aws_secret_access_key=os.environ.get("AWS_SECRET_ACCESS_KEY", "test"),
              config=Config(retries={"max_attempts": 2}, read_timeout=60))
    return {name: boto3.client(name, **kw) for name in ("s3", "dynamodb", "sqs", "stepfunctions")}


def function_arn(name):
    return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}"


def ensure(endpoint):
    """Creates what is missing and returns {"bucket", "manifest_table", "refs_table", "gc_queue_url", "state_machine_arn", …}."""
    c = clients(endpoint)
    out = dict(NAMES)
    try:
        c["s3"].create_bucket(Bucket=NAMES["bucket"])
    except c["s3"].exceptions.BucketAlreadyOwnedByYou:
        pass
    existing = set(c["dynamodb"].list_tables()["TableNames"])
    for table in (NAMES["manifest_table"], NAMES["refs_table"], NAMES["connections_table"]):
        if table not in existing:
            c["dynamodb"].create_table(
                TableName=table, BillingMode="PAY_PER_REQUEST",
                AttributeDefinitions=[{"AttributeName": n, "AttributeType": "S"} for n in ("pk", "sk")],
                KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}])
    dlq = c["sqs"].create_queue(QueueName=NAMES["gc_dlq"])["QueueUrl"]
    dlq_arn = c["sqs"].get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    out["gc_queue_url"] = c["sqs"].create_queue(QueueName=NAMES["gc_queue"], Attributes={
        "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "5"})})["QueueUrl"]
    out["gc_dlq_url"] = dlq
    out["events_queue_url"] = c["sqs"].create_queue(QueueName=NAMES["events_queue"], Attributes={
        "FifoQueue": "true", "VisibilityTimeout": "30"})["QueueUrl"]
    definition = asl.load(os.path.join(ROOT, "StateMachines", "workflow.asl.json"),
                          {"SegmentRunnerArn": function_arn("segment-runner"),
                           "LightAggregatorArn": function_arn("light-aggregator"), "StateBucket": NAMES["bucket"]})
    machines = {m["name"]: m["stateMachineArn"] for m in c["stepfunctions"].list_state_machines()["stateMachines"]}
    if NAMES["state_machine"] in machines:
        arn = machines[NAMES["state_machine"]]
        c["stepfunctions"].update_state_machine(stateMachineArn=arn, definition=definition)
    else:
        arn = c["stepfunctions"].create_state_machine(name=NAMES["state_machine"], definition=definition, roleArn=ROLE)["stateMachineArn"]
    out["state_machine_arn"] = arn
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--endpoint", default="http://127.0.0.1:4566")
    args = p.parse_args()
    print(json.dumps(ensure(args.endpoint), indent=2))


if __name__ == "__main__":
    main()
