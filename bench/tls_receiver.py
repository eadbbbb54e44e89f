#!/usr/bin/env python3
"""HTTPS OTLP receiver for bench/network.sh: answers every POST with 200 and `{}`,
HTTP/1.1 keep-alive, TLS with the given certificate. Binds 127.0.0.1, prints the port.

    tls_receiver.py --cert srv.pem --key srv.key [--log FILE]

The log has one line per request: `<unix ms> <bytes> <spans>` (spans: `?` for protobuf).
"""
import argparse
import http.server
import json
import ssl
import sys
import time


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    log_path = None

    def do_POST(self):
        n = int(self.headers.get("content-length", "0"))
        body = self.rfile.read(n)
        try:  # JSON bodies (ours): how many spans; protobuf (the SDK peer's): unknown
            spans = len(json.loads(body)["resourceSpans"][0]["scopeSpans"][0]["spans"])
        except Exception:
            spans = "?"
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")
        if self.log_path:
            with open(self.log_path, "a") as f:
                f.write(f"{int(time.time() * 1000)} {n} {spans}\n")

    def log_message(self, *args):
        pass


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--cert", required=True)
    p.add_argument("--key", required=True)
    p.add_argument("--log")
    a = p.parse_args()
    Handler.log_path = a.log
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(a.cert, a.key)
    server.socket = ctx.wrap_socket(server.socket, server_side=True)
    print(server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
