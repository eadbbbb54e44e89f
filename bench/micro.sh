#!/usr/bin/env bash
# Micro-benchmarks (SPEC P-1, P-2; issue 5): the criterion benches in benches/, then a
# table in bench/results/micro.md.
#
#   bench/micro.sh                  # about 1.5 minutes on 2 cores (plus the first build)
#   P2_COLD_RUNS=500 bench/micro.sh
#
# benches/overhead_off.rs       P-1: instrumented vs plain, telemetry not installed / off
# benches/handler_thread_on.rs  P-2: call → first line of the body with telemetry on and a
#                               loopback receiver in the bench; warm (criterion) and cold
#                               (one fresh process per sample: the first call of a run)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target-bench}"
OUT="${OUT:-$ROOT/bench/results/micro.md}"
COLD="$CARGO_TARGET_DIR/p2_cold.json"
command -v python3 >/dev/null || { SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo; $SUDO apt-get update -qq; $SUDO apt-get install -y -qq python3 >/dev/null; }
mkdir -p "$(dirname "$OUT")"
rm -f "$COLD"
rm -rf "$CARGO_TARGET_DIR/criterion/p1_not_installed" "$CARGO_TARGET_DIR/criterion/p1_installed_off" "$CARGO_TARGET_DIR/criterion/p2_warm"

META="$CARGO_TARGET_DIR/micro-meta.txt"
{
  echo "loadavg_before=$(cut -d' ' -f1-3 /proc/loadavg)"
  echo "commit=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)"
  echo "dirty=$(git -C "$ROOT" status --porcelain --untracked-files=no 2>/dev/null | wc -l)"
  echo "cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
  echo "cores=$(nproc)"
  echo "rustc=$(rustc -V)"
} >"$META"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
cd "$ROOT"
cargo bench --manifest-path "$ROOT/Cargo.toml" --bench overhead_off
P2_COLD_OUT="$COLD" cargo bench --manifest-path "$ROOT/Cargo.toml" --bench handler_thread_on
echo "loadavg_after=$(cut -d' ' -f1-3 /proc/loadavg)" >>"$META"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
python3 "$ROOT/bench/report.py" micro "$CARGO_TARGET_DIR/criterion" "$COLD" "$OUT"
