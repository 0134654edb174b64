"""provided.al2 / provided.al2023 compatibility, measured: each deploy zip's `bootstrap`, run in a chroot of an older
Debian userland (bullseye: glibc 2.31, the nearest stand-in for Amazon Linux 2's 2.26 that the registry serves),
serves one invocation from a Runtime API it reaches by a DNS name, and the websocket-notifier's bootstrap calls
DynamoDB over verified HTTPS (SNI) at a DNS name too, trusting the CA bundle at Amazon Linux's path
(/etc/pki/tls/certs/ca-bundle.crt) with no SSL_CERT_FILE set.

The chroot holds the NSS modules a static glibc cannot load from another glibc (myhostname, resolve, mdns), and the
check runs once per /etc/nsswitch.conf `hosts:` line that Amazon Linux and its ancestors use (VARIANTS). For each,
every bootstrap must resolve and serve; a name that does not exist (NXDOMAIN) and a dead resolver must each be a
clean exit with an error logged, never an abort (`_dl_call_libc_early_init: Assertion 'sym != NULL' failed`).

Everything is local: a DNS responder on 127.0.0.1:53 answers `*.analemma.test` (the chroot's resolv.conf points at
it and its hosts file does not know the names, so resolution goes through the DNS path of the static glibc), a
Runtime API and a TLS "DynamoDB" are Python servers. Needs root (chroot, port 53) and debootstrap.

  python Deploy/compat_check.py --dist Deploy/dist [--rootfs .local/bullseye]
"""

import argparse
import http.server
import json
import os
import shutil
import socket
import ssl
import struct
import subprocess
import sys
import tempfile
import threading
import time
import types
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(HERE, "local"))
import runtime_api  # noqa: E402  (the local Lambda service's Runtime API)
SUITE, MIRROR = "bullseye", "http://deb.debian.org/debian"
RUNTIME_HOST, AWS_HOST = "runtime.analemma.test", "aws.analemma.test"
MISSING_HOST = "missing.analemma.invalid"  # answered NXDOMAIN
NSS_PACKAGES = "libnss-myhostname,libnss-resolve,libnss-mdns"  # modules the static glibc has not built in
AL_CA_BUNDLE = "etc/pki/tls/certs/ca-bundle.crt"  # Amazon Linux 2 / 2023
# `hosts:` lines as images hold them: glibc's default; RHEL family (Amazon Linux 2's ancestors) with myhostname after
# dns; before dns; Debian with avahi; Fedora family (Amazon Linux 2023's ancestors) with systemd-resolved.
VARIANTS = [
    "files dns",
    "files dns myhostname",
    "files myhostname dns",
    "files mdns4_minimal [NOTFOUND=return] dns",
    "files myhostname resolve [!UNAVAIL=return] dns",
]
ABORT_MARK = "Assertion"


# ---------------------------------------------------------------- DNS: A records for *.analemma.test
class DNS(threading.Thread):
    def __init__(self):
        super().__init__(daemon=True)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 53))
        self.queries = []

    def run(self):
        while True:
            data, addr = self.sock.recvfrom(512)
            tid, flags, qd = struct.unpack("!HHH", data[:6])
            pos, labels = 12, []
            while data[pos]:
                labels.append(data[pos + 1:pos + 1 + data[pos]].decode())
                pos += 1 + data[pos]
            qtype = struct.unpack("!H", data[pos + 1:pos + 3])[0]
            question = data[12:pos + 5]
            name = ".".join(labels).lower()
            self.queries.append((name, qtype))
            known = name.endswith(".analemma.test")
            answers = b""
            if known and qtype == 1:
                answers = b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 5, 4) + socket.inet_aton("127.0.0.1")
            rcode = 0 if known else 3
            header = struct.pack("!HHHHHH", tid, 0x8180 | rcode, 1, 1 if answers else 0, 0, 0)
            self.sock.sendto(header + question + answers, addr)


# ---------------------------------------------------------------- Runtime API: one invocation per function
class OneInvocation:
    """A `runtime_api` backend (the local Lambda service's own Runtime API) that serves one event and records the
    outcome; later polls of /next wait until the check ends."""

    def __init__(self, event):
        self.event, self.result = event, None
        self.served, self.done = threading.Event(), threading.Event()

    def next_invocation(self):
        if self.served.is_set():
            self.done.wait(30)
            return None
        self.served.set()
        return types.SimpleNamespace(
            id="compat-1", payload=self.event, deadline_ms=int(time.time() * 1000) + 30000,
            arn="arn:aws:lambda:us-east-1:123456789012:function:compat", trace_id="Root=1-00000000-000000000000000000000001",
            client_context=None, cognito_identity=None, tenant_id=None)

    def post_outcome(self, request_id, body, error_type):
        self.result = ("response" if error_type is None else "error", body)
        self.done.set()
        return 202, {"status": "OK"}

    def post_init_error(self, body, error_type):
        self.result = ("error", body)
        self.done.set()
        return 202, {"status": "OK"}


