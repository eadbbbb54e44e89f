#!/usr/bin/env bash
# Whole-process benchmark of the mini-werf (SPEC P-1, P-3, P-4; issue 5), ours side by
# side with the OpenTelemetry SDK peer (bench/peer), against receivers on 127.0.0.1.
#
#   bench/e2e.sh                     # builds everything, runs, writes bench/results/e2e.md
#   RUNS_FAST=200 RUNS_DELAY=30 RUNS_HOLE=15 bench/e2e.sh
#
# Needs: cargo/rustc; installs hyperfine and python3 with apt-get when missing.
# Network: loopback only. The receivers (bench/receiver.rs) listen on 127.0.0.1.
#
# Rows (every command: `werf helm get-release --namespace n`, run by hyperfine -N through
# `env -i …` so that each row pays the same exec of env(1) and sees only the variables
# given; XDG cache/config dirs are private to the run and the cache (spool) is wiped
# before every timed run so that each run starts from the same state):
#   uninstrumented     examples/werf.rs built with the facade's `telemetry` feature off
#   off                instrumented build, WERF_TELEMETRY=0
#   on, healthy        WERF_TELEMETRY=1, receiver answering 200 at once        (P-3)
#   on, refused        nothing listening on the port                          (P-4)
#   on, 200 ms         receiver answering after 200 ms                        (P-4)
#   on, black hole     receiver accepting, reading, never answering           (P-4)
#   on, SYN dropped    a full accept queue: connect() itself hangs            (P-4)
#   peer, …            the same command tree with the OpenTelemetry Rust SDK (bench/peer)
# Environment knobs: RUNS_FAST (200), RUNS_DELAY (20), RUNS_HOLE (10), WARMUP (5),
# QUIET_WAIT (seconds to wait for an idle CPU before starting, 120), OUT (markdown file).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target-bench}"
PEER_TARGET_DIR="${PEER_TARGET_DIR:-$ROOT/bench/peer/target}"
WORK="$CARGO_TARGET_DIR/e2e"
RUNS_FAST="${RUNS_FAST:-200}"
RUNS_DELAY="${RUNS_DELAY:-20}"
RUNS_HOLE="${RUNS_HOLE:-10}"
WARMUP="${WARMUP:-5}"
QUIET_WAIT="${QUIET_WAIT:-120}"
OUT="${OUT:-$ROOT/bench/results/e2e.md}"

log() { printf '\n== %s\n' "$*" >&2; }

