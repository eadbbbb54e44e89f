#!/usr/bin/env bash
# Exit cost at real and broken network conditions (SPEC P-6, P-7; issues 12 and 20): the
# mini-werf with telemetry off, detached (the default with #[cli_telemetry::main]) and
# inline, side by side with the OpenTelemetry SDK peer (bench/peer), in one run.
# Loopback only.
#
#   bench/network.sh               # builds, runs, writes bench/results/network.md
#   RUNS=30 RUNS_SLOW=10 bench/network.sh
#
# Groups (`werf helm get-release --namespace n`, hyperfine -N, medians; rows: off,
# detached, inline, peer, and the uninstrumented binary where P-6 asks for it):
#   loopback   healthy receiver on 127.0.0.1, plain http
#   rtt50      HTTPS with a private CA (SSL_CERT_FILE) behind a relay adding 25 ms each way
#   work500    the same, a command working 500 ms (BENCH_WORK_MS=500)
#   rtt300     HTTPS with a private CA, 150 ms each way
#   delay200   an endpoint answering after 200 ms
#   blackhole  an endpoint that accepts and never answers
#   nodns      a host name whose DNS never answers: the runs happen in a network namespace
#              whose resolver (127.0.0.1:53 there) reads queries and answers none (needs
#              root and iproute2; skipped otherwise)
# P-7 target: detached − off ≤ 2 ms in every group. Then bench/sender_stats.py measures,
# after the exit, the time to the last event delivered, the sender's CPU time and peak RSS
# per drain, the hand-off's cost, and a posix_spawn of /bin/true (the floor).
#
# The relay is user space: the kernel completes TCP's own handshake at once, so a new
# connection costs one round trip less than on a real network — for every row alike.
# Needs: cargo, python3, openssl; installs hyperfine with apt-get when missing.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target-bench}"
PEER_TARGET_DIR="${PEER_TARGET_DIR:-$ROOT/bench/peer/target}"
WORK="$CARGO_TARGET_DIR/network"
RUNS="${RUNS:-30}"
RUNS_SLOW="${RUNS_SLOW:-10}"
OUT="${OUT:-$ROOT/bench/results/network.md}"

