"""provided.al2 / provided.al2023 compatibility, measured: each deploy zip's `bootstrap`, run in a chroot of an older
Debian userland (bullseye: glibc 2.31, the nearest stand-in for Amazon Linux 2's 2.26 that the registry serves),
serves one invocation from a Runtime API it reaches by a DNS name, and the websocket-notifier's bootstrap calls
DynamoDB over verified HTTPS (SNI, a CA bundle from SSL_CERT_FILE) at a DNS name too.

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
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
SUITE, MIRROR = "bullseye", "http://deb.debian.org/debian"
RUNTIME_HOST, AWS_HOST = "runtime.analemma.test", "aws.analemma.test"


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
class Runtime(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass  # the bootstrap is killed while long-polling /next: expected

    def __init__(self):
        super().__init__(("127.0.0.1", 0), RuntimeHandler)
        self.event, self.result, self.served = b"{}", None, threading.Event()
        self.done = threading.Event()


class RuntimeHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def do_GET(self):
        if self.server.served.is_set():  # one invocation: later /next calls wait until the check ends
            self.server.done.wait(30)
            return
        self.server.served.set()
        self.send_response(200)
        for k, v in (("Lambda-Runtime-Aws-Request-Id", "compat-1"), ("Lambda-Runtime-Deadline-Ms", str(int(time.time() * 1000) + 30000)),
                     ("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:us-east-1:123456789012:function:compat"),
                     ("Content-Length", str(len(self.server.event)))):
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(self.server.event)

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        kind = self.path.rsplit("/", 1)[-1]
        self.server.result = (kind, body)
        self.send_response(202)
        self.send_header("Content-Length", "0")
        self.end_headers()
        self.server.done.set()


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
    if os.path.exists(os.path.join(path, "etc", "debian_version")):
        return path
    print(f"debootstrap {SUITE} into {path} (once; ~30 s)", flush=True)
    subprocess.run(["debootstrap", "--variant=minbase", SUITE, path, MIRROR], check=True, stdout=subprocess.DEVNULL)
    return path


def glibc_version(root):
    for name in os.listdir(os.path.join(root, "lib", "x86_64-linux-gnu")):
        if name.startswith("libc-") and name.endswith(".so"):
            return name[5:-3]
    out = subprocess.run(["chroot", root, "/usr/bin/ldd", "--version"], capture_output=True, text=True).stdout
    return out.splitlines()[0].rsplit(" ", 1)[-1] if out else "?"


def check(zip_path, root, cert, fake, env_extra, event, expect):
    name = os.path.basename(zip_path)[:-4]
    target = os.path.join(root, "opt", name)
    shutil.rmtree(target, ignore_errors=True)
    os.makedirs(target)
    with zipfile.ZipFile(zip_path) as z:
        z.extract("bootstrap", target)
    os.chmod(os.path.join(target, "bootstrap"), 0o755)
    runtime = Runtime()
    runtime.event = json.dumps(event).encode()
    threading.Thread(target=runtime.serve_forever, daemon=True).start()
    with open(os.path.join(ROOT, "Functions", name, "function.json")) as f:
        spec = json.load(f)
    env = {k: v.get("default", "compat") for k, v in spec["environment"].items() if "default" in v or v.get("required")}
    env.update({"AWS_LAMBDA_RUNTIME_API": f"{RUNTIME_HOST}:{runtime.server_address[1]}", "AWS_REGION": "us-east-1",
                "AWS_ACCESS_KEY_ID": "AKIDCOMPAT", "AWS_SECRET_ACCESS_KEY": "compat-secret",
                "AWS_ENDPOINT_URL": f"https://{AWS_HOST}:{fake.server_address[1]}", "SSL_CERT_FILE": "/opt/compat-ca.pem",
                "AWS_LAMBDA_FUNCTION_NAME": name, "_HANDLER": "bootstrap", "PATH": "/usr/bin:/bin", **env_extra})
    started = time.time()
    proc = subprocess.Popen([shutil.which("chroot") or "/usr/sbin/chroot", root, f"/opt/{name}/bootstrap"], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)
    runtime.done.wait(30)
    proc.kill()
    log = proc.communicate()[0].decode("utf-8", "replace")
    runtime.shutdown()
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
    with open(os.path.join(root, "etc", "resolv.conf"), "w") as f:
        f.write("nameserver 127.0.0.1\noptions attempts:2 timeout:2\n")
    with open(os.path.join(root, "etc", "hosts"), "w") as f:
        f.write("127.0.0.1 localhost\n")
    with open(os.path.join(root, "etc", "nsswitch.conf"), "w") as f:
        f.write("hosts: files dns\n")
    tmp = tempfile.mkdtemp()
    cert, key = os.path.join(tmp, "cert.pem"), os.path.join(tmp, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", f"/CN={AWS_HOST}",
                    "-addext", f"subjectAltName=DNS:{AWS_HOST}", "-keyout", key, "-out", cert],
                   check=True, capture_output=True)
    os.makedirs(os.path.join(root, "opt"), exist_ok=True)
    shutil.copy(cert, os.path.join(root, "opt", "compat-ca.pem"))
    proc_dir = os.path.join(root, "proc")  # Lambda has /proc; the Swift runtime reads /proc/self at start
    os.makedirs(proc_dir, exist_ok=True)
    mounted = not os.path.ismount(proc_dir) and subprocess.run(["mount", "-t", "proc", "proc", proc_dir]).returncode == 0
    try:
        return run_checks(args, root, cert, key)
    finally:
        if mounted:
            subprocess.run(["umount", proc_dir])


def run_checks(args, root, cert, key):
    dns = DNS()
    dns.start()
    fake = FakeAWS(cert, key)
    threading.Thread(target=fake.serve_forever, daemon=True).start()
    print(f"userland: Debian {SUITE}, glibc {glibc_version(root)}; names resolved by DNS at 127.0.0.1:53")
    notifier_event = json.load(open(os.path.join(ROOT, "Functions", "websocket-notifier", "events", "announcement.json")))
    failures = 0
    for zip_path in sorted(os.path.join(args.dist, z) for z in os.listdir(args.dist) if z.endswith(".zip")):
        name = os.path.basename(zip_path)[:-4]
        if name == "websocket-notifier":
            event, expect = notifier_event, ("response", lambda r: r == {"batchItemFailures": []})
            extra = {"WEBSOCKET_CALLBACK_URL": f"https://{AWS_HOST}:{fake.server_address[1]}/live",
                     "CONNECT_TOKEN_SECRET": "compat-secret-of-16-bytes-or-more"}
        else:
            event, expect = {"compat": True}, ("error", lambda r: r.get("errorType") == "Analemma.InvalidEvent")
            extra = {"GC_QUEUE_URL": f"https://{AWS_HOST}/q", "MODEL_PROVIDER": "standin"}
        before = len(fake.requests)
        ok, line, log = check(zip_path, root, cert, fake, extra, event, expect)
        if name == "websocket-notifier":
            calls = fake.requests[before:]
            https = bool(calls) and calls[0][0] == "DynamoDB_20120810.Query" and calls[0][2].startswith("AWS4-HMAC-SHA256")
            ok = ok and https and AWS_HOST in fake.sni
            line += f"; HTTPS: {len(calls)} signed call(s) to {calls[0][1] if calls else '-'}, SNI {sorted(set(fake.sni))}"
        print(("ok    " if ok else "FAIL  ") + line)
        if not ok:
            failures += 1
            print("      " + log[-2000:].replace("\n", "\n      "))
    resolved = sorted({n for n, _ in dns.queries})
    print(f"DNS queries answered: {len(dns.queries)} for {resolved}")
    if not {RUNTIME_HOST, AWS_HOST} <= set(resolved):
        print("FAIL  the bootstraps did not resolve the names through DNS")
        failures += 1
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
