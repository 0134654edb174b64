"""SQS event source mappings for the local stack (moto does not run them): a poller per mapping receives batches
from the queue, invokes the function with an SQS event the way Lambda does, deletes what succeeded and leaves
`batchItemFailures` (or the whole batch, on a function error) to come back after the visibility timeout — and to
the queue's DLQ after its redrive policy's maxReceiveCount, which moto applies.

Declared in function.json: "local": {"sqs": {"queue": NAME, "batchSize": 1-10, "visibilityTimeout": SECONDS}}.
"""

import json
import threading
import time

import boto3
from botocore.config import Config

import iam


class SqsPoller(threading.Thread):
    def __init__(self, service, function, spec, endpoint, region="us-east-1"):
        super().__init__(daemon=True, name=f"sqs->{function}")
        self.service, self.function, self.spec, self.region = service, function, spec, region
        config = Config(retries={"max_attempts": 2}, read_timeout=30)
        # Setup (the queue's URL and ARN, which a mapping is configured with) as the developer; polling and deleting
        # as the function's role, as Lambda's event source mappings do.
        self.setup = boto3.client("sqs", endpoint_url=endpoint, region_name=region, aws_access_key_id="test",
                                  aws_secret_access_key="test", config=config)
        self.sqs = boto3.client("sqs", endpoint_url=endpoint, region_name=region,
                                aws_access_key_id=iam.mapping_key(function), aws_secret_access_key="test", config=config)
        self.delete_failures = 0
        self.stopped = threading.Event()
        self.stats = {"batches": 0, "messages": 0, "deleted": 0, "failed": 0}

    def run(self):
        url = None
        while not self.stopped.is_set():
            try:
                if url is None:
                    url = self.setup.get_queue_url(QueueName=self.spec["queue"])["QueueUrl"]
                    arn = self.setup.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
                messages = self.sqs.receive_message(
                    QueueUrl=url, MaxNumberOfMessages=self.spec.get("batchSize", 10), WaitTimeSeconds=1,
                    VisibilityTimeout=self.spec.get("visibilityTimeout", 30), AttributeNames=["All"]).get("Messages", [])
            except Exception:  # queue not created yet, or the stack is stopping
                url = None
                time.sleep(1)
                continue
            if messages:
                self.deliver(url, arn, messages)

    def deliver(self, url, arn, messages):
        event = {"Records": [{
            "messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"], "body": m["Body"],
            "attributes": m.get("Attributes", {}), "messageAttributes": {}, "md5OfBody": m.get("MD5OfBody", ""),
            "eventSource": "aws:sqs", "eventSourceARN": arn, "awsRegion": self.region} for m in messages]}
        status, headers, body = self.service.invoke(self.function, json.dumps(event).encode(), {})
        errored = any(k == "X-Amz-Function-Error" for k, _ in headers) or status != 200
        failed = {m["MessageId"] for m in messages} if errored else set()
        if not errored:
            try:
                failed = {f["itemIdentifier"] for f in json.loads(body).get("batchItemFailures", [])}
            except (ValueError, AttributeError, TypeError, KeyError):
                failed = {m["MessageId"] for m in messages}  # an unreadable response fails the batch, as Lambda does
        done = [m for m in messages if m["MessageId"] not in failed]
        if done:  # a refused delete (IAM) leaves the messages to come back, as on AWS
            try:
                self.sqs.delete_message_batch(QueueUrl=url, Entries=[
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done)])
            except Exception:
                self.delete_failures += 1
                done = []
        self.stats["batches"] += 1
        self.stats["messages"] += len(messages)
        self.stats["deleted"] += len(done)
        self.stats["failed"] += len(messages) - len(done)


def start(service, endpoint):
    """One poller per function that declares local.sqs; returns them."""
    pollers = []
    for name, fn in service.functions.items():
        spec = getattr(fn, "local_sqs", None)
        if spec:
            poller = SqsPoller(service, name, spec, endpoint)
            poller.start()
            pollers.append(poller)
    return pollers
