"""A TLS-terminating TCP proxy for tests: HTTPS clients on --listen, plain bytes to --target.

  python tls_proxy.py --listen 4592 --target 4590 --cert cert.pem --key key.pem

Lets the HTTPS path of the Swift transport (OpenSSL: SNI, verification) be tested against the local stack.
The proxy must outlive every client fault the tests inject: a client that connects and resets before the
proxy accepts makes Linux accept() fail with that connection's error (ECONNABORTED, see accept(2)), which
must not end the accept loop; every socket is closed when its connection ends, so descriptors never pile up.
"""

import argparse
import resource
import socket
import ssl
import sys
import threading
import time


def pump(src, dst):
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            dst.sendall(data)
    except OSError:
        pass
    finally:
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def serve(conn, ctx, target):
    tls = upstream = None
    try:
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        tls = ctx.wrap_socket(conn, server_side=True)
    except (ssl.SSLError, OSError):
        conn.close()  # the client refused our certificate (what the negative test expects) or went away
        return
    try:
        upstream = socket.create_connection(("127.0.0.1", target))
        upstream.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        back = threading.Thread(target=pump, args=(tls, upstream), daemon=True)
        back.start()
        pump(upstream, tls)
        back.join()
    except OSError as e:
        print(f"tls_proxy: upstream :{target}: {e}", file=sys.stderr)
    finally:
        for s in (tls, upstream):
            if s is not None:
                s.close()


def raise_descriptor_limit():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--listen", type=int, required=True)
    p.add_argument("--target", type=int, required=True)
    p.add_argument("--cert", required=True)
    p.add_argument("--key", required=True)
    args = p.parse_args()
    raise_descriptor_limit()
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(args.cert, args.key)
    listener = socket.create_server(("127.0.0.1", args.listen), backlog=1024)
    while True:
        try:
            conn, _ = listener.accept()
        except OSError as e:  # a connection reset before it was accepted, or out of descriptors for a moment
            print(f"tls_proxy: accept: {e}", file=sys.stderr)
            time.sleep(0.01)
            continue
        threading.Thread(target=serve, args=(conn, ctx, args.target), daemon=True).start()


if __name__ == "__main__":
    main()
