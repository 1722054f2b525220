#!/usr/bin/env bash
# HTTP throughput of the release build, measured from outside with oha, on SQLite and on
# PostgreSQL: /healthz (the framework's ceiling on this machine) and the routes an observer
# and a clerk use most, each for DURATION, server and load generator pinned to different
# cores. Prints a Markdown table (req/s, share of /healthz, p50, p99, the server's peak RSS,
# and for each route at full load the CPU time per request of the server and of the
# PostgreSQL backends serving it, which share the two cores with the load generator) to paste
# into benches/README.md with the machine it ran on.
#
#   cargo install oha --locked        # once
#   bash benches/http.sh              # ISSUES=100000 DURATION=8s by default
#   SOAK=600 bash benches/http.sh     # and a 10-minute soak at half the read rate
#                                     # (on SQLite; SOAK_DATABASE="PostgreSQL (socket)" for the other)
#   DATABASES=sqlite bash benches/http.sh
#   BIN=/tmp/observer-desk-before bash benches/http.sh   # a binary built from another commit
#
# Not a timed test and not part of `cargo test`.
set -euo pipefail
cd "$(dirname "$0")/.."

ISSUES="${ISSUES:-100000}"
DURATION="${DURATION:-8s}"
DATABASES="${DATABASES:-sqlite postgres}"
# PostgreSQL on this host through its Unix socket, as docs/operations.md advises, when it has
# one; OBSERVER_DESK_BENCH_PG=postgres://postgres@127.0.0.1:5432/postgres measures TCP.
if [ -z "${OBSERVER_DESK_BENCH_PG:-}" ] && [ -S /var/run/postgresql/.s.PGSQL.5432 ]; then
    OBSERVER_DESK_BENCH_PG="postgres://postgres@%2Fvar%2Frun%2Fpostgresql/postgres"
fi
PG_ADMIN="${OBSERVER_DESK_BENCH_PG:-postgres://postgres@127.0.0.1:5432/postgres}"
case "$PG_ADMIN" in *@%2F*) PG_LABEL="PostgreSQL (socket)" ;; *) PG_LABEL="PostgreSQL (TCP)" ;; esac
OHA="${OHA:-$(command -v oha || echo "$HOME/.cargo/bin/oha")}"
PORT="${PORT:-18080}"
BASE="http://127.0.0.1:$PORT"
PASSWORD=bench-demo-password
[ -x "$OHA" ] || { echo "oha not found: cargo install oha --locked" >&2; exit 1; }

# BIN=path/to/observer-desk measures a build made elsewhere (another commit, side by side).
if [ -z "${BIN:-}" ]; then
    cargo build --release --quiet
    BIN=target/release/observer-desk
