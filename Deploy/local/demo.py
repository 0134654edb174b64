"""`make demo`: the most complete thing the project can do so far, on the local stack.

A research-brief workflow (Deploy/examples/workflows/research-brief.json: skills, an LLM step routed to a model
of the catalog and answered by the local Gemini stand-in over the Gemini wire format, a human approval with a
bounded revise loop, a conditional route) runs through the one generic state machine
(StateMachines/workflow.asl.json) on moto, every step in the real segment-runner bootstrap. The demo plays the
human: it reads the recorded question from state, asks for a revision once, then approves - through
SendTaskSuccess, as `aws stepfunctions send-task-success` would. It prints each state as it happens, the
checkpoints (manifests, blocks, payload sizes) and the output.
"""

import argparse
import json
import os
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
import resources  # noqa: E402
import state_reader  # noqa: E402
import viewer  # noqa: E402
from wsclient import WebSocketClient  # noqa: E402


def follow(endpoint, arn, owner, progress):
    """Subscribes to the execution's events over the local WebSocket API (the viewer's path) in the background."""
    connect_token = viewer.token(owner)

    def run():
        for _ in range(50):  # the execution's first checkpoint may not be committed yet
            ws = WebSocketClient(endpoint, connect_token)
            ws.send({"action": "subscribe", "execution_id": arn})
            first = ws.receive()
            if first and first.get("type") == "subscribed":
                while True:
                    try:
                        m = ws.receive()
                    except TimeoutError:  # a quiet stretch (a long map fans out without events): keep listening
                        continue
                    if m is None:
                        return
                    progress.add(m)
            ws.close()
            time.sleep(0.2)
    threading.Thread(target=run, daemon=True).start()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--endpoint", default="http://127.0.0.1:4566")
    p.add_argument("--topic", default="grid-scale batteries")
    p.add_argument("--items", type=int, default=1000, help="items of the map demo (0: skip it)")
    args = p.parse_args()
    print(f"== local stack {args.endpoint}: deploying Deploy/template.yaml (bucket, tables, queues, state machine;"
          " translation in Deploy/local/template.py)")
    engine = resources.ensure(args.endpoint)
    c = resources.clients(args.endpoint)
    sfn = c["stepfunctions"]
    with open(os.path.join(ROOT, "Deploy", "examples", "workflows", "research-brief.json")) as f:
        workflow = json.load(f)
    doc = {"owner_id": "demo-team", "workflow": workflow, "input": {"topic": args.topic}}
    started = time.time()
    arn = sfn.start_execution(stateMachineArn=engine["state_machine_arn"], input=json.dumps(doc))["executionArn"]
    print(f"== execution {arn.rsplit(':', 1)[-1]} of workflow {workflow['workflow_id']!r} (owner demo-team)")
    watch = viewer.url(args.endpoint, arn, viewer.token("demo-team"))
    print(f"   live viewer: {watch}")
    progress = viewer.Progress()
    follow(args.endpoint, arn, "demo-team", progress)
    answers = [{"approval": "no", "notes": "add numbers"}, {"approval": "yes", "notes": "good, ship it"}]
    shown, asked, largest = set(), set(), 0
    while True:
        status = sfn.describe_execution(executionArn=arn)
        for e in sfn.get_execution_history(executionArn=arn, maxResults=1000)["events"]:
            if e["id"] in shown:
                continue
            shown.add(e["id"])
            if "stateExitedEventDetails" in e:
                d = e["stateExitedEventDetails"]
                largest = max(largest, len(d["output"]))
                cursor = json.loads(d["output"]).get("cursor", {})
                print(f"   +{time.time() - started:5.2f}s  {d['name']:<12} -> {cursor.get('status', ''):<10} "
                      f"step {cursor.get('step', '')}  payload {len(d['output'])} B")
        if progress.line() != progress.last:
            progress.last = progress.line()
            print(f"   {progress.last}")
        if status["status"] != "RUNNING":
            break
        _, fields = state_reader.read_state(args.endpoint, arn, ["pending_human"])
        pending = fields.get("pending_human")
        if pending and pending["task_token"] not in asked:
            asked.add(pending["task_token"])
            answer = answers.pop(0) if answers else {"approval": "yes"}
            print(f"\n   human step {pending['node']!r} asks:\n     " + pending["question"].replace("\n", "\n     "))
            print(f"   answering {json.dumps(answer)}  (aws stepfunctions send-task-success --task-token … --task-output …)\n")
            sfn.send_task_success(taskToken=pending["task_token"], output=json.dumps(answer))
        time.sleep(0.1)
    deadline = time.time() + 5  # the last shard's announcement may still be on its way
    while progress.status in ("RUNNING", "WAITING") and time.time() < deadline:
        time.sleep(0.1)
    if progress.line() != progress.last:
        print(f"   {progress.line()}")
    print(f"\n== {status['status']} in {time.time() - started:.2f}s")
    if status["status"] != "SUCCEEDED":
        print(f"   {status.get('error')}: {status.get('cause')}")
        return 1
    out = json.loads(status["output"])
    manifests = state_reader.history(c, arn)
    blocks = c["s3"].list_objects_v2(Bucket=engine["bucket"], Prefix="owners/demo-team/blocks/").get("KeyCount", 0)
    print(f"   checkpoints: {len(manifests)} manifests (Merkle chain), {blocks} content-addressed blocks for this owner")
    print(f"   largest payload between states: {largest} bytes (limit 30720)")
    print(f"   edges taken: {json.dumps(out['cursor']['traversals'])}")
    _, used = state_reader.read_state(args.endpoint, arn, ["llm_usage"])
    for node, u in used.get("llm_usage", {}).get("nodes", {}).items():
        print(f"   llm {node}: {u['calls']} call(s) on {u['model']} ({u.get('route', '')}), {u['input_tokens']} in / "
              f"{u['output_tokens']} out tokens, ~${u.get('estimated_cost_usd', 0):.6f}")
    print("   output:\n     " + json.dumps(out["output"], indent=2).replace("\n", "\n     "))
    heal_demo(c, sfn, engine, args.endpoint)
    if args.items:
        map_demo(sfn, engine, args.items, args.endpoint)
    print(f"\nInspect the state:  .venv/bin/python Deploy/local/state_reader.py --endpoint {args.endpoint} {arn}")
    print(f"Run your own:       make run WORKFLOW=Deploy/examples/workflows/linear-5.json INPUT='{{\"topic\": \"x\"}}'")
    print(f"Watch it again:     {watch}")
    print("The stack keeps running - `make local-down` stops it; logs in .local/logs/")
    return 0


