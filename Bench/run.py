"""Benchmarks: one JSON object per line, {"bench", "metric", "value", "unit"}.

  python Bench/run.py --bin-dir .build/release [--rounds 3] [--invocations 20000] [--skip-stack]

runtime_loop.*: the Swift runtime loop (bench-echo, a static bootstrap whose handler echoes its event) and a C
raw-socket client, each against the same loopback Runtime API stand-in (Bench/runtime_standin.c), alternated
round by round on this machine; ratios compare medians measured in the same run.
runtime_loop.large_events.*: the same stand-in serving JSON events {"action":"echo","data":"…"} of 1 KB to 1 MB,
each response checked byte for byte: the C raw-socket floor (c_raw_socket), the Swift runtime loop echoing the JSON
event (swift_echo: bench-echo) and a Codable handler on it (swift_codable_echo: bench-json-echo, JSONDecoder into a
typed value and JSONEncoder back), alternated round by round.
local_stack.*: the local Lambda service and patched moto with the real probe bootstrap.
workflow.*: the workflow engine (segment-runner bootstrap, StateMachines/workflow.asl.json) on the same stack.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
BIN = os.path.join(HERE, "bin")


def emit(bench, metric, value, unit):
    print(json.dumps({"bench": bench, "metric": metric, "value": round(value, 3), "unit": unit}), flush=True)


def compile_c():
    os.makedirs(BIN, exist_ok=True)
    for name in ("runtime_standin", "c_runtime_client"):
        subprocess.run(["cc", "-O2", "-o", os.path.join(BIN, name), os.path.join(HERE, f"{name}.c")], check=True)


def standin(client, invocations, spawns, event_bytes=None):
    sized = [str(event_bytes)] if event_bytes else []
    out = subprocess.run([os.path.join(BIN, "runtime_standin"), str(invocations), str(spawns), *sized, "--", client],
                         check=True, capture_output=True, text=True, timeout=600)
    return json.loads(out.stdout)


def runtime_loop(bin_dir, rounds, invocations):
    swift = os.path.join(bin_dir, "bench-echo")
    c = os.path.join(BIN, "c_runtime_client")
    results = {"swift": [], "c": []}
    for _ in range(rounds):
        results["c"].append(standin(c, invocations, 20))
        results["swift"].append(standin(swift, invocations, 20))
    for name, label in (("swift", "runtime_loop.swift"), ("c", "runtime_loop.c_raw_socket")):
        runs = results[name]
        emit(label, "per_invocation_median", statistics.median(r["median_us"] for r in runs), "us")
        emit(label, "per_invocation_p99", statistics.median(r["p99_us"] for r in runs), "us")
        emit(label, "cpu_per_invocation", statistics.median(r["cpu_us_per_invocation"] for r in runs), "us")
        emit(label, "steady_rss", statistics.median(r["rss_kb"] for r in runs) / 1024, "MiB")
        emit(label, "spawn_to_first_next", statistics.median(r["spawn_to_first_next_ms"] for r in runs), "ms")
    ratios = [s["median_us"] / c["median_us"] for s, c in zip(results["swift"], results["c"])]
    emit("runtime_loop", "swift_over_c_median_ratio", statistics.median(ratios), "x")
    cpu = [s["cpu_us_per_invocation"] / c["cpu_us_per_invocation"] for s, c in zip(results["swift"], results["c"])]
    emit("runtime_loop", "swift_over_c_cpu_ratio", statistics.median(cpu), "x")
    sys.path.insert(0, os.path.join(ROOT, "Deploy"))
    import package

    emit("binary.bench-echo", "unstripped_size", os.path.getsize(swift) / 2**20, "MiB")
    with tempfile.TemporaryDirectory() as tmp:
        zipped = package.package("bench-echo", "bench-echo", bin_dir, tmp)
        with zipfile.ZipFile(zipped) as z:
            emit("binary.bench-echo", "stripped_size", z.getinfo("bootstrap").file_size / 2**20, "MiB")
        emit("binary.bench-echo", "zip_size", os.path.getsize(zipped) / 2**20, "MiB")


LARGE_EVENTS = {"1KB": 1024, "64KB": 65536, "256KB": 262144, "1MB": 1048576}


def large_events(bin_dir, rounds):
    """Per-invocation time for JSON events of 1 KB to 1 MB: the C floor, our runtime loop's echo and a Codable
    handler on it, same run."""
    clients = {"c_raw_socket": os.path.join(BIN, "c_runtime_client"), "swift_echo": os.path.join(bin_dir, "bench-echo"),
               "swift_codable_echo": os.path.join(bin_dir, "bench-json-echo")}
    for label, size in LARGE_EVENTS.items():
        invocations = 2000 if size <= 65536 else 600
        medians = {name: [] for name in clients}
        rss = {name: [] for name in clients}
        for _ in range(rounds):
            for name, client in clients.items():
                r = standin(client, invocations, 0, size)
                medians[name].append(r["median_us"])
                rss[name].append(r["rss_kb"])
        for name in clients:
            emit(f"runtime_loop.large_events.{label}.{name}", "per_invocation_median", statistics.median(medians[name]), "us")
            emit(f"runtime_loop.large_events.{label}.{name}", "steady_rss", statistics.median(rss[name]) / 1024, "MiB")
        def ratio(a, b):
            return statistics.median(x / y for x, y in zip(medians[a], medians[b]))
        emit(f"runtime_loop.large_events.{label}", "swift_echo_over_c_ratio", ratio("swift_echo", "c_raw_socket"), "x")
        emit(f"runtime_loop.large_events.{label}", "codable_echo_over_swift_echo_ratio", ratio("swift_codable_echo", "swift_echo"), "x")


def local_stack(bin_dir, port=4590):
    py = sys.executable
    stack = os.path.join(ROOT, "Deploy", "local", "stack.py")
    state = os.path.join(ROOT, ".local", "bench")
    subprocess.run([py, stack, "down", "--state-dir", state], capture_output=True)
    subprocess.run([py, stack, "up", "--port", str(port), "--state-dir", state, "--bin-dir", bin_dir], check=True,
                   stdout=subprocess.DEVNULL)
    try:
        import boto3
        from botocore.config import Config

        sys.path.insert(0, os.path.join(ROOT, "Deploy", "local"))
        import asl

        endpoint = f"http://127.0.0.1:{port}"
        kw = dict(endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="test",
                  aws_secret_access_key="test", config=Config(retries={"max_attempts": 0}))
        lam, sfn, s3 = boto3.client("lambda", **kw), boto3.client("stepfunctions", **kw), boto3.client("s3", **kw)
        lam.invoke(FunctionName="probe", Payload=b'{"action":"echo"}')  # warm
        samples = []
        for _ in range(300):
            t = time.perf_counter()
            lam.invoke(FunctionName="probe", Payload=b'{"action":"echo"}')["Payload"].read()
            samples.append((time.perf_counter() - t) * 1e3)
        emit("local_stack.invoke", "warm_round_trip_median", statistics.median(samples), "ms")

        fixtures = os.path.join(ROOT, "Tests", "integration", "fixtures")
        bucket = f"bench-{uuid.uuid4().hex[:8]}"
        s3.create_bucket(Bucket=bucket)
        s3.put_object(Bucket=bucket, Key="items.json", Body=json.dumps([{"action": "echo", "i": i} for i in range(1000)]))
        subs = {"ProbeFunctionArn": "arn:aws:lambda:us-east-1:123456789012:function:probe", "ResultBucket": bucket}

        def timed(fixture, substitutions, execution_input):
            arn = sfn.create_state_machine(name=f"bench-{uuid.uuid4().hex[:8]}", roleArn="arn:aws:iam::123456789012:role/r",
                                           definition=asl.load(os.path.join(fixtures, fixture), substitutions))["stateMachineArn"]
            times = []
            for _ in range(2):
                t = time.perf_counter()
                run = sfn.start_execution(stateMachineArn=arn, input=json.dumps(execution_input))["executionArn"]
                while (d := sfn.describe_execution(executionArn=run))["status"] == "RUNNING":
                    time.sleep(0.05)
                times.append(time.perf_counter() - t)
                if d["status"] != "SUCCEEDED":  # a failed run's time is not a measurement
                    raise RuntimeError(f"{fixture}: {d['status']} {d.get('error')}: {str(d.get('cause'))[:300]}")
            return statistics.median(times)

        emit("local_stack.distributed_map_1000_lambda", "wall_time",
             timed("probe-distributed-map.asl.json", subs, {"bucket": bucket, "key": "items.json"}), "s")
        emit("local_stack.inline_map_1000_pass", "wall_time",
             timed("inline-map-pass.asl.json", {}, {"items": list(range(1000))}), "s")
        workflow_engine(endpoint, lam, sfn, s3, samples)
        s3_round_trips(bin_dir, endpoint, s3, bucket)
        dynamo = boto3.client("dynamodb", **kw)
        tables = []
        for name in (f"bench-manifests-{bucket}", f"bench-refs-{bucket}"):
            dynamo.create_table(TableName=name, BillingMode="PAY_PER_REQUEST",
                                AttributeDefinitions=[{"AttributeName": n, "AttributeType": "S"} for n in ("pk", "sk")],
                                KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}])
            tables.append(name)
        queue = boto3.client("sqs", **kw).create_queue(  # the event log's announcements, as the runner sends them
            QueueName=f"bench-events-{bucket}.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
        out = subprocess.run([os.path.join(bin_dir, "aws-bench"), "state-commit", endpoint, bucket, *tables, queue],
                             check=True, capture_output=True, text=True, timeout=2400)
        print(out.stdout.strip(), flush=True)
        aggregator(bin_dir, endpoint, s3, bucket)
    finally:
        subprocess.run([py, stack, "down", "--state-dir", state], capture_output=True)


def workflow_engine(endpoint, lam, sfn, s3, echo_samples, runs=5):
    """The workflow engine: linear-5 (3 segments) through the real state machine and, directly, each runner action;
    ratios against the warm probe echo measured in the same run; blocks written (S3 PUTs) per checkpoint."""
    sys.path.insert(0, os.path.join(ROOT, "Deploy", "local"))
    import resources

    engine = resources.ensure(endpoint)
    with open(os.path.join(ROOT, "Deploy", "examples", "workflows", "linear-5.json")) as f:
        workflow = json.load(f)
    owner = f"bench-{uuid.uuid4().hex[:8]}"
    doc = {"owner_id": owner, "workflow": workflow, "input": {"topic": "benchmarks"}}
    walls, largest, steps, tasks = [], 0, 0, 0
    otlp(endpoint, "DELETE")
    for _ in range(runs):
        t = time.perf_counter()
        run = sfn.start_execution(stateMachineArn=engine["state_machine_arn"], input=json.dumps(doc))["executionArn"]
        while (d := sfn.describe_execution(executionArn=run))["status"] == "RUNNING":
            time.sleep(0.02)
        walls.append(time.perf_counter() - t)
        assert d["status"] == "SUCCEEDED", d
        steps = json.loads(d["output"])["cursor"]["step"]
        for e in sfn.get_execution_history(executionArn=run, maxResults=1000)["events"]:
            if "stateExitedEventDetails" in e:
                largest = max(largest, len(e["stateExitedEventDetails"]["output"]))
            tasks += e["type"] == "TaskScheduled"
    # the segment runner's span export (to the stack's OTLP collector): bytes, requests and spans per Lambda step
    traces = otlp(endpoint)
    emit("tracing.linear5_state_machine", "otlp_bytes_per_step", traces["bytes"] / tasks, "bytes")
    emit("tracing.linear5_state_machine", "otlp_requests_per_step", traces["requests"] / tasks, "requests")
    emit("tracing.linear5_state_machine", "spans_per_step", len(traces["spans"]) / tasks, "spans")
    emit("workflow.linear5_state_machine", "execution_wall_median", statistics.median(walls) * 1e3, "ms")
    cost = json.loads(d["output"])["cost"]  # the last run's own report (finalize's), by service
    for service, usd in sorted(cost["usd"].items()):
        emit("workflow.linear5_state_machine.cost", f"usd_per_million_executions.{service}", usd * 1e6, "USD")
    emit("workflow.linear5_state_machine", "largest_state_output", largest, "bytes")
    blocks = s3.list_objects_v2(Bucket=engine["bucket"], Prefix=f"owners/{owner}/blocks/").get("KeyCount", 0)
    # identical inputs give identical blocks (content-addressed): count one execution's checkpoints
    emit("workflow.linear5_state_machine", "blocks_per_checkpoint", blocks / (steps + 1), "blocks")
    per_action = {}
    for i in range(runs * 4):
        execution = f"arn:aws:states:us-east-1:123456789012:execution:bench:{uuid.uuid4().hex}"
        def call(payload):
            t = time.perf_counter()
            r = lam.invoke(FunctionName="segment-runner", Payload=json.dumps(payload).encode())
            out = json.loads(r["Payload"].read())
            assert "FunctionError" not in r, out
            per_action.setdefault(payload["action"], []).append((time.perf_counter() - t) * 1e3)
            return out
        k = call({"action": "initialize", "execution_id": execution, "start": doc})
        while k["cursor"]["status"] == "continue":
            k = call({"action": "run", "kernel": k})
        call({"action": "finalize", "kernel": k})
    map_throughput(sfn, engine, owner)
    echo = statistics.median(echo_samples)
    for action, samples in sorted(per_action.items()):
        emit(f"workflow.segment_runner.{action}", "invoke_median", statistics.median(samples), "ms")
        emit(f"workflow.segment_runner.{action}", "over_probe_echo_ratio", statistics.median(samples) / echo, "x")


def otlp(endpoint, method="GET"):
    """The local stack's OTLP collector: what it received (GET) or forget it (DELETE)."""
    import urllib.request

    with urllib.request.urlopen(urllib.request.Request(f"{endpoint}/_analemma/otlp", method=method), timeout=10) as r:
        return json.loads(r.read())


