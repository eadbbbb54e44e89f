#!/usr/bin/env bash
# "Real network" benchmark (SPEC P-6; issue 12): the mini-werf and the OpenTelemetry SDK
# peer (bench/peer) send to an HTTPS receiver whose certificate comes from a private CA
# (trusted the standard way, SSL_CERT_FILE), through a loopback relay that adds 25 ms in
# each direction (a 50 ms round trip). Loopback only.
#
#   bench/network.sh               # builds, runs, writes bench/results/network.md
#   RUNS=30 DELAY_MS=25 bench/network.sh
#
# Rows (`werf helm get-release --namespace n`, hyperfine -N, medians):
#   no-op command: uninstrumented, ours, peer            target: ours ≤ peer
#   command working 500 ms (BENCH_WORK_MS=500): the same  target: ours − uninstrumented
#                                                          ≤ one round trip + 5 ms
# The relay is user space: the kernel completes TCP's own handshake at once, so a new
# connection costs one round trip less than on a real network — for both sides alike.
# Needs: cargo, python3, openssl; installs hyperfine with apt-get when missing.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target-bench}"
PEER_TARGET_DIR="${PEER_TARGET_DIR:-$ROOT/bench/peer/target}"
WORK="$CARGO_TARGET_DIR/network"
RUNS="${RUNS:-30}"
DELAY_MS="${DELAY_MS:-25}"
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
mkdir -p "$WORK/bin" "$WORK/tls" "$WORK/json" "$WORK/home" "$(dirname "$OUT")"

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

log "building (release): mini-werf uninstrumented and instrumented, SDK peer"
cargo build --quiet --release --manifest-path "$ROOT/Cargo.toml" --example werf --no-default-features
cp "$CARGO_TARGET_DIR/release/examples/werf" "$WORK/bin/werf-uninstrumented"
cargo build --quiet --release --manifest-path "$ROOT/Cargo.toml" --example werf
cp "$CARGO_TARGET_DIR/release/examples/werf" "$WORK/bin/werf-ours"
CARGO_TARGET_DIR="$PEER_TARGET_DIR" cargo build --quiet --release --manifest-path "$ROOT/bench/peer/Cargo.toml"
cp "$PEER_TARGET_DIR/release/werf-peer" "$WORK/bin/werf-peer"

PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT
start() { # NAME CMD... → prints the port the process printed
  local name=$1; shift
  "$@" >"$WORK/$name.port" 2>"$WORK/$name.err" &
  PIDS+=($!)
  for _ in $(seq 100); do [ -s "$WORK/$name.port" ] && break; sleep 0.05; done
  [ -s "$WORK/$name.port" ] || { echo "network.sh: $name did not start" >&2; cat "$WORK/$name.err" >&2; exit 1; }
  head -1 "$WORK/$name.port"
}
for who in ours peer; do
  rport=$(start "receiver_$who" python3 "$ROOT/bench/tls_receiver.py" --cert "$WORK/tls/srv.pem" \
    --key "$WORK/tls/srv.key" --log "$WORK/requests_$who.log")
  : >"$WORK/requests_$who.log"
  printf -v "PORT_$who" '%s' "$(start "relay_$who" python3 "$ROOT/bench/latency_relay.py" \
    --target-port "$rport" --delay-ms "$DELAY_MS")"
done

url() { echo "https://127.0.0.1:$1/v1/traces"; }
ARGS="helm get-release --namespace n"
BASE="env -i PATH=/usr/bin:/bin HOME=$WORK/home XDG_CACHE_HOME=$WORK/home/cache XDG_CONFIG_HOME=$WORK/home/config SSL_CERT_FILE=$WORK/tls/ca.pem"
on() { echo "$BASE BENCH_WORK_MS=$2 WERF_TELEMETRY=1 WERF_TELEMETRY_TRACE_URL=$(url "$3") $WORK/bin/$1 $ARGS"; }
off() { echo "$BASE BENCH_WORK_MS=$2 WERF_TELEMETRY=0 $WORK/bin/$1 $ARGS"; }

log "sanity: both deliver through the relay"
for who in ours peer; do
  port_var="PORT_$who"
  out=$($(on "werf-$who" 0 "${!port_var}") 2>&1)
  [ "$out" = "helm get-release: release found in namespace of 1 chars" ] || { echo "network.sh: werf-$who printed: $out" >&2; exit 1; }
  sleep 0.5
  [ -s "$WORK/requests_$who.log" ] || { echo "network.sh: werf-$who delivered nothing" >&2; exit 1; }
done
: >"$WORK/requests_ours.log"; : >"$WORK/requests_peer.log"

group() { # NAME (-n NAME CMD)...
  local name=$1; shift
  log "group $name: $RUNS runs per row"
  (cd "$ROOT" && hyperfine -N --style basic --warmup 3 --runs "$RUNS" --export-json "$WORK/json/$name.json" "$@")
}
group noop \
  -n "uninstrumented" "$(off werf-uninstrumented 0)" \
  -n "ours" "$(on werf-ours 0 "$PORT_ours")" \
  -n "peer" "$(on werf-peer 0 "$PORT_peer")"
group work500 \
  -n "uninstrumented" "$(off werf-uninstrumented 500)" \
  -n "ours" "$(on werf-ours 500 "$PORT_ours")" \
  -n "peer" "$(on werf-peer 500 "$PORT_peer")"

{
  echo "commit=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)"
  echo "dirty=$(git -C "$ROOT" status --porcelain --untracked-files=no 2>/dev/null | wc -l)"
  echo "cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
  echo "cores=$(nproc)"
  echo "rustc=$(rustc -V)"
  echo "delay_ms=$DELAY_MS"
  echo "runs=$RUNS"
  echo "requests_ours=$(wc -l <"$WORK/requests_ours.log")"
  echo "requests_peer=$(wc -l <"$WORK/requests_peer.log")"
  echo "loadavg=$(cut -d' ' -f1-3 /proc/loadavg)"
} >"$WORK/meta.txt"
python3 "$ROOT/bench/report.py" network "$WORK" "$OUT"
