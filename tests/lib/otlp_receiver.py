#!/usr/bin/env python3
"""A stand-in OpenTelemetry collector: takes OTLP/HTTP JSON on /v1/traces
and appends each request's body, one JSON document a line, to OUT.

Usage: otlp_receiver.py PORT_FILE OUT   (listens on a free loopback port,
written to PORT_FILE once it listens)
"""
import http.server
import json
import os
import sys

port_file, out = sys.argv[1], sys.argv[2]


class Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        ok = self.path == "/v1/traces" and self.headers.get("Content-Type") == "application/json"
        if ok:
            json.loads(body)  # a malformed export fails the test that reads OUT
            with open(out, "ab") as f:
                f.write(body.replace(b"\n", b" ") + b"\n")
        self.send_response(200 if ok else 400)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args):
        pass


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
with open(port_file + ".tmp", "w") as f:
    f.write(str(server.server_address[1]))
os.rename(port_file + ".tmp", port_file)
server.serve_forever()