def map_throughput(sfn, engine, owner):
    """A map through the Distributed Map path: end-to-end items/s and the largest state payload."""
    with open(os.path.join(ROOT, "Deploy", "examples", "workflows", "map-scoring.json")) as f:
        workflow = json.load(f)
    for items, chunk in ((1000, 1), (10000, 10)):
        workflow["nodes"][0]["config"].update(chunk_size=chunk, inline_max_chunks=0, max_concurrency=40, tolerated_failure_percentage=1.0)
        docs = [{"id": i, "words": i % 97, "broken": False} for i in range(items)]
        # Over StartExecution's 262,144 bytes at 10,000 items: the input goes by pointer into the owner's prefix.
        key = f"owners/{owner}/inputs/docs-{items}.json"
        __import__("boto3").client("s3", endpoint_url=sfn.meta.endpoint_url, region_name="us-east-1", aws_access_key_id="test",
                                   aws_secret_access_key="test").put_object(
            Bucket=engine["bucket"], Key=key, Body=json.dumps({"docs": docs}).encode())
        t = time.perf_counter()
        run = sfn.start_execution(stateMachineArn=engine["state_machine_arn"], input=json.dumps(
            {"owner_id": owner, "workflow": workflow, "input": {"$pointer": f"s3://{engine['bucket']}/{key}"}}))["executionArn"]
        while (d := sfn.describe_execution(executionArn=run))["status"] == "RUNNING":
            time.sleep(0.1)
        wall = time.perf_counter() - t
        assert d["status"] == "SUCCEEDED", d
        largest = max(len(e["stateExitedEventDetails"]["output"])
                      for e in sfn.get_execution_history(executionArn=run, maxResults=1000)["events"] if "stateExitedEventDetails" in e)
        label = f"map.distributed_{items}_items_chunk_{chunk}"
        emit(label, "items_per_second", items / wall, "items/s")
        emit(label, "largest_state_output", largest, "bytes")