log() { printf '\n== %s\n' "$*" >&2; }
need=()
command -v hyperfine >/dev/null || need+=(hyperfine)
command -v python3 >/dev/null || need+=(python3)
command -v openssl >/dev/null || need+=(openssl)
if ((${#need[@]})); then
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi

rm -rf "$WORK"
mkdir -p "$WORK/bin" "$WORK/tls" "$WORK/json" "$(dirname "$OUT")"

log "certificates: a private CA and a server certificate for 127.0.0.1"
(
  cd "$WORK/tls"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout ca.key -out ca.pem \
    -days 30 -subj "/CN=bench private CA" -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout srv.key -out srv.csr \
    -subj "/CN=127.0.0.1" 2>/dev/null
  printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n' >ext.cnf
  openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out srv.pem -days 30 \
    -extfile ext.cnf 2>/dev/null
)

log "building (release): receiver, mini-werf uninstrumented and instrumented, SDK peer"
rustc -O --edition 2021 "$ROOT/bench/receiver.rs" -o "$WORK/bin/receiver"
cargo build --quiet --release --manifest-path "$ROOT/Cargo.toml" --example werf --no-default-features
cp "$CARGO_TARGET_DIR/release/examples/werf" "$WORK/bin/werf-uninstrumented"
cargo build --quiet --release --manifest-path "$ROOT/Cargo.toml" --example werf
cp "$CARGO_TARGET_DIR/release/examples/werf" "$WORK/bin/werf-ours"
CARGO_TARGET_DIR="$PEER_TARGET_DIR" cargo build --quiet --release --manifest-path "$ROOT/bench/peer/Cargo.toml"
cp "$PEER_TARGET_DIR/release/werf-peer" "$WORK/bin/werf-peer"

PIDS=()
NETNS=""
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  if [ -n "$NETNS" ]; then ip netns pids "$NETNS" 2>/dev/null | xargs -r kill 2>/dev/null || true; ip netns del "$NETNS" 2>/dev/null || true; rm -rf "/etc/netns/$NETNS"; fi
}
trap cleanup EXIT
start() { # NAME CMD... → prints the port the process printed
  local name=$1; shift
  "$@" >"$WORK/$name.port" 2>"$WORK/$name.err" &
  PIDS+=($!)
  for _ in $(seq 100); do [ -s "$WORK/$name.port" ] && break; sleep 0.05; done
  [ -s "$WORK/$name.port" ] || { echo "network.sh: $name did not start" >&2; cat "$WORK/$name.err" >&2; exit 1; }
  head -1 "$WORK/$name.port"
}
# An HTTPS receiver behind a relay adding DELAY ms each way: prints the relay's port.
https_behind_relay() { # NAME DELAY
  local rport
  rport=$(start "recv_$1" python3 "$ROOT/bench/tls_receiver.py" --cert "$WORK/tls/srv.pem" \
    --key "$WORK/tls/srv.key" --log "$WORK/requests_$1.log")
  : >"$WORK/requests_$1.log"
  start "relay_$1" python3 "$ROOT/bench/latency_relay.py" --target-port "$rport" --delay-ms "$2"
}
plain() { # NAME MODE [DELAY] → a bench/receiver.rs receiver's port
  local port
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  "$WORK/bin/receiver" --mode "$2" --port "$port" --delay-ms "${3:-0}" --log "$WORK/requests_$1.log" \
    >/dev/null 2>"$WORK/recv_$1.err" &
  PIDS+=($!)
  for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.05; done
  echo "$port"
}

# One receiver per variant and condition, so that its log counts what that variant sent.
declare -A URL
for v in detached inline peer; do
  URL[rtt50_$v]="https://127.0.0.1:$(https_behind_relay "rtt50_$v" 25)/v1/traces"
  URL[rtt300_$v]="https://127.0.0.1:$(https_behind_relay "rtt300_$v" 150)/v1/traces"
  URL[loopback_$v]="http://127.0.0.1:$(plain "loopback_$v" healthy)/v1/traces"
  URL[delay200_$v]="http://127.0.0.1:$(plain "delay200_$v" delay 200)/v1/traces"
  URL[blackhole_$v]="http://127.0.0.1:$(plain "blackhole_$v" blackhole)/v1/traces"
  URL[nodns_$v]="https://telemetry.example.com/v1/traces"
done

# The namespace whose DNS never answers.
PREFIX=""
if [ "$(id -u)" = 0 ] && command -v ip >/dev/null && ip netns add "bench-nodns-$$" 2>/dev/null; then
  NETNS="bench-nodns-$$"
  ip netns exec "$NETNS" ip link set lo up
  mkdir -p "/etc/netns/$NETNS"
  echo "nameserver 127.0.0.1" >"/etc/netns/$NETNS/resolv.conf"
  ip netns exec "$NETNS" python3 -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 53))
while True:
    s.recvfrom(4096)' &
  PIDS+=($!)
  PREFIX="ip netns exec $NETNS"
fi

BASE="env -i PATH=/usr/bin:/bin SSL_CERT_FILE=$WORK/tls/ca.pem"
home() { mkdir -p "$WORK/home/$1"; echo "HOME=$WORK/home/$1 XDG_CACHE_HOME=$WORK/home/$1/cache XDG_CONFIG_HOME=$WORK/home/$1/config"; }
# cmd GROUP VARIANT WORK_MS → the command line of one row
cmd() {
  local group=$1 v=$2 work=$3 pre=""
  [ "$group" = nodns ] && pre="$PREFIX"
  case $v in
    off) echo "$pre $BASE $(home "$group-off") BENCH_WORK_MS=$work WERF_TELEMETRY=0 $WORK/bin/werf-ours helm get-release --namespace n" ;;
    uninstrumented) echo "$pre $BASE $(home "$group-un") BENCH_WORK_MS=$work $WORK/bin/werf-uninstrumented helm get-release --namespace n" ;;
    detached|inline) echo "$pre $BASE $(home "$group-$v") BENCH_WORK_MS=$work WERF_TELEMETRY=1 WERF_TELEMETRY_DELIVERY=$v WERF_TELEMETRY_TRACE_URL=${URL[${group%%500}_$v]:-${URL[rtt50_$v]}} $WORK/bin/werf-ours helm get-release --namespace n" ;;
    peer) echo "$pre $BASE $(home "$group-peer") BENCH_WORK_MS=$work WERF_TELEMETRY=1 WERF_TELEMETRY_TRACE_URL=${URL[${group%%500}_peer]:-${URL[rtt50_peer]}} $WORK/bin/werf-peer helm get-release --namespace n" ;;
  esac
}

