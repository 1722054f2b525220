#!/usr/bin/env python3
"""How long the release binary takes to deliver 1,000 queued emails to a local SMTP sink.

Usage: cargo build --release && python3 benches/mail_delivery.py
The mail server is down while 50 issues are filed for a department of 20 clerks with
addresses (1,000 emails queue up); then it comes up, and the clock runs until the sink has
received all 1,000. Only 127.0.0.1 is used; every wait is bounded.
"""

import json
import os
import socket
import socketserver
import subprocess
import tempfile
import threading
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BINARY = os.path.join(ROOT, "target", "release", "observer-desk")
RECEIVED = []
LOCK = threading.Lock()


class Session(socketserver.StreamRequestHandler):
    def handle(self):
        self.wfile.write(b"220 sink ESMTP\r\n")
        while True:
            line = self.rfile.readline()
            if not line:
                return
            cmd = line.strip().upper()
            if cmd.startswith(b"DATA"):
                self.wfile.write(b"354 go ahead\r\n")
                while self.rfile.readline().rstrip(b"\r\n") != b".":
                    pass
                with LOCK:
                    RECEIVED.append(time.perf_counter())
                self.wfile.write(b"250 OK\r\n")
            elif cmd.startswith(b"QUIT"):
                self.wfile.write(b"221 bye\r\n")
                return
            else:
                self.wfile.write(b"250 OK\r\n")


class Sink(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


def call(base, method, path, body=None, token=None):
    req = urllib.request.Request(base + path, data=json.dumps(body).encode() if body is not None else None, method=method)
    req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", "Bearer " + token)
    with urllib.request.urlopen(req, timeout=30) as res:
        return json.loads(res.read() or b"null")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, DATABASE_URL=f"sqlite://{tmp}/bench.db", OBSERVER_DESK_DATA_DIR=f"{tmp}/data",
                   OBSERVER_DESK_BIND="127.0.0.1:0", OBSERVER_DESK_ADMIN_PASSWORD="bench-admin-password",
                   OBSERVER_DESK_SMTP_URL=f"smtp://127.0.0.1:{port}", OBSERVER_DESK_DELIVERY_TICK_MS="50",
                   OBSERVER_DESK_DELIVERY_BACKOFF_MS="20", RUST_LOG="error")
        proc = subprocess.Popen([BINARY], env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        try:
            base = None
            deadline = time.time() + 60
            while time.time() < deadline and base is None:
                line = proc.stdout.readline()
                if line.startswith("observer-desk listening on "):
                    base = line.split(" on ", 1)[1].strip()
            admin = call(base, "POST", "/api/v1/auth/login", {"username": "admin", "password": "bench-admin-password"})["access_token"]
            dept = call(base, "POST", "/api/v1/departments", {"code": "BENCH", "name": "bench"}, admin)["id"]
            for i in range(20):
                call(base, "POST", "/api/v1/users", {"username": f"clerk{i:02}", "password": "a-long-password", "display_name": "c",
                                                    "role": "department_staff", "department_id": dept, "email": f"clerk{i:02}@bench.example"}, admin)
            obs = call(base, "POST", "/api/v1/users", {"username": "observer", "password": "a-long-password", "display_name": "o", "role": "observer"}, admin)["id"]
            project = call(base, "POST", "/api/v1/projects", {"code": "P1", "name": "p", "lead_department_id": dept, "observer_ids": [obs]}, admin)["id"]
            token = call(base, "POST", "/api/v1/auth/login", {"username": "observer", "password": "a-long-password"})["access_token"]
            for i in range(50):
                call(base, "POST", "/api/v1/issues", {"project_id": project, "category": "other", "title": f"t{i}", "description": "d"}, token)
            time.sleep(1)
            sink = Sink(("127.0.0.1", port), Session)
            threading.Thread(target=sink.serve_forever, daemon=True).start()
            started = time.perf_counter()
            deadline = time.time() + 300
            while time.time() < deadline:
                with LOCK:
                    if len(RECEIVED) >= 1000:
                        break
                time.sleep(0.05)
            with LOCK:
                n, last = len(RECEIVED), (RECEIVED[-1] if RECEIVED else started)
            took = last - started
            print(f"{n} queued emails delivered in {took:.2f} s ({n / took:.0f}/s) to a local SMTP sink (pooled SMTP connections)")
            sink.shutdown()
        finally:
            proc.terminate()
            proc.wait(timeout=30)


if __name__ == "__main__":
    main()
