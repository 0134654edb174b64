"""The resources of Deploy/template.yaml, created on the local stack (idempotent) by the translation documented in
Deploy/local/template.py: the state bucket, the manifest, block-reference and connections tables, the GC and events
queues with their DLQs, and the workflow state machine (updated when it exists, so an edited
StateMachines/workflow.asl.json takes effect). Local names match the defaults in Functions/*/function.json.

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
import template  # noqa: E402

ACCOUNT = "123456789012"
REGION = "us-east-1"
L = template.LOCAL_NAMES
NAMES = {
    "bucket": L["StateBucket"],
    "manifest_table": L["ManifestTable"],
    "refs_table": L["BlockReferencesTable"],
    "connections_table": L["ConnectionsTable"],
    "gc_queue": L["GCQueue"],
    "gc_dlq": L["GCDeadLetterQueue"],
    "events_queue": L["EventsQueue"],
    "events_dlq": L["EventsDeadLetterQueue"],
    "state_machine": L["Workflow"],
}
ROLE = f"arn:aws:iam::{ACCOUNT}:role/analemma-workflow"


def clients(endpoint):
    kw = dict(endpoint_url=endpoint, region_name=REGION, aws_access_key_id=os.environ.get("AWS_ACCESS_KEY_ID", "test"),
              aws_secret_access_key=os.environ.get("AWS_SECRET_ACCESS_KEY", "test"),
              config=Config(retries={"max_attempts": 2}, read_timeout=60))
    return {name: boto3.client(name, **kw) for name in ("s3", "dynamodb", "sqs", "stepfunctions")}


def function_arn(name):
    return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}"


def value(v):
    return template.local_value(v, ACCOUNT, REGION)


def bucket(c, logical, props):
    name = L[logical]
    try:
        c["s3"].create_bucket(Bucket=name)
    except c["s3"].exceptions.BucketAlreadyOwnedByYou:
        pass
    if "BucketEncryption" in props:
        rules = [{"ApplyServerSideEncryptionByDefault": r["ServerSideEncryptionByDefault"]}
                 for r in props["BucketEncryption"]["ServerSideEncryptionConfiguration"]]
        c["s3"].put_bucket_encryption(Bucket=name, ServerSideEncryptionConfiguration={"Rules": rules})
    if "PublicAccessBlockConfiguration" in props:
        c["s3"].put_public_access_block(Bucket=name, PublicAccessBlockConfiguration=props["PublicAccessBlockConfiguration"])
    rules = []
    for r in props.get("LifecycleConfiguration", {}).get("Rules", []):
        rule = {"ID": r["Id"], "Status": r["Status"], "Filter": {"Prefix": r.get("Prefix", "")}}
        if "ExpirationInDays" in r:
            rule["Expiration"] = {"Days": r["ExpirationInDays"]}
        if "AbortIncompleteMultipartUpload" in r:
            rule["AbortIncompleteMultipartUpload"] = r["AbortIncompleteMultipartUpload"]
        rules.append(rule)
    if rules:
        c["s3"].put_bucket_lifecycle_configuration(Bucket=name, LifecycleConfiguration={"Rules": rules})


def table(c, logical, props, existing):
    name = L[logical]
    if name not in existing:
        c["dynamodb"].create_table(TableName=name, BillingMode=props.get("BillingMode", "PAY_PER_REQUEST"),
                                   AttributeDefinitions=props["AttributeDefinitions"], KeySchema=props["KeySchema"])
    ttl = props.get("TimeToLiveSpecification")
    if ttl:
        c["dynamodb"].update_time_to_live(TableName=name, TimeToLiveSpecification=ttl)
    if props.get("PointInTimeRecoverySpecification", {}).get("PointInTimeRecoveryEnabled"):
        c["dynamodb"].update_continuous_backups(TableName=name, PointInTimeRecoverySpecification={
            "PointInTimeRecoveryEnabled": True})


def queue(c, logical, props):
    attributes = {}
    for key in ("VisibilityTimeout", "MessageRetentionPeriod", "DelaySeconds"):
        if key in props:
            attributes[key] = str(props[key])
    if props.get("FifoQueue"):
        attributes["FifoQueue"] = "true"
    if "RedrivePolicy" in props:
        r = props["RedrivePolicy"]
        attributes["RedrivePolicy"] = json.dumps({"deadLetterTargetArn": value(r["deadLetterTargetArn"]),
                                                  "maxReceiveCount": str(r["maxReceiveCount"])})
    return c["sqs"].create_queue(QueueName=L[logical], Attributes=attributes)["QueueUrl"]


def state_machine(c, logical, props):
    key = props["DefinitionS3Location"]["Key"]["Fn::Sub"]  # "${ArtifactPrefix}workflow.asl.json", uploaded by deploy.py
    definition_file = os.path.join(ROOT, "StateMachines", key.replace("${ArtifactPrefix}", ""))
    substitutions = {k: value(v) for k, v in props["DefinitionSubstitutions"].items()}
    definition = asl.load(definition_file, substitutions)
    name = L[logical]
    machines = {m["name"]: m["stateMachineArn"] for m in c["stepfunctions"].list_state_machines()["stateMachines"]}
    if name in machines:
        c["stepfunctions"].update_state_machine(stateMachineArn=machines[name], definition=definition)
        return machines[name]
    return c["stepfunctions"].create_state_machine(name=name, definition=definition, roleArn=ROLE)["stateMachineArn"]


def ensure(endpoint):
    """Creates what is missing and returns {"bucket", "manifest_table", …, "gc_queue_url", "state_machine_arn", …}."""
    doc = template.load_cached()
    unknown = template.unknown_types(doc)
    if unknown:
        raise ValueError(f"Deploy/template.yaml has resource types the local stack does not translate: {unknown}")
    c = clients(endpoint)
    out = dict(NAMES)
    for logical, r in template.resources(doc, "AWS::S3::Bucket").items():
        bucket(c, logical, r["Properties"])
    existing = set(c["dynamodb"].list_tables()["TableNames"])
    for logical, r in template.resources(doc, "AWS::DynamoDB::Table").items():
        table(c, logical, r["Properties"], existing)
    queues = template.resources(doc, "AWS::SQS::Queue")
    urls = {}
    for logical in sorted(queues, key=lambda k: "RedrivePolicy" in queues[k]["Properties"]):  # DLQs first
        urls[logical] = queue(c, logical, queues[logical]["Properties"])
    out.update(gc_queue_url=urls["GCQueue"], gc_dlq_url=urls["GCDeadLetterQueue"], events_queue_url=urls["EventsQueue"],
               events_dlq_url=urls["EventsDeadLetterQueue"])
    for logical, r in template.resources(doc, "AWS::StepFunctions::StateMachine").items():
        out["state_machine_arn"] = state_machine(c, logical, r["Properties"])
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--endpoint", default="http://127.0.0.1:4566")
    args = p.parse_args()
    print(json.dumps(ensure(args.endpoint), indent=2))


if __name__ == "__main__":
    main()