# ---------------------------------------------------------------- a TLS "DynamoDB" (Query -> no items)
class FakeAWS(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, cert, key):
        super().__init__(("127.0.0.1", 0), AWSHandler)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert, key)
        self.sni = []
        ctx.sni_callback = lambda s, name, c: self.sni.append(name)
        self.socket = ctx.wrap_socket(self.socket, server_side=True)
        self.requests = []


class AWSHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.server.requests.append((self.headers.get("X-Amz-Target"), self.headers.get("Host"),
                                     self.headers.get("Authorization", "")[:16], body))
        out = json.dumps({"Items": [], "Count": 0}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/x-amz-json-1.0")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)


def rootfs(path):
    marker = os.path.join(path, ".analemma-nss")
    if os.path.exists(marker):
        return path
    shutil.rmtree(path, ignore_errors=True)  # an older rootfs without the NSS modules
    print(f"debootstrap {SUITE} + {NSS_PACKAGES} into {path} (once; ~45 s)", flush=True)
    subprocess.run(["debootstrap", "--variant=minbase", f"--include={NSS_PACKAGES}", SUITE, path, MIRROR], check=True,
                   stdout=subprocess.DEVNULL)
    for module in ("myhostname", "resolve", "mdns4_minimal"):
        if not os.path.exists(os.path.join(path, "lib", "x86_64-linux-gnu", f"libnss_{module}.so.2")):
            raise SystemExit(f"rootfs lacks libnss_{module}.so.2: the variants could not abort, so they would prove nothing")
    open(marker, "w").close()
    return path


def write(root, relative, text):
    path = os.path.join(root, relative)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


def glibc_version(root):
    for name in os.listdir(os.path.join(root, "lib", "x86_64-linux-gnu")):
        if name.startswith("libc-") and name.endswith(".so"):
            return name[5:-3]
    out = subprocess.run(["chroot", root, "/usr/bin/ldd", "--version"], capture_output=True, text=True).stdout
    return out.splitlines()[0].rsplit(" ", 1)[-1] if out else "?"


def function_env(name, runtime_api, fake, extra):
    """What Lambda would set for the function: its function.json defaults, credentials, the endpoints."""
    with open(os.path.join(ROOT, "Functions", name, "function.json")) as f:
        spec = json.load(f)
    env = {k: v.get("default", "compat") for k, v in spec["environment"].items() if "default" in v or v.get("required")}
    env.update({"AWS_LAMBDA_RUNTIME_API": runtime_api, "AWS_REGION": "us-east-1",
                "AWS_ACCESS_KEY_ID": "AKIDCOMPAT", "AWS_SECRET_ACCESS_KEY": "compat-secret",
                "AWS_ENDPOINT_URL": f"https://{AWS_HOST}:{fake.server_address[1]}",
                "AWS_LAMBDA_FUNCTION_NAME": name, "_HANDLER": "bootstrap", "PATH": "/usr/bin:/bin", **extra})
    return env


def extras(name, fake):
    """Per-function settings the bootstraps need to start."""
    if name == "websocket-notifier":
        return {"WEBSOCKET_CALLBACK_URL": f"https://{AWS_HOST}:{fake.server_address[1]}/live",
                "CONNECT_TOKEN_SECRET": "compat-secret-of-16-bytes-or-more"}
    return {"GC_QUEUE_URL": f"https://{AWS_HOST}/q", "MODEL_PROVIDER": "standin"}


def check(zip_path, root, cert, fake, env_extra, event, expect):
    name = os.path.basename(zip_path)[:-4]
    target = os.path.join(root, "opt", name)
    shutil.rmtree(target, ignore_errors=True)
    os.makedirs(target)
    with zipfile.ZipFile(zip_path) as z:
        z.extract("bootstrap", target)
    os.chmod(os.path.join(target, "bootstrap"), 0o755)
    runtime = OneInvocation(json.dumps(event).encode())
    server = runtime_api.serve(runtime)
    env = function_env(name, f"{RUNTIME_HOST}:{server.server_address[1]}", fake, env_extra)
    started = time.time()
    proc = subprocess.Popen([shutil.which("chroot") or "/usr/sbin/chroot", root, f"/opt/{name}/bootstrap"], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)
    runtime.done.wait(30)
    proc.kill()
    log = proc.communicate()[0].decode("utf-8", "replace")
    runtime.done.set()
    server.shutdown()
    kind, body = runtime.result or ("none", b"")
    ok = kind == expect[0] and expect[1](json.loads(body or b"null"))
    return ok, f"{name}: {kind} {body[:160].decode('utf-8', 'replace')} in {time.time() - started:.2f}s", log


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--dist", default=os.path.join(HERE, "dist"))
    p.add_argument("--rootfs", default=os.path.join(ROOT, ".local", SUITE))
    args = p.parse_args()
    if os.geteuid() != 0:
        print("compat check needs root (chroot, DNS on port 53)")
        return 2
    root = rootfs(os.path.abspath(args.rootfs))
    write(root, "etc/hosts", "127.0.0.1 localhost\n")
    for stale in ("etc/ssl/certs/ca-certificates.crt", "opt/compat-ca.pem"):  # only Amazon Linux's path may hold it
        if os.path.exists(os.path.join(root, stale)):
            os.remove(os.path.join(root, stale))
    tmp = tempfile.mkdtemp()
    cert, key = os.path.join(tmp, "cert.pem"), os.path.join(tmp, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", f"/CN={AWS_HOST}",
                    "-addext", f"subjectAltName=DNS:{AWS_HOST}", "-keyout", key, "-out", cert],
                   check=True, capture_output=True)
    os.makedirs(os.path.join(root, "opt"), exist_ok=True)
    write(root, AL_CA_BUNDLE, open(cert).read())
    proc_dir = os.path.join(root, "proc")  # Lambda has /proc; the Swift runtime reads /proc/self at start
    os.makedirs(proc_dir, exist_ok=True)
    mounted = not os.path.ismount(proc_dir) and subprocess.run(["mount", "-t", "proc", "proc", proc_dir]).returncode == 0
    try:
        return run_checks(args, root, cert, key)
    finally:
        if mounted:
            subprocess.run(["umount", proc_dir])


