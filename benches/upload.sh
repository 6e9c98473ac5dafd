#!/usr/bin/env bash
# Upload benchmark: throughput of `POST /api/v1/uploads` on a running `motcua serve`
# against plain `cp` of the same bytes on the same disk, and the server's resident memory.
#
# Usage (from the repository root):
#   benches/upload.sh [path-to-motcua-binary]        # default: target/release/motcua
#
# Each round: FILES fresh files of FILE_MIB MiB (random bytes behind `%PDF-1.4\n`, so the
# server takes them for PDFs, and new bytes each round, so its content-addressed store
# never finds them already there) are generated first; then, after `sync`, they are all
# uploaded at once (one curl each, in parallel) and timed until they are on the disk (the
# time includes a final `sync`, as a store is for keeping); then, after `sync`, they are
# all copied at once (one cp each, in parallel, into a directory of the same temporary
# directory, so the same filesystem as the server's store) and timed the same way (with
# its final `sync`). The server's VmRSS
# is sampled every 0.1 s during the uploads. Medians over the rounds are reported.
#
# Targets: upload throughput >= 70 % of cp's, and the server's peak RSS during the
# uploads < 150 MB. It is a benchmark: it prints PASS/FAIL and exits 0 either way (it exits
# non-zero only when it cannot measure: no binary, server not starting, an upload refused).
#
# Needs: bash, curl, python3 (jq is used when present). Knobs (environment):
#   ROUNDS=3 FILES=20 FILE_MIB=20 RATIO_TARGET_PCT=70 RSS_TARGET_MB=150
#   PORT=<free port; default: one of 18000-18999>  TMPDIR=<where the temporary directory goes>
# FILE_MIB must not exceed the server's storage.max_file_bytes (default 20 MiB).

set -euo pipefail

BIN=${1:-target/release/motcua}
ROUNDS=${ROUNDS:-3}
FILES=${FILES:-20}
FILE_MIB=${FILE_MIB:-20}
RATIO_TARGET_PCT=${RATIO_TARGET_PCT:-70}
RSS_TARGET_MB=${RSS_TARGET_MB:-150}

die() { echo "upload.sh: $*" >&2; exit 1; }

for cmd in curl python3 head sync cp; do
    command -v "$cmd" >/dev/null 2>&1 || die "needs '$cmd' on PATH"