def write_result_files(s3, bucket, items):
    """A ResultWriter output for `items` child executions, as AWS writes it: SUCCEEDED_0.json (a JSON array of
    execution records, ~350 B each) and manifest.json listing it. Streamed to disk, uploaded multipart."""
    import tempfile
    prefix = "map-runs/run"  # the synthetic map run's own ResultWriter prefix: the aggregator refuses any other
    record = {"ExecutionArn": "", "Name": "", "Input": '{"chunk":"chunk_0000001.json"}', "InputDetails": {"Included": True},
              "Output": '{"chunk":"chunk_0000001.json","items":1,"result":"s3://b/owners/o/r.json"}',
              "OutputDetails": {"Included": True}, "Status": "SUCCEEDED", "StartDate": "2026-11-25T20:00:00.000Z",
              "StopDate": "2026-11-25T20:00:01.000Z", "StateMachineArn": "arn:aws:states:us-east-1:123456789012:stateMachine:w",
              "RedriveCount": 0, "RedriveStatus": "NOT_REDRIVABLE", "RedriveStatusReason": "Execution is SUCCEEDED"}
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        f.write("[")
        for i in range(items):
            record["ExecutionArn"] = f"arn:aws:states:us-east-1:123456789012:execution:w/FanOut:{i:08d}"
            record["Name"] = f"{i:08d}"
            f.write(("," if i else "") + json.dumps(record, separators=(",", ":")))
        f.write("]")
        path = f.name
    size = os.path.getsize(path)
    s3.upload_file(path, bucket, f"{prefix}/SUCCEEDED_0.json")
    os.remove(path)
    manifest = {"DestinationBucket": bucket, "MapRunArn": "arn:aws:states:us-east-1:123456789012:mapRun:bench/x:run",
                "ResultFiles": {"FAILED": [], "PENDING": [], "SUCCEEDED": [{"Key": f"{prefix}/SUCCEEDED_0.json", "Size": size}]}}
    s3.put_object(Bucket=bucket, Key=f"{prefix}/manifest.json", Body=json.dumps(manifest).encode())
    return f"{prefix}/manifest.json", size