def resolver(root, nameserver):
    write(root, "etc/resolv.conf", f"nameserver {nameserver}\noptions attempts:1 timeout:1\n")


def unreachable(zip_path, root, fake, api, what):
    """The bootstrap started with a Runtime API name it cannot resolve: a logged error and exit 1, never an abort."""
    name = os.path.basename(zip_path)[:-4]
    env = function_env(name, api, fake, extras(name, fake))
    proc = subprocess.run([shutil.which("chroot") or "/usr/sbin/chroot", root, f"/opt/{name}/bootstrap"], env=env,
                          capture_output=True, timeout=60)
    log = (proc.stdout + proc.stderr).decode("utf-8", "replace")
    ok = proc.returncode == 1 and ABORT_MARK not in log and "resolve" in log
    return ok, f"{name}: {what} -> exit {proc.returncode}" + ("" if ok else f" (log: {log[-600:]!r})")


def run_checks(args, root, cert, key):
    dns = DNS()
    dns.start()
    fake = FakeAWS(cert, key)
    threading.Thread(target=fake.serve_forever, daemon=True).start()
    print(f"userland: Debian {SUITE}, glibc {glibc_version(root)}; names resolved by DNS at 127.0.0.1:53; "
          f"CA bundle only at /{AL_CA_BUNDLE}, no SSL_CERT_FILE")
    zips = sorted(os.path.join(args.dist, z) for z in os.listdir(args.dist) if z.endswith(".zip"))
    failures, checks = 0, 0
    for variant in VARIANTS:
        write(root, "etc/nsswitch.conf", f"passwd: files\ngroup: files\nhosts: {variant}\n")
        print(f"-- nsswitch.conf hosts: {variant}")
        resolver(root, "127.0.0.1")
        for zip_path in zips:
            checks += 1
            ok, line, log = serve_once(zip_path, root, cert, fake)
            print(("ok    " if ok else "FAIL  ") + line)
            if not ok:
                failures += 1
                print("      " + log[-2000:].replace("\n", "\n      "))
        # NXDOMAIN, then a resolver that does not answer (nothing listens on 127.0.0.2:53): errors, not aborts.
        for what, nameserver, api in (("NXDOMAIN", "127.0.0.1", f"{MISSING_HOST}:9001"),
                                      ("dead resolver", "127.0.0.2", f"{RUNTIME_HOST}:9001")):
            resolver(root, nameserver)
            for zip_path in zips:
                checks += 1
                ok, line = unreachable(zip_path, root, fake, api, what)
                print(("ok    " if ok else "FAIL  ") + line)
                failures += 0 if ok else 1
    resolved = sorted({n for n, _ in dns.queries})
    print(f"DNS queries answered: {len(dns.queries)} for {resolved}")
    if not {RUNTIME_HOST, AWS_HOST} <= set(resolved):
        print("FAIL  the bootstraps did not resolve the names through DNS")
        failures += 1
    print(f"compat: {checks - failures} passed, {failures} failed ({len(VARIANTS)} nsswitch variants x {len(zips)} bootstraps)")
    return 1 if failures else 0


def serve_once(zip_path, root, cert, fake):
    name = os.path.basename(zip_path)[:-4]
    if name == "websocket-notifier":
        event = json.load(open(os.path.join(ROOT, "Functions", "websocket-notifier", "events", "announcement.json")))
        expect = ("response", lambda r: r == {"batchItemFailures": []})
    else:
        event, expect = {"compat": True}, ("error", lambda r: r.get("errorType") == "Analemma.InvalidEvent")
    before, sni_before = len(fake.requests), len(fake.sni)
    ok, line, log = check(zip_path, root, cert, fake, extras(name, fake), event, expect)
    if name == "websocket-notifier":
        calls = fake.requests[before:]
        https = bool(calls) and calls[0][0] == "DynamoDB_20120810.Query" and calls[0][2].startswith("AWS4-HMAC-SHA256")
        ok = ok and https and AWS_HOST in fake.sni[sni_before:]
        line += f"; HTTPS: {len(calls)} signed call(s) to {calls[0][1] if calls else '-'}, SNI {sorted(set(fake.sni[sni_before:]))}"
    return ok, line, log


if __name__ == "__main__":
    sys.exit(main())