def heal_demo(c, sfn, engine, endpoint):
    """A skill that fails until the model hands it a fix: Catch -> Heal (the model's instruction) -> RunSegment again."""
    with open(os.path.join(ROOT, "Deploy", "examples", "workflows", "self-healing.json")) as f:
        workflow = json.load(f)
    print("\n== self-healing: a node that fails (404) until the model suggests a fix")
    arn = sfn.start_execution(stateMachineArn=engine["state_machine_arn"], input=json.dumps(
        {"owner_id": "demo-team", "workflow": workflow, "input": {"source": "https://example.com/report"}}))["executionArn"]
    progress = viewer.Progress()
    follow(endpoint, arn, "demo-team", progress)
    while (status := sfn.describe_execution(executionArn=arn))["status"] == "RUNNING":
        time.sleep(0.1)
    entered = [e["stateEnteredEventDetails"]["name"] for e in sfn.get_execution_history(executionArn=arn, maxResults=1000)["events"]
               if "stateEnteredEventDetails" in e]
    print(f"   {status['status']}: states {' -> '.join(n for n in entered if n not in ('Route',))}")
    _, fields = state_reader.read_state(endpoint, arn, ["heal"])
    for a in fields.get("heal", {}).get("attempts", []):
        print(f"   heal round {a['round']}: {a['error_code']} ({a['error_message'][:60]}) -> instruction "
              f"{a['instruction'][:70]!r} -> {a['outcome']}")
    if status["status"] == "SUCCEEDED":
        print(f"   output: {json.dumps(json.loads(status['output'])['output'])}")


def map_demo(sfn, engine, n, endpoint):
    """A map over n documents (5 broken) on a Distributed Map: chunks, per-chunk tolerance, COMPLETED_WITH_RISK."""
    with open(os.path.join(ROOT, "Deploy", "examples", "workflows", "map-scoring.json")) as f:
        workflow = json.load(f)
    broken = {3, n // 4, n // 2, 3 * n // 4, n - 1}
    docs = [{"id": i, "words": i % 97, "broken": i in broken} for i in range(n)]
    print(f"\n== map-scoring: {n} documents, {len(broken)} broken, chunk size 1, 1% of chunks tolerated")
    started = time.time()
    arn = sfn.start_execution(stateMachineArn=engine["state_machine_arn"],
                              input=json.dumps({"owner_id": "demo-team", "workflow": workflow, "input": {"docs": docs}}))["executionArn"]
    print(f"   live viewer: {viewer.url(endpoint, arn, viewer.token('demo-team'))}")
    progress = viewer.Progress()
    follow(endpoint, arn, "demo-team", progress)
    while (status := sfn.describe_execution(executionArn=arn))["status"] == "RUNNING":
        if progress.line() != progress.last:
            progress.last = progress.line()
            print(f"   {progress.last}")
        time.sleep(0.2)
    deadline = time.time() + 5
    while progress.status in ("RUNNING", "WAITING") and time.time() < deadline:
        time.sleep(0.1)
    print(f"   {progress.line()}")
    print(f"   {status['status']} in {time.time() - started:.1f}s")
    if status["status"] != "SUCCEEDED":
        print(f"   {status.get('error')}: {status.get('cause')}")
        return
    out = json.loads(status["output"])
    s = out["output"]["scores"]
    print(f"   outcome {out['outcome']} ({s['mode']}): {s['succeeded_chunks']} chunks succeeded, {s['failed_chunks']} failed "
          f"of {s['chunks']} ({s['items']} items)")
    for c in (s.get("failed_chunk_list") or s.get("failed_items", []))[:5]:
        error = c["error"] if c["error"].startswith(c["chunk"]) else f"{c['chunk']}: {c['error']}"
        print(f"     {error[:110]}")


if __name__ == "__main__":
    sys.exit(main())
