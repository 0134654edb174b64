"""Function instances: real `bootstrap` processes, each with its own Runtime API endpoint, pooled per function.

The Runtime API contract (https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html) is served per instance
on its own loopback port, as Lambda gives each execution environment its own AWS_LAMBDA_RUNTIME_API.
"""

import array
import collections
import fcntl
import itertools
import json
import os
import select
import signal
import subprocess
import termios
import threading
import time
import uuid

import runtime_api

MAX_SYNC_PAYLOAD = 6 * 1024 * 1024
INIT_TIMEOUT_SECONDS = 10.0
TAIL_BYTES = 4096
ENDED = ("dead", "retired")


class Invocation:
    """One request waiting for (or holding) an outcome. The first outcome set wins."""

    def __init__(self, function, payload, arn, trace_id, client_context=None, cognito_identity=None, tenant_id=None):
        self.id = str(uuid.uuid4())
        self.function = function
        self.payload = payload
        self.arn = arn
        self.trace_id = trace_id
        self.client_context = client_context
        self.cognito_identity = cognito_identity
        self.tenant_id = tenant_id
        self.deadline_ms = None
        self.delivered = threading.Event()
        self.done = threading.Event()
        self.body = b""
        self.error_type = None  # None: success; else the X-Amz-Function-Error payload's errorType
        self.log_lines = collections.deque(maxlen=200)
        self.instance = None  # the instance that ran it, once done

    def finish(self, body, error_type=None):
        """Records the outcome unless one was recorded already; returns whether this call set it."""
        if self.done.is_set():
            return False
        self.body, self.error_type = body, error_type
        self.done.set()
        self.delivered.set()
        return True

    def fail(self, error_type, message):
        return self.finish(json.dumps({"errorMessage": message, "errorType": error_type}).encode(), error_type)


class Instance:
    """One execution environment: a bootstrap process plus its Runtime API server."""

    _ids = itertools.count(1)

    def __init__(self, pool):
        self.pool = pool
        self.number = next(Instance._ids)
        self.state = "init"  # init -> busy <-> idle -> dead (or retired -> dead when its binary was rebuilt)
        self.current = None
        self.invocations = 0
        self.init_error = None
        self.pump_lock = threading.Lock()
        self.wakeup = threading.Condition(pool.lock)
        self.server = runtime_api.serve(self, name=f"rapi-{self.number}")
        self.port = self.server.server_address[1]
        fn = pool.function
        env = pool.service.instance_environment(fn, self.port)
        binary = pool.service.binary_path(fn)
        self.binary_version = _version(binary)
        self.proc = subprocess.Popen(
            [binary], env=env, cwd=os.path.dirname(binary), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, start_new_session=True)
        self.started = time.time()
        threading.Thread(target=self._pump, daemon=True, name=f"log-{self.number}").start()
        threading.Thread(target=self._reap, daemon=True, name=f"reap-{self.number}").start()

    def label(self):
        return f"{self.pool.function.name}#{self.number}"

    def kill(self):
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass

    def _pump(self):
        """Copies the instance's output to the function log, a line at a time, and to the current invocation.

        Each read and the bookkeeping of what it read happen under `pump_lock`, so `drain_logs` holding that lock sees
        either bytes still in the pipe or every line already recorded - never a chunk read but not yet recorded."""
        log = self.pool.service.log_for(self.pool.function.name)
        fd = self.proc.stdout.fileno()
        pending = b""
        while True:
            select.select([fd], [], [])  # readable: data, or EOF
            with self.pump_lock:
                chunk = os.read(fd, 65536)
                if not chunk:
                    break
                lines = (pending + chunk).split(b"\n")
                pending = lines.pop()
                # CloudWatch Logs takes the lines only if the function's role may write them (the invocation's own
                # Tail log does not depend on it, as on Lambda).
                delivered = self.pool.service.log_permission(self.pool.function.name)
                for raw in lines:
                    line = raw.decode("utf-8", "replace")
                    if delivered:
                        log.write(f"[{self.label()}] {line}\n")
                    inv = self.current
                    if inv is not None:
                        inv.log_lines.append(line)
                log.flush()

    def drain_logs(self, seconds=0.5):
        """Waits (briefly) until everything the process wrote so far has been pumped into the log and the invocation."""
        proc = getattr(self, "proc", None)  # not yet set while the instance is starting
        if proc is None:
            return
        deadline = time.time() + seconds
        buf = array.array("i", [0])
        while time.time() < deadline:
            with self.pump_lock:
                try:
                    fcntl.ioctl(proc.stdout.fileno(), termios.FIONREAD, buf)
                except OSError:
                    return
                if buf[0] == 0:
                    return
            time.sleep(0.001)

    def _reap(self):
        status = self.proc.wait()
        how = f"signal: {signal.Signals(-status).name.lower()[3:]}" if status < 0 else f"exit status {status}"
        with self.pool.lock:
            self.state = "dead"
            inv = self.current
            if inv is not None and not inv.done.is_set():
                if self.init_error is not None:
                    inv.finish(*self.init_error)
                else:
                    inv.fail("Runtime.ExitError", f"RequestId: {inv.id} Error: Runtime exited with error: {how}")
            self.pool.remove(self)
            self.wakeup.notify_all()
        self.server.shutdown()
        self.server.server_close()

    # Runtime API operations (called from the instance's server threads).

    def next_invocation(self):
        """Blocks until an invocation is assigned (no timeout: the long poll); None when the instance dies."""
        # What the finished invocation wrote before asking for the next one belongs to its log (Tail) - pump it first.
        if self.current is not None:
            self.drain_logs(0.2)
        with self.pool.lock:
            if self.current is not None and self.current.done.is_set():
                self.current = None
            if self.current is None and self.state not in ENDED:
                self.state = "idle"
                self.pool.available.notify_all()
            while (self.current is None or self.current.delivered.is_set()) and self.state not in ENDED:
                self.wakeup.wait()
            if self.state in ENDED:
                return None
            inv = self.current
            inv.deadline_ms = int(time.time() * 1000) + self.pool.function.timeout * 1000
            inv.delivered.set()
            self.invocations += 1
            self.pool.delivered += 1
            delay = self.pool.kill_plan.pop(self.pool.delivered, None)
            if delay is not None:  # a test's fault plan: SIGKILL this instance `delay` ms into the invocation
                self.pool.killed.append({"invocation": self.pool.delivered, "after_ms": delay, "instance": self.number})
                threading.Timer(delay / 1000, self.kill).start()
            return inv

    def post_outcome(self, request_id, body, error_type):
        with self.pool.lock:
            inv = self.current
            if inv is None or inv.id != request_id:
                return 400, {"errorMessage": f"Invalid request ID {request_id}", "errorType": "InvalidRequestID"}
            if inv.done.is_set():
                return 403, {"errorMessage": f"Invocation {request_id} already has an outcome",
                             "errorType": "InvalidStateTransition"}
            if error_type is None and len(body) > MAX_SYNC_PAYLOAD:
                inv.fail("Function.ResponseSizeTooLarge",
                         f"Response payload size ({len(body)} bytes) exceeded maximum allowed payload size "
                         f"({MAX_SYNC_PAYLOAD} bytes).")
                return 413, {"errorMessage": f"Exceeded maximum allowed payload size ({MAX_SYNC_PAYLOAD} bytes).",
                             "errorType": "RequestEntityTooLarge"}
            inv.finish(body, error_type)
            self.state = "busy"  # until it asks for the next one
            return 202, {"status": "OK"}

    def post_init_error(self, body, error_type):
        with self.pool.lock:
            self.state = "retired"
            self.init_error = (body, error_type or "Runtime.Unknown")
            if self.current is not None:
                self.current.finish(*self.init_error)
        self.kill()  # Lambda ends an environment whose init failed
        return 202, {"status": "OK"}


