"""The local AWS stack: moto server (patched, Step Functions execution on) behind the local Lambda service.

  python stack.py up    [--port 4566] [--state-dir .local]   start in the background, wait until ready
  python stack.py down  [--state-dir .local]                 stop it (and every function instance)
  python stack.py serve ...                                   run in the foreground (what `up` starts)

Logs: <state-dir>/logs/stack.log (front door + moto), <state-dir>/logs/<function>.log (instances).
"""

import argparse
import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def parse_args(argv):
    p = argparse.ArgumentParser(prog="stack.py")
    p.add_argument("command", choices=["up", "down", "serve"])
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=int(os.environ.get("ANALEMMA_LOCAL_PORT", "4566")))
    p.add_argument("--moto-port", type=int, default=0, help="moto's own port (default: port + 1)")
    p.add_argument("--state-dir", default=os.path.join(ROOT, ".local"))
    p.add_argument("--functions-dir", action="append", default=None,
                   help="folders of <name>/function.json (default: Functions and Tests/Functions)")
    p.add_argument("--bin-dir", default=os.path.join(ROOT, ".build", "release"))
    p.add_argument("--max-instances", type=int, default=4, help="default per-function instance limit")
    p.add_argument("--overrides", default=os.path.join(HERE, "overrides.json"),
                   help='JSON {"*": {VAR: value}, "<function>": {VAR: value}} applied over function.json defaults')
    p.add_argument("--chaos", default=None, metavar="RATE[,SEED]",
                   help="inject AWS's documented faults into this fraction of the product's calls (Deploy/local/chaos.py)")
    p.add_argument("--history-limit", type=int, default=None,
                   help="events in one execution's history before it fails (AWS: 25,000; lower it for tests: the segment runner's HISTORY_EVENT_LIMIT follows)")
    p.add_argument("--no-iam", action="store_true",
                   help="do not evaluate the functions' and the state machine's calls against the template's IAM policies (Deploy/local/iam.py)")
    p.add_argument("--auth", action="store_true",
                   help="moto request authentication on (INITIAL_NO_AUTH_ACTION_COUNT); see ANALEMMA_NO_AUTH_COUNT")
    p.add_argument("--phoenix", default=None, metavar="PHOENIX",
                   help="the `phoenix` executable of an arize-phoenix install (make's .venv-phoenix): start it on "
                        "port + 2000 (gRPC port + 2001, SQLite in STATE_DIR/phoenix) and forward every trace export to it")
    return p.parse_args(argv)


def phoenix_url(args):
    return f"http://{args.host}:{args.port + 2000}"


def start_phoenix(args):
    """Arize Phoenix as its docs run it offline: no external resources, SQLite in the state dir, OTLP over HTTP."""
    work = os.path.join(os.path.abspath(args.state_dir), "phoenix")
    os.makedirs(work, exist_ok=True)
    env = dict(os.environ, PHOENIX_ALLOW_EXTERNAL_RESOURCES="false", PHOENIX_WORKING_DIR=work, PHOENIX_HOST=args.host,
               PHOENIX_PORT=str(args.port + 2000), PHOENIX_GRPC_PORT=str(args.port + 2001),
               PHOENIX_TELEMETRY_ENABLED="false")
    log = open(os.path.join(args.state_dir, "logs", "phoenix.log"), "ab")
    return subprocess.Popen([os.path.abspath(args.phoenix), "serve"], env=env, stdout=log, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL, cwd=work)


def endpoint(args):
    return f"http://{args.host}:{args.port}"


def wait_ready(url, seconds, proc=None):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if proc is not None and proc.poll() is not None:
            return False
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return True
        except OSError:
            pass
        time.sleep(0.1)
    return False


def up(args):
    pid_file = os.path.join(args.state_dir, "stack.pid")
    os.makedirs(os.path.join(args.state_dir, "logs"), exist_ok=True)
    if wait_ready(endpoint(args) + "/_analemma/health", 0.5):
        print(f"local stack already up at {endpoint(args)}")
        return 0
    log_path = os.path.join(args.state_dir, "logs", "stack.log")
    log = open(log_path, "ab")
    argv = [sys.executable, os.path.abspath(__file__), "serve"] + sys.argv[2:]
    proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                            start_new_session=True, cwd=ROOT)
    with open(pid_file, "w") as f:
        f.write(str(proc.pid))
    if not wait_ready(endpoint(args) + "/_analemma/health", 180 if args.phoenix else 60, proc):
        print(f"local stack did not start; last lines of {log_path}:", file=sys.stderr)
        with open(log_path, "rb") as f:
            sys.stderr.write(f.read()[-3000:].decode("utf-8", "replace"))
        down(args)
        return 1
    print(f"local stack up at {endpoint(args)} (pid {proc.pid}, logs in {os.path.dirname(log_path)})")
    return 0


