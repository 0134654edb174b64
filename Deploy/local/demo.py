"""`make demo`: the most complete thing the project can do so far, on the local stack.

1. invokes the real `probe` bootstrap through the Lambda Invoke API and shows what the runtime handed it;
2. runs a state machine (Deploy/examples/runtime-demo.asl.json) whose Task states reach that bootstrap,
   fanning out a Distributed Map over 200 items read from S3 and catching a function error by its stable code,
   printing each state as it happens.
"""

import argparse
import json
import os
import sys
import time
import uuid

import boto3
from botocore.config import Config

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
import asl  # noqa: E402


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--endpoint", default="http://127.0.0.1:4566")
    p.add_argument("--items", type=int, default=200)
    args = p.parse_args()
    kw = dict(endpoint_url=args.endpoint, region_name="us-east-1", aws_access_key_id="test",
              aws_secret_access_key="test", config=Config(retries={"max_attempts": 0}, read_timeout=120))
    lam, sfn, s3 = boto3.client("lambda", **kw), boto3.client("stepfunctions", **kw), boto3.client("s3", **kw)

    print(f"== 1. Lambda Invoke -> real bootstrap ({args.endpoint})")
    r = lam.invoke(FunctionName="probe", Payload=json.dumps({"action": "context"}).encode())
    seen = json.loads(r["Payload"].read())
    for key in ("requestId", "functionArn", "traceId", "envTraceId", "remainingMs", "pid"):
        print(f"   {key:12} {seen.get(key)}")

    print(f"\n== 2. Step Functions: Task -> Distributed Map ({args.items} items from S3) -> Catch")
    bucket = f"analemma-demo-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bucket)
    items = [{"action": "echo", "item": i} for i in range(args.items)]
    s3.put_object(Bucket=bucket, Key="items.json", Body=json.dumps(items).encode())
    definition = asl.load(os.path.join(ROOT, "Deploy", "examples", "runtime-demo.asl.json"), {
        "ProbeFunctionArn": "arn:aws:lambda:us-east-1:123456789012:function:probe", "DemoBucket": bucket})
    machine = sfn.create_state_machine(name=f"runtime-demo-{uuid.uuid4().hex[:6]}", definition=definition,
                                       roleArn="arn:aws:iam::123456789012:role/analemma-demo")["stateMachineArn"]
    started = time.time()
    run = sfn.start_execution(stateMachineArn=machine, input=json.dumps({"bucket": bucket, "itemsKey": "items.json"}))
    shown = set()
    while True:
        status = sfn.describe_execution(executionArn=run["executionArn"])
        for e in sfn.get_execution_history(executionArn=run["executionArn"])["events"]:
            if e["id"] in shown:
                continue
            shown.add(e["id"])
            name = (e.get("stateEnteredEventDetails") or e.get("stateExitedEventDetails") or {}).get("name")
            if e["type"].endswith("StateEntered") or e["type"].endswith("StateExited") or "Failed" in e["type"]:
                print(f"   +{time.time() - started:5.2f}s  {e['type']:<24} {name or ''}")
        if status["status"] != "RUNNING":
            break
        time.sleep(0.2)
    print(f"\n   execution {status['status']} in {time.time() - started:.2f}s")
    if status["status"] != "SUCCEEDED":
        print(json.dumps(status, default=str, indent=2))
        return 1
    out = json.loads(status["output"])
    map_run = sfn.list_map_runs(executionArn=run["executionArn"])["mapRuns"][0]["mapRunArn"]
    counts = sfn.describe_map_run(mapRunArn=map_run)["itemCounts"]
    print(f"   inspect:   {out['inspect']}")
    print(f"   fan-out:   {counts['succeeded']} succeeded, {counts['failed']} failed; results manifest "
          f"s3://{out['fanOut']['ResultWriterDetails']['Bucket']}/{out['fanOut']['ResultWriterDetails']['Key']}")
    print(f"   recovered: {out['recovered']['Error']} caught ({json.loads(out['recovered']['Cause'])['errorMessage']})")
    print("\nThe stack keeps running at", args.endpoint, "- `make local-down` stops it; logs in .local/logs/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