def _version(path):
    """Identifies a build of the binary (so instances of an older build are retired)."""
    try:
        st = os.stat(path)
        return (st.st_mtime_ns, st.st_size)
    except OSError:
        return None


class FunctionPool:
    """The warm instances of one function, scaled out up to `limit` concurrent instances."""

    def __init__(self, service, function, limit):
        self.service = service
        self.function = function
        self.limit = limit
        self.lock = threading.Lock()
        self.available = threading.Condition(self.lock)
        self.instances = []
        self.spawned = 0
        self.delivered = 0  # invocations handed to an instance (numbered from 1)
        self.kill_plan = {}  # invocation number -> ms after delivery at which its instance is SIGKILLed
        self.killed = []

    def plan_kills(self, plan):
        """Fault plan (tests): {invocation number counted from now: delay ms}; returns what was killed so far."""
        with self.lock:
            done, self.killed = self.killed, []
            self.kill_plan = {self.delivered + int(n): float(ms) for n, ms in (plan or {}).items()}
            return done

    def remove(self, instance):
        if instance in self.instances:
            self.instances.remove(instance)
        self.available.notify_all()

    def invoke(self, inv):
        """Runs `inv` on an idle instance (or a new one), enforcing the init and function timeouts."""
        version = _version(self.service.binary_path(self.function))
        with self.lock:
            while True:
                for stale in [i for i in self.instances if i.state == "idle" and i.binary_version != version]:
                    stale.state = "retired"  # rebuilt since it started: the next call gets the new code
                    stale.kill()
                    self.instances.remove(stale)  # its slot is free now, not when the reaper sees it exit
                # An idle instance, else one that has answered and is on its way back to /next, else a new one.
                # Never one of an older build: one still on its way back to /next is retired when it gets there.
                instance = next((i for i in self.instances if i.state == "idle" and i.binary_version == version),
                                None) or next(
                    (i for i in self.instances
                     if i.state == "busy" and i.binary_version == version and i.current is not None
                     and i.current.done.is_set() and i.proc.poll() is None),
                    None)
                if instance is None and len(self.instances) < self.limit:
                    instance = Instance(self)
                    self.instances.append(instance)
                    self.spawned += 1
                if instance is not None:
                    break
                self.available.wait()
            instance.state = "busy"
            instance.current = inv
            instance.wakeup.notify_all()
        if not inv.delivered.wait(INIT_TIMEOUT_SECONDS):
            self._time_out(inv, instance, f"init did not reach /next within {INIT_TIMEOUT_SECONDS:.0f} s")
        remaining = (inv.deadline_ms or 0) / 1000 - time.time()
        if not inv.done.wait(max(0.0, remaining)):
            self._time_out(inv, instance, f"Task timed out after {self.function.timeout:.2f} seconds")
        inv.instance = instance
        return inv

    def _time_out(self, inv, instance, why):
        with self.lock:
            timed_out = inv.fail("Sandbox.Timedout", f"RequestId: {inv.id} Error: {why}")
            if timed_out:
                instance.state = "retired"  # never routed to again, even before the reaper sees it exit
        if timed_out:
            instance.kill()

    def describe(self):
        with self.lock:
            return {"spawned": self.spawned, "instances": [
                {"number": i.number, "pid": i.proc.pid, "state": i.state, "invocations": i.invocations}
                for i in self.instances]}

    def stop(self):
        with self.lock:
            instances = list(self.instances)
        for i in instances:
            i.kill()