fi
WORK=$(mktemp -d)
SERVER_PID=""
cleanup() { [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT

json() { python3 -c "import sys,json; d=json.load(sys.stdin); print($1)"; }
login() {
    curl -sf -X POST "$BASE/api/v1/auth/login" -H 'Content-Type: application/json' \
        -d "{\"username\":\"$1\",\"password\":\"$PASSWORD\"}" | json 'd["access_token"]'
}

start() { # $1: database URL
    rm -rf "$WORK/data"
    DATABASE_URL="$1" OBSERVER_DESK_DATA_DIR="$WORK/data" OBSERVER_DESK_BIND="127.0.0.1:$PORT" \
    OBSERVER_DESK_ADMIN_PASSWORD=bench-admin-password OBSERVER_DESK_DEMO_PASSWORD=$PASSWORD \
    OBSERVER_DESK_ACCESS_TOKEN_TTL_SECS=86400 RUST_LOG=warn \
    OBSERVER_DESK_LOGIN_MAX_FAILURES_PER_USER=1000 OBSERVER_DESK_LOGIN_MAX_FAILURES_PER_ADDRESS=100000 \
        taskset -c 0 "$BIN" --demo > "$WORK/server.log" 2>&1 &
    SERVER_PID=$!
    for _ in $(seq 1 100); do curl -sf "$BASE/healthz" > /dev/null && return 0; sleep 0.1; done
    echo "the server did not start" >&2; cat "$WORK/server.log" >&2; exit 1
}

seed() { # files $ISSUES issues as observer01, 16 at a time
    local token project
    token=$(login observer01)
    project=$(curl -sf "$BASE/api/v1/projects?limit=1" -H "Authorization: Bearer $token" | json 'd["items"][0]["id"]')
    local body="{\"project_id\":$project,\"category\":\"approval_delay\",\"title\":\"压测问题\",\"description\":\"审批超时\"}"
    taskset -c 1 "$OHA" -n "$ISSUES" -c 16 --no-tui -m POST -H "Authorization: Bearer $token" \
        -H 'Content-Type: application/json' -d "$body" "$BASE/api/v1/issues" > /dev/null
}

measure() { # $1 label, then oha arguments; prints "label|rps|p50 ms|p99 ms|2xx %|CPU"
    local label=$1; shift
    cpu_mark > "$WORK/cpu.before"
    taskset -c 1 "$OHA" -z "$DURATION" -c 32 --no-tui --output-format json "$@" > "$WORK/oha.json"
    cpu_mark > "$WORK/cpu.after"
    summarize "$label" "$WORK/oha.json" "$WORK/cpu.before" "$WORK/cpu.after"
}

# CPU time so far, in clock ticks, of the server and of each PostgreSQL backend connected to
# the bench database (a backend's time counts from its start, so one opened during a
# measurement counts whole): "server ticks" then "pid ticks" lines.
cpu_mark() {
    echo "server $(awk '{print $14 + $15}' "/proc/$SERVER_PID/stat")"
    if [ -n "${PG_DB:-}" ] && [ "${RUNNING:-}" = "$PG_LABEL" ]; then
        local pid
        for pid in $(psql "$PG_ADMIN" -tAc "SELECT pid FROM pg_stat_activity WHERE datname = '$PG_DB'"); do
            [ -r "/proc/$pid/stat" ] && echo "$pid $(awk '{print $14 + $15}' "/proc/$pid/stat")"
        done
    fi
    return 0
}

summarize() { # $1 label, $2 oha's JSON[, $3 $4 cpu_mark before and after]
    python3 - "$@" <<'PY'
import json, os, sys
d = json.load(open(sys.argv[2]))
s, p = d["summary"], d["latencyPercentiles"]
codes = d.get("statusCodeDistribution", {})
answered = sum(codes.values())
ok = sum(n for c, n in codes.items() if c.startswith("2")) / max(1, answered) * 100
cpu = ""
if len(sys.argv) > 4:
    marks = [dict(l.split() for l in open(f)) for f in sys.argv[3:5]]
    tick = 1e6 / os.sysconf("SC_CLK_TCK") / max(1, answered)
    ours = (int(marks[1].pop("server")) - int(marks[0].pop("server"))) * tick
    cpu = f"{ours:.0f} µs"
    if marks[1]:
        pg = sum(int(t) - int(marks[0].get(pid, 0)) for pid, t in marks[1].items()) * tick
        cpu += f" + {pg:.0f} µs"
print(f'{sys.argv[1]}|{s["requestsPerSec"]:.0f}|{p["p50"]*1000:.1f}|{p["p99"]*1000:.1f}|{ok:.1f}|{cpu}')
PY
}

rate_of() { # the req/s of the row labelled $1 in $2
    awk -F'|' -v l="$1" '$1 == l {print int($2)}' "$2"
}

# An open model: oha sends at a fixed rate whatever the answers take, so queueing shows in
# the percentiles instead of slowing the sender down.
at_rate() { # $1 label, $2 req/s, then oha arguments
    local label=$1 rate=$2; shift 2
    taskset -c 1 "$OHA" -z "$DURATION" -q "$rate" -c 128 --no-tui --output-format json "$@" > "$WORK/oha.json"
    summarize "$label" "$WORK/oha.json"
}

# 50 logins at once, for as long as the reads run beside them at half their rate.
login_storm() { # $1 observer token, $2 issue id, $3 read rate
    taskset -c 1 "$OHA" -z "$DURATION" -c 50 --no-tui -m POST -H 'Content-Type: application/json' \
        -d "{\"username\":\"observer02\",\"password\":\"$PASSWORD\"}" --output-format json \
        "$BASE/api/v1/auth/login" > "$WORK/logins.json" &
    local storm=$!
    at_rate "GET /api/v1/issues/{id} at half rate, 50 logins beside" "$3" \
        -H "Authorization: Bearer $1" "$BASE/api/v1/issues/$2"
    wait "$storm"
    summarize "POST /api/v1/auth/login (50 at once)" "$WORK/logins.json"
}

usage() { # "rss KiB|fds|database connections" of the server now
    local pid=$1 conns=0
    if [ -n "${PG_DB:-}" ]; then
        conns=$(psql "$PG_ADMIN" -tAc "SELECT count(*) FROM pg_stat_activity WHERE datname = '$PG_DB'")
    fi
    echo "$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")|$(ls "/proc/$pid/fd" | wc -l)|$conns"
}

# Reads at half their rate for SOAK seconds: the server's memory, descriptors and database
# connections after a warm-up minute and at the end.
soak() { # $1 observer token, $2 issue id, $3 read rate
    local warm end
    taskset -c 1 "$OHA" -z "${SOAK}s" -q "$3" -c 64 --no-tui --output-format json \
        -H "Authorization: Bearer $1" "$BASE/api/v1/issues/$2" > "$WORK/soak.json" &
    local load=$!
    sleep 60; warm=$(usage "$SERVER_PID")
    wait "$load"; end=$(usage "$SERVER_PID")
    summarize "soak: GET /api/v1/issues/{id} at half rate for ${SOAK}s" "$WORK/soak.json"
    echo "$warm" > "$WORK/soak.warm"; echo "$end" > "$WORK/soak.end"
}

run() { # $1: database label, $2: URL
    RUNNING=$1
    start "$2"
    seed
    # A maintained database, whatever the cluster's autovacuum setting: the seeding left
    # statistics out of date and a dead row version per filing (inserted, then updated).
    # Then a checkpoint, so that the one the seeding's WAL calls for does not run during
    # the measurements (and make every first change to a page write it whole to the WAL).
    if [ -n "${PG_DB:-}" ] && [ "$1" = "$PG_LABEL" ]; then
        psql "${PG_ADMIN%/*}/$PG_DB" -qc "VACUUM ANALYZE" -c "CHECKPOINT" > /dev/null
    fi
    local obs clerk issue
    obs=$(login observer01)
    issue=$(curl -sf "$BASE/api/v1/issues?limit=1" -H "Authorization: Bearer $obs" | json 'd["items"][0]["id"]')
    # The clerk of the department the seeded issues went to: a full page of 50.
    local department code clerk
    department=$(curl -sf "$BASE/api/v1/issues/$issue" -H "Authorization: Bearer $obs" | json 'd["department_id"]')
    code=$(curl -sf "$BASE/api/v1/departments/$department" -H "Authorization: Bearer $obs" | json 'd["code"].lower()')
    clerk=$(login "$code.staff")
    [ "$(curl -sf "$BASE/api/v1/issues?limit=50" -H "Authorization: Bearer $clerk" | json 'len(d["items"])')" = 50 ] ||
        { echo "$code.staff does not see a full page of 50 issues" >&2; exit 1; }
    # An observer's own list: the one who filed every seeded issue, and one who follows a
    # project with few of them.
    local quiet
    quiet=$(login observer02)
    [ "$(curl -sf "$BASE/api/v1/issues?limit=50" -H "Authorization: Bearer $quiet" | json 'len(d["items"])')" -lt 50 ] ||
        { echo "observer02 sees the seeded issues" >&2; exit 1; }
    local body
    body=$(curl -sf "$BASE/api/v1/projects?limit=1" -H "Authorization: Bearer $obs" |
        json '"{\"project_id\":%d,\"category\":\"other\",\"title\":\"压测\",\"description\":\"x\"}" % d["items"][0]["id"]')
    local rows="$WORK/$1.rows"
    local get="GET /api/v1/issues/{id} (observer)" post="POST /api/v1/issues (observer)"
    {
        measure "GET /healthz" "$BASE/healthz"
        measure "$get" -H "Authorization: Bearer $obs" "$BASE/api/v1/issues/$issue"
        measure "GET /api/v1/issues?limit=50 (clerk)" -H "Authorization: Bearer $clerk" "$BASE/api/v1/issues?limit=50"
        measure "GET /api/v1/issues?limit=50 (observer who filed them all)" -H "Authorization: Bearer $obs" "$BASE/api/v1/issues?limit=50"
        measure "GET /api/v1/issues?limit=50 (observer of a quiet project)" -H "Authorization: Bearer $quiet" "$BASE/api/v1/issues?limit=50"
        measure "$post" -m POST -H "Authorization: Bearer $obs" \
            -H 'Content-Type: application/json' -d "$body" "$BASE/api/v1/issues"
    } > "$rows"
    local half_post=$(( $(rate_of "$post" "$rows") / 2 )) half_get=$(( $(rate_of "$get" "$rows") / 2 ))
    {
        at_rate "POST /api/v1/issues at half rate ($half_post/s)" "$half_post" -m POST \
            -H "Authorization: Bearer $obs" -H 'Content-Type: application/json' -d "$body" "$BASE/api/v1/issues"
        login_storm "$obs" "$issue" "$half_get"
        if [ "${SOAK:-0}" -gt 0 ] && [ "$1" = "${SOAK_DATABASE:-SQLite}" ]; then
            soak "$obs" "$issue" "$half_get"
        fi
    } >> "$rows"
    local rss
    rss=$(awk '/VmHWM/ {print $2}' "/proc/$SERVER_PID/status")
    kill "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true; SERVER_PID=""
    python3 - "$1" "$rows" "$rss" "$WORK/soak.warm" "$WORK/soak.end" <<'PY'
import os, sys
db, rows, rss = sys.argv[1], [l.strip().split("|") for l in open(sys.argv[2])], int(sys.argv[3])
ceiling = float(rows[0][1])
for label, rps, p50, p99, ok, cpu in rows:
    share = f"{float(rps) / ceiling * 100:.1f}%" if "rate" not in label and "login" not in label else ""
    print(f"| {db} | `{label}` | {float(rps):,.0f} | {share} | {p50} ms | {p99} ms | {ok}% | {cpu} |")
print(f"| {db} | peak RSS of the server | {rss / 1024:.0f} MiB | | | | | |")
if os.path.exists(sys.argv[4]):
    warm = [int(x) for x in open(sys.argv[4]).read().split("|")]
    end = [int(x) for x in open(sys.argv[5]).read().split("|")]
    growth = (end[0] - warm[0]) / warm[0] * 100
    print(f"| {db} | soak: RSS after 1 min → at the end | {warm[0] / 1024:.1f} → {end[0] / 1024:.1f} MiB ({growth:+.1f}%) | | | | | |")
    print(f"| {db} | soak: open descriptors, database connections | {warm[1]} → {end[1]}, {warm[2]} → {end[2]} | | | | | |")
    os.remove(sys.argv[4]); os.remove(sys.argv[5])
PY
}

echo "| database | route | req/s | share of /healthz | p50 | p99 | 2xx | CPU per request: server + PostgreSQL |"
echo "| --- | --- | --- | --- | --- | --- | --- | --- |"
case " $DATABASES " in *" sqlite "*) run SQLite "sqlite://$WORK/bench.db" ;; esac
case " $DATABASES " in *" postgres "*)
    PG_DB="od_http_bench_$$"
    psql "$PG_ADMIN" -qc "CREATE DATABASE $PG_DB" > /dev/null
    trap 'cleanup; psql "$PG_ADMIN" -qc "DROP DATABASE IF EXISTS $PG_DB" > /dev/null 2>&1 || true' EXIT
    run "$PG_LABEL" "${PG_ADMIN%/*}/$PG_DB" ;;
esac
echo
echo "Machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); $ISSUES issues seeded; $DURATION per route, 32 connections."