log "sanity: every variant delivers through the 50 ms relay"
for v in detached inline peer; do
  out=$($(cmd rtt50 "$v" 0) 2>&1)
  [ "$out" = "helm get-release: release found in namespace of 1 chars" ] || { echo "network.sh: $v printed: $out" >&2; exit 1; }
  for _ in $(seq 50); do [ -s "$WORK/requests_rtt50_$v.log" ] && break; sleep 0.1; done
  [ -s "$WORK/requests_rtt50_$v.log" ] || { echo "network.sh: $v delivered nothing" >&2; exit 1; }
  : >"$WORK/requests_rtt50_$v.log"
done

group() { # NAME RUNS WORK_MS VARIANT...
  local name=$1 runs=$2 work=$3; shift 3
  local args=()
  for v in "$@"; do args+=(-n "$v" "$(cmd "$name" "$v" "$work")"); done
  log "group $name: $runs runs per row"
  cat /proc/stat | head -1 >"$WORK/json/$name.start.stat"
  (cd "$ROOT" && hyperfine -N --style basic --warmup 3 --runs "$runs" --export-json "$WORK/json/$name.json" "${args[@]}")
  cat /proc/stat | head -1 >"$WORK/json/$name.end.stat"
}
group loopback "$RUNS" 0 uninstrumented off detached inline peer
group rtt50 "$RUNS" 0 uninstrumented off detached inline peer
group work500 "$RUNS" 500 uninstrumented off detached inline peer
group rtt300 "$RUNS_SLOW" 0 off detached inline peer
group delay200 "$RUNS_SLOW" 0 off detached inline peer
group blackhole "$RUNS_SLOW" 0 off detached inline peer
if [ -n "$NETNS" ]; then
  group nodns "$RUNS_SLOW" 0 off detached inline peer
fi

log "after the exit: delivery time, the sender's CPU and memory, the spawn"
sleep 12 # the senders of the groups above end (life: 10 s)
python3 "$ROOT/bench/sender_stats.py" --werf "$WORK/bin/werf-ours" --runs 20 \
  --receiver-log "$WORK/requests_rtt50_detached.log" \
  --env "WERF_TELEMETRY_TRACE_URL=${URL[rtt50_detached]}" --env "SSL_CERT_FILE=$WORK/tls/ca.pem" \
  --out "$WORK/json/stats_rtt50.json"
python3 "$ROOT/bench/sender_stats.py" --werf "$WORK/bin/werf-ours" --runs 20 \
  --receiver-log "$WORK/requests_rtt300_detached.log" \
  --env "WERF_TELEMETRY_TRACE_URL=${URL[rtt300_detached]}" --env "SSL_CERT_FILE=$WORK/tls/ca.pem" \
  --out "$WORK/json/stats_rtt300.json"

{
  echo "commit=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)"
  echo "dirty=$(git -C "$ROOT" status --porcelain --untracked-files=no 2>/dev/null | wc -l)"
  echo "cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
  echo "cores=$(nproc)"
  echo "rustc=$(rustc -V)"
  echo "runs=$RUNS"
  echo "runs_slow=$RUNS_SLOW"
  echo "nodns=$([ -n "$NETNS" ] && echo yes || echo no)"
  for f in "$WORK"/requests_*.log; do
    n=$(basename "$f" .log); n=${n#requests_}
    echo "requests_$n=$(wc -l <"$f")"
    echo "spans_$n=$(awk '$2 ~ /^[0-9]+$/ && $3 ~ /^[0-9]+$/ {s+=$3} END {print s+0}' "$f")"
  done
  echo "loadavg=$(cut -d' ' -f1-3 /proc/loadavg)"
} >"$WORK/meta.txt"
python3 "$ROOT/bench/report.py" network "$WORK" "$OUT"