def aggregator(bin_dir, endpoint=None, s3=None, bucket=None):
    """The light aggregator over map runs of 1 and 1,000,000 items (separate processes, same run): synthetic, and
    with the result files really in S3 (the local stack)."""
    for real in ((False, True) if endpoint else (False,)):
        rss = {}
        for items in (1, 1_000_000):
            argv = [os.path.join(bin_dir, "aws-bench"), "aggregate", str(items)]
            if real:
                key, size = write_result_files(s3, bucket, items)
                emit(f"light_aggregator.{items}_items_in_s3", "result_file_bytes", size, "B")
                argv += [endpoint, bucket, key]
            out = subprocess.run(argv, check=True, capture_output=True, text=True)
            print(out.stdout.strip(), flush=True)
            rss[items] = next(json.loads(line)["value"] for line in out.stdout.splitlines() if '"peak_rss"' in line)
        emit("light_aggregator" + ("_in_s3" if real else ""), "peak_rss_1m_minus_1_item", rss[1_000_000] - rss[1], "MiB")


def s3_round_trips(bin_dir, endpoint, s3, bucket):
    """S3 PUT+GET through our Swift client and through boto3, same stack, same sizes, alternated."""
    for size, n in ((1024, 200), (1024 * 1024, 30)):
        swift, python = [], []
        for _ in range(2):
            out = subprocess.run([os.path.join(bin_dir, "aws-bench"), "s3", endpoint, bucket, str(size), str(n)],
                                 check=True, capture_output=True, text=True, timeout=600).stdout
            swift.append(json.loads(out.strip().splitlines()[-1])["value"])
            body = bytes((i * 31) & 0xFF for i in range(size))
            samples = []
            for i in range(n + 3):
                t = time.perf_counter()
                s3.put_object(Bucket=bucket, Key=f"bench/boto3/{size}/{i}", Body=body)
                assert len(s3.get_object(Bucket=bucket, Key=f"bench/boto3/{size}/{i}")["Body"].read()) == size
                if i >= 3:
                    samples.append((time.perf_counter() - t) * 1e3)
            python.append(statistics.median(samples))
        label = f"s3_put_get.{size}B"
        emit(f"{label}.swift", "round_trip_median", statistics.median(swift), "ms")
        emit(f"{label}.boto3", "round_trip_median", statistics.median(python), "ms")
        emit(label, "boto3_over_swift_ratio", statistics.median(python) / statistics.median(swift), "x")