# --- tools -------------------------------------------------------------------------------
need_apt=()
command -v hyperfine >/dev/null || need_apt+=(hyperfine)
command -v python3 >/dev/null || need_apt+=(python3)
if ((${#need_apt[@]})); then
  log "installing ${need_apt[*]} (apt-get)"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi
command -v cargo >/dev/null || { echo "e2e.sh: cargo not found" >&2; exit 1; }

# --- build -------------------------------------------------------------------------------
rm -rf "$WORK"
mkdir -p "$WORK/bin" "$WORK/logs" "$WORK/json" "$WORK/home" "$WORK/xdg/config" "$(dirname "$OUT")"
log "building (release): receiver, mini-werf uninstrumented and instrumented, SDK peer"
rustc -O --edition 2021 "$ROOT/bench/receiver.rs" -o "$WORK/bin/receiver"
cargo build --quiet --release --manifest-path "$ROOT/Cargo.toml" --example werf --no-default-features
cp "$CARGO_TARGET_DIR/release/examples/werf" "$WORK/bin/werf-uninstrumented"
cargo build --quiet --release --manifest-path "$ROOT/Cargo.toml" --example werf
cp "$CARGO_TARGET_DIR/release/examples/werf" "$WORK/bin/werf-ours"
CARGO_TARGET_DIR="$PEER_TARGET_DIR" cargo build --quiet --release --manifest-path "$ROOT/bench/peer/Cargo.toml"
cp "$PEER_TARGET_DIR/release/werf-peer" "$WORK/bin/werf-peer"
CARGO_TARGET_DIR="$PEER_TARGET_DIR" cargo build --quiet --release --manifest-path "$ROOT/bench/peer/Cargo.toml" --no-default-features
cp "$PEER_TARGET_DIR/release/werf-peer" "$WORK/bin/werf-peer-bare"

# --- receivers ---------------------------------------------------------------------------
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

# start_receiver NAME MODE → sets PORT_<NAME>; one receiver per row so that its log counts
# that row's requests.
start_receiver() {
  local name=$1 mode=$2 portfile="$WORK/logs/$1.port"
  "$WORK/bin/receiver" --mode "$mode" --delay-ms 200 --log "$WORK/logs/$name.log" >"$portfile" &
  PIDS+=($!)
  for _ in $(seq 50); do [ -s "$portfile" ] && break; sleep 0.1; done
  [ -s "$portfile" ] || { echo "e2e.sh: receiver $name did not start" >&2; exit 1; }
  printf -v "PORT_$name" '%s' "$(head -1 "$portfile")"
  : >>"$WORK/logs/$name.log"
}
for who in ours peer; do
  start_receiver "healthy_$who" healthy
  start_receiver "delay_$who" delay
  start_receiver "blackhole_$who" blackhole
done
start_receiver synhole synhole
# A port nobody listens on, below the ephemeral range so that no test server running on
# the machine meanwhile can be handed it: the first privileged port that refuses.
PORT_refused=""
for p in 9 19 47 $(seq 1 1023); do
  if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then PORT_refused=$p; break; fi
done
[ -n "$PORT_refused" ] || { echo "e2e.sh: no refusing port found" >&2; exit 1; }

url() { echo "http://127.0.0.1:$1/v1/traces"; }
ARGS="helm get-release --namespace n"
BASE_ENV="env -i PATH=/usr/bin:/bin HOME=$WORK/home XDG_CACHE_HOME=$WORK/xdg/cache XDG_CONFIG_HOME=$WORK/xdg/config"
on() { echo "$BASE_ENV WERF_TELEMETRY=1 WERF_TELEMETRY_TRACE_URL=$(url "$2") $WORK/bin/$1 $ARGS"; }
off() { echo "$BASE_ENV WERF_TELEMETRY=0 $WORK/bin/$1 $ARGS"; }
PREPARE="rm -rf $WORK/xdg/cache"

# --- sanity: every binary runs and prints the same line ----------------------------------
for b in werf-uninstrumented werf-ours werf-peer werf-peer-bare; do
  line=$(cd "$ROOT" && $(on "$b" "$PORT_refused") 2>&1)
  [ "$line" = "helm get-release: release found in namespace of 1 chars" ] || { echo "e2e.sh: $b printed: $line" >&2; exit 1; }
done

# --- a quiet machine ---------------------------------------------------------------------
# Busy share of all CPUs over an interval, from /proc/stat.
cpu_busy() {
  local a1 a2 a3 a4 a5 a6 a7 a8 b1 b2 b3 b4 b5 b6 b7 b8
  read -r _ a1 a2 a3 a4 a5 a6 a7 a8 _ </proc/stat; sleep "${1:-1}"
  read -r _ b1 b2 b3 b4 b5 b6 b7 b8 _ </proc/stat
  local busy=$(((b1 + b2 + b3 + b6 + b7 + b8) - (a1 + a2 + a3 + a6 + a7 + a8)))
  local idle=$(((b4 + b5) - (a4 + a5)))
  echo $((100 * busy / (busy + idle + 1)))
}
waited=0
while :; do
  busy=$(cpu_busy 2)
  ((busy <= 15 || waited >= QUIET_WAIT)) && break
  ((waited == 0)) && log "waiting up to ${QUIET_WAIT}s for an idle CPU (now ${busy}% busy)"
  waited=$((waited + 2))
done
printf 'cpu_busy_before=%s\nloadavg_before=%s\n' "$busy" "$(cut -d' ' -f1-3 /proc/loadavg)" >"$WORK/meta.txt"

# stat_snapshot NAME: /proc/stat totals, to report how busy the machine was during a group.
stat_snapshot() { head -1 /proc/stat >"$WORK/json/$1.stat"; }

# group NAME RUNS (-n NAME CMD)...
group() {
  local name=$1 runs=$2; shift 2
  log "group $name: $runs runs per row"
  stat_snapshot "$name.start"
  (cd "$ROOT" && hyperfine -N --style basic --warmup "$WARMUP" --runs "$runs" --prepare "$PREPARE" \
    --export-json "$WORK/json/$name.json" "$@")
  stat_snapshot "$name.end"
}

group fast "$RUNS_FAST" \
  -n "uninstrumented" "$(off werf-uninstrumented)" \
  -n "off" "$(off werf-ours)" \
  -n "on, healthy" "$(on werf-ours "$PORT_healthy_ours")" \
  -n "on, refused" "$(on werf-ours "$PORT_refused")" \
  -n "peer, SDK not built" "$(off werf-peer-bare)" \
  -n "peer, off" "$(off werf-peer)" \
  -n "peer, healthy" "$(on werf-peer "$PORT_healthy_peer")" \
  -n "peer, refused" "$(on werf-peer "$PORT_refused")"
group delay "$RUNS_DELAY" \
  -n "on, 200 ms" "$(on werf-ours "$PORT_delay_ours")" \
  -n "peer, 200 ms" "$(on werf-peer "$PORT_delay_peer")"
group hole "$RUNS_HOLE" \
  -n "on, black hole" "$(on werf-ours "$PORT_blackhole_ours")" \
  -n "on, SYN dropped" "$(on werf-ours "$PORT_synhole")" \
  -n "peer, black hole" "$(on werf-peer "$PORT_blackhole_peer")" \
  -n "peer, SYN dropped" "$(on werf-peer "$PORT_synhole")"

echo "loadavg_after=$(cut -d' ' -f1-3 /proc/loadavg)" >>"$WORK/meta.txt"
{
  echo "commit=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)"
  echo "dirty=$(git -C "$ROOT" status --porcelain --untracked-files=no 2>/dev/null | wc -l)"
  echo "cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
  echo "cores=$(nproc)"
  echo "kernel=$(uname -r)"
  echo "rustc=$(rustc -V)"
  echo "hyperfine=$(hyperfine --version)"
  echo "runs=fast:$RUNS_FAST delay:$RUNS_DELAY hole:$RUNS_HOLE warmup:$WARMUP"
} >>"$WORK/meta.txt"

python3 "$ROOT/bench/report.py" e2e "$WORK" "$OUT"
