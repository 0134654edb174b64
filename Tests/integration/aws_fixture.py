"""Prepares a local stack for the Swift AWS-client integration suite; prints the environment it needs.

  python aws_fixture.py --endpoint http://127.0.0.1:4590 [--auth]

With --auth (moto started with INITIAL_NO_AUTH_ACTION_COUNT=3), the three unauthenticated requests create an
IAM user with an allow-all policy and an access key; everything after is signed with that key, and moto
rejects wrong signatures. Resources: an S3 bucket, a DynamoDB table (pk, sk; GSI by-owner), an SQS queue, a state machine.
"""

import argparse
import json
import uuid

import boto3


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--endpoint", required=True)
    p.add_argument("--auth", action="store_true")
    p.add_argument("--state-dir", help="the stack's state dir: with --auth, the interpreter's credentials go there")
    args = p.parse_args()
    kw = dict(endpoint_url=args.endpoint, region_name="us-east-1")
    key, secret = "test", "test"
    if args.auth:
        iam = boto3.client("iam", aws_access_key_id="test", aws_secret_access_key="test", **kw)
        iam.create_user(UserName="analemma-ci")
        iam.put_user_policy(UserName="analemma-ci", PolicyName="all", PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}))
        k = iam.create_access_key(UserName="analemma-ci")["AccessKey"]
        key, secret = k["AccessKeyId"], k["SecretAccessKey"]
        if args.state_dir:
            with open(f"{args.state_dir}/interpreter-credentials.json", "w") as f:
                json.dump({"AccessKeyId": key, "SecretAccessKey": secret}, f)
    kw.update(aws_access_key_id=key, aws_secret_access_key=secret)
    suffix = uuid.uuid4().hex[:8]
    table = f"analemma-it-{suffix}"
    boto3.client("dynamodb", **kw).create_table(
        TableName=table, BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": n, "AttributeType": "S"} for n in ("pk", "sk", "owner")],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        GlobalSecondaryIndexes=[{"IndexName": "by-owner", "KeySchema": [{"AttributeName": "owner", "KeyType": "HASH"}],
                                 "Projection": {"ProjectionType": "ALL"}}])
    manifests = f"analemma-manifests-{suffix}"
    boto3.client("dynamodb", **kw).create_table(
        TableName=manifests, BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": n, "AttributeType": "S"} for n in ("pk", "sk")],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}])
    refs = f"analemma-block-refs-{suffix}"
    boto3.client("dynamodb", **kw).create_table(
        TableName=refs, BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": n, "AttributeType": "S"} for n in ("pk", "sk")],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}])
    bucket = f"analemma-it-{suffix}"
    boto3.client("s3", **kw).create_bucket(Bucket=bucket)
    queue = boto3.client("sqs", **kw).create_queue(QueueName=f"analemma-it-{suffix}")["QueueUrl"]
    gc_queue = boto3.client("sqs", **kw).create_queue(QueueName=f"analemma-gc-{suffix}")["QueueUrl"]
    sfn = boto3.client("stepfunctions", **kw)
    definition = {"StartAt": "Fan", "States": {"Fan": {
        "Type": "Map", "ItemsPath": "$.items", "MaxConcurrency": 2,
        "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"}, "StartAt": "P",
                          "States": {"P": {"Type": "Pass", "End": True}}},
        "End": True}}}
    machine = sfn.create_state_machine(name=f"it-{suffix}", definition=json.dumps(definition),
                                       roleArn="arn:aws:iam::123456789012:role/r")["stateMachineArn"]
    token_definition = {"StartAt": "Wait", "States": {"Wait": {
        "Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
        "Parameters": {"QueueUrl": queue, "MessageBody": {"token.$": "$$.Task.Token"}}, "HeartbeatSeconds": 60, "End": True}}}
    token_machine = sfn.create_state_machine(name=f"it-token-{suffix}", definition=json.dumps(token_definition),
                                             roleArn="arn:aws:iam::123456789012:role/r")["stateMachineArn"]
    env = {"ANALEMMA_IT_ENDPOINT": args.endpoint, "ANALEMMA_IT_KEY": key, "ANALEMMA_IT_SECRET": secret,
           "ANALEMMA_IT_TABLE": table, "ANALEMMA_IT_MANIFEST_TABLE": manifests, "ANALEMMA_IT_REFS_TABLE": refs, "ANALEMMA_IT_BUCKET": bucket, "ANALEMMA_IT_QUEUE": queue, "ANALEMMA_IT_GC_QUEUE": gc_queue, "ANALEMMA_IT_MACHINE": machine,
           "ANALEMMA_IT_TOKEN_MACHINE": token_machine, "ANALEMMA_IT_AUTH": "1" if args.auth else "0"}
    for k, v in env.items():
        print(f"export {k}='{v}'")


if __name__ == "__main__":
    main()