def down(args):
    pid_file = os.path.join(args.state_dir, "stack.pid")
    try:
        pid = int(open(pid_file).read())
    except (OSError, ValueError):
        print("local stack is not running (no pid file)")
        return 0
    try:
        os.killpg(pid, signal.SIGTERM)
        for _ in range(100):
            os.killpg(pid, 0)
            time.sleep(0.05)
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    os.remove(pid_file)
    print("local stack stopped")
    return 0


def serve(args):
    sys.path.insert(0, HERE)
    import lambda_service
    import service

    moto_port = args.moto_port or args.port + 1
    dirs = args.functions_dir or [os.path.join(ROOT, "Functions"), os.path.join(ROOT, "Tests", "Functions")]
    overrides = json.load(open(args.overrides)) if os.path.isfile(args.overrides) else {}
    if args.history_limit:  # the segment runner continues executions as new ones before the (lowered) limit
        overrides.setdefault("segment-runner", {})["HISTORY_EVENT_LIMIT"] = str(args.history_limit)
    svc = lambda_service.LambdaService(dirs, args.bin_dir, os.path.join(args.state_dir, "logs"), endpoint(args),
                                region=os.environ.get("AWS_DEFAULT_REGION", "us-east-1"),
                                max_instances=args.max_instances, overrides=overrides)
    moto_env = dict(os.environ, MOTO_PORT=str(args.port))
    if args.history_limit:
        moto_env["ANALEMMA_SFN_HISTORY_LIMIT"] = str(args.history_limit)
    if args.auth:
        moto_env["INITIAL_NO_AUTH_ACTION_COUNT"] = os.environ.get("ANALEMMA_NO_AUTH_COUNT", "3")
        moto_env["ANALEMMA_INTERPRETER_CREDENTIALS"] = os.path.join(os.path.abspath(args.state_dir), "interpreter-credentials.json")
    moto = subprocess.Popen([sys.executable, os.path.join(HERE, "moto_launcher.py"), "-H", args.host,
                             "-p", str(moto_port)], env=moto_env, cwd=HERE)
    phoenix = start_phoenix(args) if args.phoenix else None
    ready = threading.Event()
    front = service.FrontDoor((args.host, args.port), svc, (args.host, moto_port), ready, chaos_spec=args.chaos,
                              enforce_iam=not (args.no_iam or args.auth), phoenix=phoenix and phoenix_url(args))

    def stop(*_):
        svc.stop()
        moto.terminate()
        if phoenix is not None:
            phoenix.terminate()
        os._exit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)

    def enable_execution():
        if not wait_ready(f"http://{args.host}:{moto_port}/moto-api/", 60, moto):
            print("moto did not start", flush=True)
            stop()
        body = json.dumps({"stepfunctions": {"execute_state_machine": True}}).encode()
        req = urllib.request.Request(f"http://{args.host}:{moto_port}/moto-api/config", data=body, method="POST",
                                     headers={"Content-Type": "application/json"})
        urllib.request.urlopen(req, timeout=10).read()
        if phoenix is not None and not wait_ready(phoenix_url(args) + "/healthz", 120, phoenix):
            print(f"phoenix did not start (see {args.state_dir}/logs/phoenix.log)", flush=True)
            stop()
        ready.set()
        if not args.auth:  # event source mappings (the auth stack serves only the Swift client tests)
            import event_sources
            event_sources.start(svc, endpoint(args))  # through the front door: they poll as their function's role
        print(f"front door {endpoint(args)} -> moto :{moto_port}; functions: {', '.join(sorted(svc.functions))}",
              flush=True)

    threading.Thread(target=enable_execution, daemon=True).start()
    threading.Thread(target=lambda: (moto.wait(), print("moto exited", flush=True), stop()), daemon=True).start()
    front.serve_forever()


def main(argv):
    args = parse_args(argv)
    return {"up": up, "down": down, "serve": serve}[args.command](args)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]) or 0)
