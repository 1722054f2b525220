#!/usr/bin/env python3
"""Measures the release binary on this machine, against itself only (127.0.0.1):

1. Login latency for a known and an unknown username, before and after they are throttled:
   the four cases should cost about the same, so that neither the answer nor its timing
   tells which usernames exist.
2. Write latency and throughput: concurrent POST /api/v1/departments (one write transaction
   each) on SQLite (one writer connection) and on PostgreSQL.

Usage: cargo build --release && python3 benches/auth_and_writes.py [--pg postgres://postgres@127.0.0.1:5432/postgres]
Every loop is bounded in count and time. Only the standard library is used.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BINARY = os.path.join(ROOT, "target", "release", "observer-desk")
ADMIN_PASSWORD = "bench-admin-password"


def call(base, method, path, body=None, token=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(base + path, data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", "Bearer " + token)
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(req, timeout=30) as res:
            payload = res.read()
            status = res.status
    except urllib.error.HTTPError as e:
        payload = e.read()
        status = e.code
    return status, payload, time.perf_counter() - started


def start(database_url, data_dir, env_extra):
    env = dict(os.environ)
    env.update({
        "DATABASE_URL": database_url,
        "OBSERVER_DESK_DATA_DIR": data_dir,
        "OBSERVER_DESK_BIND": "127.0.0.1:0",
        "OBSERVER_DESK_ADMIN_PASSWORD": ADMIN_PASSWORD,
        "RUST_LOG": "warn",
    })
    env.update(env_extra)
    proc = subprocess.Popen([BINARY], env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    deadline = time.time() + 60
    while time.time() < deadline:
        line = proc.stdout.readline()
        if line.startswith("observer-desk listening on "):
            return proc, line.split(" on ", 1)[1].strip()
    proc.kill()
    raise SystemExit("the service did not start")


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def ms(v):
    return f"{v * 1000:.1f} ms"


def login_timing(base, rounds):
    # Thresholds are raised by the caller's environment so that only the chosen keys lock.
    cases = {}
    cases["known username, wrong password"] = [call(base, "POST", "/api/v1/auth/login", {"username": "admin", "password": f"wrong-{i}"})[2] for i in range(rounds)]
    cases["unknown username"] = [call(base, "POST", "/api/v1/auth/login", {"username": f"ghost-{i}", "password": "wrong"})[2] for i in range(rounds)]
    cases["known username, throttled"] = [call(base, "POST", "/api/v1/auth/login", {"username": "admin", "password": "wrong"})[2] for _ in range(rounds)]
    # Lock one unknown username, then measure it.
    for _ in range(rounds + 1):
        call(base, "POST", "/api/v1/auth/login", {"username": "ghost-locked", "password": "wrong"})
    cases["unknown username, throttled"] = [call(base, "POST", "/api/v1/auth/login", {"username": "ghost-locked", "password": "wrong"})[2] for _ in range(rounds)]
    for name, values in cases.items():
        print(f"  {name:34s} median {ms(statistics.median(values))}  p90 {ms(pct(values, 90))}  (n={len(values)})")


def write_load(base, token, concurrency, seconds):
    latencies = []
    errors = []
    lock = threading.Lock()
    stop_at = time.time() + seconds
    counter = [0]

    def worker(n):
        while time.time() < stop_at:
            with lock:
                counter[0] += 1
                i = counter[0]
            status, payload, took = call(base, "POST", "/api/v1/departments", {"code": f"B{n}-{i}", "name": f"部门 {i}"}, token)
            with lock:
                if status == 201:
                    latencies.append(took)
                else:
                    errors.append((status, payload[:200]))

    started = time.time()
    threads = [threading.Thread(target=worker, args=(n,)) for n in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.time() - started
    print(f"  {len(latencies)} writes in {elapsed:.1f} s = {len(latencies) / elapsed:.0f}/s at concurrency {concurrency};"
          f" p50 {ms(pct(latencies, 50))}  p99 {ms(pct(latencies, 99))}  errors {len(errors)}")
    if errors:
        print("  first error:", errors[0])


def run(label, database_url, rounds, seconds):
    with tempfile.TemporaryDirectory() as tmp:
        print(f"== {label}")
        proc, base = start(database_url(tmp), os.path.join(tmp, "data"), {
            "OBSERVER_DESK_LOGIN_MAX_FAILURES_PER_USER": str(rounds),
            "OBSERVER_DESK_LOGIN_MAX_FAILURES_PER_ADDRESS": "100000",
        })
        try:
            status, payload, _ = call(base, "POST", "/api/v1/auth/login", {"username": "admin", "password": ADMIN_PASSWORD})
            token = json.loads(payload)["access_token"]
            print(" writes (POST /api/v1/departments):")
            write_load(base, token, 8, seconds)
            # Last: it locks the admin account.
            print(" login latency (argon2id m=19MiB t=2 p=1):")
            login_timing(base, rounds)
        finally:
            proc.terminate()
            proc.wait(timeout=30)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pg", help="PostgreSQL server URL to create a scratch database on")
    ap.add_argument("--rounds", type=int, default=30)
    ap.add_argument("--seconds", type=float, default=10.0)
    args = ap.parse_args()
    if not os.path.exists(BINARY):
        raise SystemExit("build first: cargo build --release")
    run("SQLite", lambda tmp: f"sqlite://{tmp}/bench.db", args.rounds, args.seconds)
    if args.pg:
        name = f"od_bench_{os.getpid()}"
        subprocess.run(["psql", args.pg, "-qc", f"CREATE DATABASE {name}"], check=True)
        try:
            server = args.pg.rsplit("/", 1)[0]
            run("PostgreSQL", lambda tmp: f"{server}/{name}", args.rounds, args.seconds)
        finally:
            subprocess.run(["psql", args.pg, "-qc", f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"], check=False)


if __name__ == "__main__":
    sys.exit(main())