done
[[ -x $BIN ]] || die "no executable at '$BIN' (build it: cargo build --release)"
[[ -r /proc/self/status ]] || die "needs /proc (Linux) to read the server's memory"
case $BIN in /*) ;; *) BIN="$PWD/$BIN" ;; esac

# ---------------------------------------------------------------------------------------------
# Temporary directory, server and cleanup.

TMP=$(mktemp -d "${TMPDIR:-/tmp}/motcua-upload-bench.XXXXXX")
SERVER_PID=
SAMPLER_PID=

cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    if [[ -n $SAMPLER_PID ]]; then
        kill "$SAMPLER_PID" 2>/dev/null || true
        wait "$SAMPLER_PID" 2>/dev/null || true
    fi
    if [[ -n $SERVER_PID ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill -TERM "$SERVER_PID" 2>/dev/null || true
        for _ in $(seq 1 50); do
            kill -0 "$SERVER_PID" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    rm -rf "$TMP"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

if [[ -z ${PORT:-} ]]; then
    for _ in $(seq 1 50); do
        PORT=$((18000 + RANDOM % 1000))
        port_in_use "$PORT" || break
    done
fi
port_in_use "$PORT" && die "port $PORT is in use"
BASE="http://127.0.0.1:$PORT"

# A JSON member of a JSON document on stdin (jq when there is one, else python3).
json_get() {
    if command -v jq >/dev/null 2>&1; then
        jq -er --arg k "$1" '.[$k] // empty'
    else
        python3 -c 'import json, sys
v = json.load(sys.stdin).get(sys.argv[1])
if v is None: sys.exit(1)
print(v)' "$1"
    fi
}

# Field `$1` (e.g. VmRSS, VmHWM) of the server's /proc status, in kB; empty when gone.
proc_kb() {
    local k v _
    while read -r k v _; do
        if [[ $k == "$1:" ]]; then echo "$v"; return 0; fi
    done <"/proc/$SERVER_PID/status" 2>/dev/null || true
    return 0
}

echo "== motcua upload benchmark"
echo "binary:   $BIN"
echo "temp dir: $TMP ($(df -hP "$TMP" | awk 'NR==2 {print $1 ", " $4 " free"}'))"
echo "rounds:   $ROUNDS; $FILES files x $FILE_MIB MiB in parallel; port $PORT"

mkdir -p "$TMP/files"
MOTCUA__DATABASE__URL="sqlite://$TMP/bench.db?mode=rwc" \
MOTCUA__STORAGE__URL="file://$TMP/files" \
MOTCUA__SERVER__BIND="127.0.0.1:$PORT" \
MOTCUA__LOG__LEVEL=warn \
MOTCUA__SLA__SWEEPER_ENABLED=false \
MOTCUA__OUTBOX__DISPATCHER_ENABLED=false \
MOTCUA__SERVER__REQUEST_TIMEOUT_SECS=300 \
MOTCUA__STORAGE__CLEANUP_ENABLED=false \
    "$BIN" serve >"$TMP/server.log" 2>&1 &
SERVER_PID=$!

server_log_tail() { echo "--- server log (tail)" >&2; tail -n 30 "$TMP/server.log" >&2 || true; }

# Ready: /readyz (database up, migrations applied) or /healthz; /health/* for older layouts.
echo -n "waiting for the server (first start migrates and seeds)..."
t_start=$(date +%s.%N)
ready=
deadline=$((SECONDS + 120))
while ((SECONDS < deadline)); do
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then
        echo
        server_log_tail
        die "the server exited during start-up"
    fi
    for path in /readyz /health/ready /healthz /health/live; do
        code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$BASE$path" || true)
        if [[ $code == 200 ]]; then ready=$path; break; fi
    done
    [[ -n $ready ]] && break
    sleep 0.5
done
if [[ -z $ready ]]; then
    echo
    server_log_tail
    die "the server did not answer 200 on /readyz, /healthz, /health/ready or /health/live within 120 s"
fi
python3 -c 'import sys; print(" ready (%s) after %.1f s" % (sys.argv[1], float(sys.argv[3]) - float(sys.argv[2])))' \
    "$ready" "$t_start" "$(date +%s.%N)"
IDLE_RSS_KB=$(proc_kb VmRSS)

# ---------------------------------------------------------------------------------------------
# A citizen account.

USERNAME=bench_citizen
PASSWORD='Bench-Password-2025!'
code=$(curl -s -o "$TMP/register.json" -w '%{http_code}' -X POST "$BASE/api/v1/auth/register" \
    -H 'Content-Type: application/json' \
    --data-binary "{\"username\":\"$USERNAME\",\"password\":\"$PASSWORD\",\"full_name\":\"Nguyễn Văn An\",\"phone\":\"0912345678\"}" || true)
case $code in
    201) ;;
    409) echo "(account $USERNAME already exists)" ;;
    *) cat "$TMP/register.json" >&2 2>/dev/null || true; echo >&2
       die "registration answered $code" ;;
esac

# Access tokens last 15 minutes by default: a fresh one each round.
login() {
    local code
    code=$(curl -s -o "$TMP/login.json" -w '%{http_code}' -X POST "$BASE/api/v1/auth/login" \
        -H 'Content-Type: application/json' \
        --data-binary "{\"username\":\"$USERNAME\",\"password\":\"$PASSWORD\"}" || true)
    if [[ $code != 200 ]]; then
        cat "$TMP/login.json" >&2 2>/dev/null || true; echo >&2
        die "login answered $code"
    fi
    json_get access_token <"$TMP/login.json" || die "no access_token in the login answer"
}
TOKEN=$(login)
echo "citizen account: $USERNAME (logged in)"

# ---------------------------------------------------------------------------------------------
# The measurements.

FILE_BYTES=$((FILE_MIB * 1024 * 1024))
TOTAL_MIB=$((FILES * FILE_MIB))
MAX_RSS_FILE="$TMP/max_rss_kb"
echo 0 >"$MAX_RSS_FILE"

# Fresh random files, each starting with the PDF signature.
generate() {
    rm -rf "$TMP/src"
    mkdir -p "$TMP/src"
    local i f
    for i in $(seq 1 "$FILES"); do
        f=$(printf '%s/src/file-%02d.pdf' "$TMP" "$i")
        printf '%%PDF-1.4\n' >"$f"
        head -c $((FILE_BYTES - 9)) /dev/urandom >>"$f"
    done
}

# Samples VmRSS every 0.1 s; keeps the maximum (kB) in $MAX_RSS_FILE.
sampler() {
    local max rss
    max=$(cat "$MAX_RSS_FILE")
    while kill -0 "$SERVER_PID" 2>/dev/null; do
        rss=$(proc_kb VmRSS)
        if [[ -n $rss ]] && ((rss > max)); then
            max=$rss
            echo "$max" >"$MAX_RSS_FILE"
        fi
        sleep 0.1
    done
}

now() { date +%s.%N; }
elapsed() { python3 -c 'import sys; print("%.3f" % (float(sys.argv[2]) - float(sys.argv[1])))' "$1" "$2"; }

# Part A: every file uploaded at once; prints the wall time (s). Fails on any status but 201.
upload_all() {
    local round=$1 i f name t0 t1 pids=() bad=0 code
    rm -rf "$TMP/resp"
    mkdir -p "$TMP/resp"
    # Not on this function's stdout: that is the captured result.
    sampler >/dev/null 2>&1 &
    SAMPLER_PID=$!
    t0=$(now)
    for i in $(seq 1 "$FILES"); do
        f=$(printf '%s/src/file-%02d.pdf' "$TMP" "$i")
        name=$(printf 'bench-r%d-%02d.pdf' "$round" "$i")
        # `Expect:` off: no curl pause waiting for `100 Continue` on a large body.
        curl -s -o "$TMP/resp/$i.body" -w '%{http_code}\n' -H 'Expect:' \
            -H "Authorization: Bearer $TOKEN" \
            -F "file=@$f;filename=$name" \
            "$BASE/api/v1/uploads" >"$TMP/resp/$i.code" 2>"$TMP/resp/$i.err" &
        pids+=($!)
    done
    for i in "${pids[@]}"; do wait "$i" || true; done
    # Until the bytes are on the disk, not only in the page cache: a store is there for keeping.
    sync
    t1=$(now)
    kill "$SAMPLER_PID" 2>/dev/null || true
    wait "$SAMPLER_PID" 2>/dev/null || true
    SAMPLER_PID=
    for i in $(seq 1 "$FILES"); do
        code=$(cat "$TMP/resp/$i.code" 2>/dev/null || true)
        if [[ $code != 201 ]]; then
            bad=$((bad + 1))
            if ((bad <= 3)); then
                {
                    echo "upload $i answered '${code:-none}':"
                    head -c 600 "$TMP/resp/$i.body" 2>/dev/null || true
                    cat "$TMP/resp/$i.err" 2>/dev/null || true
                    echo
                } >&2
            fi
        fi
    done
    if ((bad > 0)); then
        server_log_tail
        die "$bad of $FILES uploads were not answered 201"
    fi
    elapsed "$t0" "$t1"
}

# Part B: every file copied at once into a new directory; prints the wall time (s).
copy_all() {
    local round=$1 f t0 t1 pids=() p rc=0
    local dst="$TMP/cp-$round"
    mkdir -p "$dst"
    t0=$(now)
    for f in "$TMP"/src/*.pdf; do
        cp "$f" "$dst/" &
        pids+=($!)
    done
    for p in "${pids[@]}"; do wait "$p" || rc=1; done
    # Until the bytes are on the disk, not only in the page cache: a store is there for keeping.
    sync
    t1=$(now)
    ((rc == 0)) || die "a cp failed"
    elapsed "$t0" "$t1"
}

SERVER_TIMES=()
CP_TIMES=()
for round in $(seq 1 "$ROUNDS"); do
    echo "-- round $round/$ROUNDS: generating $FILES x $FILE_MIB MiB..."
    generate
    TOKEN=$(login)
    sync
    ts=$(upload_all "$round")
    sync
    tc=$(copy_all "$round")
    rm -rf "$TMP/cp-$round"
    SERVER_TIMES+=("$ts")
    CP_TIMES+=("$tc")
    python3 -c 'import sys
mib = float(sys.argv[1]); ts = float(sys.argv[2]); tc = float(sys.argv[3])
print("   server %.3f s (%.1f MiB/s)   cp %.3f s (%.1f MiB/s)   max RSS so far %.1f MiB"
      % (ts, mib / ts, tc, mib / tc, int(sys.argv[4]) / 1024))' \
        "$TOTAL_MIB" "$ts" "$tc" "$(cat "$MAX_RSS_FILE")"
done

HWM_KB=$(proc_kb VmHWM)
END_RSS_KB=$(proc_kb VmRSS)

# ---------------------------------------------------------------------------------------------
# Report.

python3 - "$TOTAL_MIB" "$(cat "$MAX_RSS_FILE")" "${HWM_KB:-0}" "${IDLE_RSS_KB:-0}" "${END_RSS_KB:-0}" \
    "$RATIO_TARGET_PCT" "$RSS_TARGET_MB" "${SERVER_TIMES[*]}" "${CP_TIMES[*]}" <<'EOF'
import statistics, sys

total_mib = float(sys.argv[1])
max_rss_kb, hwm_kb, idle_kb, end_kb = (int(x) for x in sys.argv[2:6])
ratio_target, rss_target_mb = float(sys.argv[6]), float(sys.argv[7])
server = [float(x) for x in sys.argv[8].split()]
cp = [float(x) for x in sys.argv[9].split()]

ts, tc = statistics.median(server), statistics.median(cp)
server_rate, cp_rate = total_mib / ts, total_mib / tc
ratio = 100.0 * server_rate / cp_rate
mb = lambda kb: kb * 1024 / 1e6      # kB (KiB) -> MB (10^6 bytes)
mib = lambda kb: kb / 1024

print()
print("== results (median of %d round%s, %d MiB a round)" % (len(server), "" if len(server) == 1 else "s", total_mib))
print("%-34s %12s %12s" % ("", "seconds", "MiB/s"))
print("%-34s %12.3f %12.1f" % ("server (POST /api/v1/uploads)", ts, server_rate))
print("%-34s %12.3f %12.1f" % ("cp (same disk)", tc, cp_rate))
print("%-34s %12s %11.1f%%" % ("server / cp", "", ratio))
print("%-34s %12s %9.1f MB  (%.1f MiB)" % ("server max RSS during uploads", "", mb(max_rss_kb), mib(max_rss_kb)))
print("%-34s %12s %9.1f MB" % ("server RSS idle before / after", "", mb(idle_kb)), end="")
print(" / %.1f MB" % mb(end_kb))
print("%-34s %12s %9.1f MB  (VmHWM, includes start-up)" % ("server peak RSS (whole life)", "", mb(hwm_kb)))
print("rounds: server %s s; cp %s s" % (", ".join("%.3f" % x for x in server), ", ".join("%.3f" % x for x in cp)))
print()
ok_ratio = ratio >= ratio_target
ok_rss = mb(max_rss_kb) < rss_target_mb
print("%s  throughput: server/cp %.1f%% (target >= %g%%)" % ("PASS" if ok_ratio else "FAIL", ratio, ratio_target))
print("%s  memory: max RSS %.1f MB (target < %g MB)" % ("PASS" if ok_rss else "FAIL", mb(max_rss_kb), rss_target_mb))
print("OVERALL: %s" % ("PASS" if ok_ratio and ok_rss else "FAIL"))
EOF