def sigv4(bin_dir):
    out = subprocess.run([os.path.join(bin_dir, "aws-bench"), "sign", "20000"], check=True, capture_output=True, text=True)
    print(out.stdout.strip(), flush=True)


def state_kernel(bin_dir):
    """The state workload (50 fields, ~2.3 MB, 20 segments) vs whole-object and object-per-field baselines."""
    out = subprocess.run([os.path.join(bin_dir, "aws-bench"), "state"], check=True, capture_output=True, text=True, timeout=600)
    print(out.stdout.strip(), flush=True)


class Tee:
    """Standard output that is also written to a file."""

    def __init__(self, *streams):
        self.streams = streams

    def write(self, text):
        for s in self.streams:
            s.write(text)

    def flush(self):
        for s in self.streams:
            s.flush()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--bin-dir", default=os.path.join(ROOT, ".build", "release"))
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--invocations", type=int, default=20000)
    p.add_argument("--skip-stack", action="store_true")
    p.add_argument("--port", type=int, default=4590, help="the local stack's port (make aws-integration also uses 4590)")
    p.add_argument("--out", help="also write every line to this file (Bench/page.py makes docs/benchmarks.md of it)")
    args = p.parse_args()
    if args.out:
        sys.stdout = Tee(sys.stdout, open(args.out, "w"))
    compile_c()
    runtime_loop(os.path.abspath(args.bin_dir), args.rounds, args.invocations)
    large_events(os.path.abspath(args.bin_dir), args.rounds)
    sigv4(os.path.abspath(args.bin_dir))
    state_kernel(os.path.abspath(args.bin_dir))
    aggregator(os.path.abspath(args.bin_dir))
    if not args.skip_stack:
        local_stack(os.path.abspath(args.bin_dir), port=args.port)


if __name__ == "__main__":
    main()
