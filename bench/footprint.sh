#!/usr/bin/env bash
# Footprint of telemetry in an application (SPEC P-5; issue 5): ours vs the OpenTelemetry
# SDK peer. For each side, the same mini-werf command tree built with and without its
# telemetry:
#   ours: bench/user (examples/werf.rs as an application depending on cli-telemetry),
#         `--no-default-features` = the facade's `telemetry` feature off;
#   peer: bench/peer, `--no-default-features` = no OpenTelemetry crates.
# Reports stripped binary size, crates in the dependency tree, and the wall time of a clean
# release build (fresh CARGO_TARGET_DIR, -j2, registry already fetched) of each.
#
#   bench/footprint.sh               # writes bench/results/footprint.md
#   SKIP_BUILD_TIME=1 bench/footprint.sh   # sizes and crates only (incremental builds)
#
# Crates: `cargo tree --prefix none --no-dedupe -e normal` (what is linked into the
# binary) and `-e normal,build` (also build scripts' dependencies: all that compiles),
# lines made unique by package name + version, for the host target.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BASE_TARGET="${CARGO_TARGET_DIR:-$ROOT/target-bench}"
WORK="$BASE_TARGET/footprint"
OUT="${OUT:-$ROOT/bench/results/footprint.md}"
JOBS="${JOBS:-2}"
unset CARGO_TARGET_DIR

command -v python3 >/dev/null || { SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo; $SUDO apt-get update -qq; $SUDO apt-get install -y -qq python3 >/dev/null; }
command -v strip >/dev/null || { SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo; $SUDO apt-get update -qq; $SUDO apt-get install -y -qq binutils >/dev/null; }

mkdir -p "$WORK" "$(dirname "$OUT")"
: >"$WORK/rows.jsonl"

# measure NAME BASELINE MANIFEST BIN [cargo flags...]
measure() {
  local name=$1 baseline=$2 manifest=$3 bin=$4; shift 4
  local target="$WORK/target-$name" build_s=null
  echo "== $name" >&2
  cargo fetch --quiet --manifest-path "$manifest"
  if [ -z "${SKIP_BUILD_TIME:-}" ]; then
    rm -rf "$target"
    echo "   clean build (-j$JOBS), load average $(cut -d' ' -f1-3 /proc/loadavg)" >&2
    local t0 t1
    t0=$(date +%s.%N)
    CARGO_TARGET_DIR="$target" cargo build --quiet --release -j"$JOBS" --manifest-path "$manifest" "$@"
    t1=$(date +%s.%N)
    build_s=$(python3 -c "print(round($t1 - $t0, 1))")
    echo "   ${build_s}s" >&2
  else
    CARGO_TARGET_DIR="$target" cargo build --quiet --release --manifest-path "$manifest" "$@"
  fi
  strip -o "$WORK/$name.stripped" "$target/release/$bin"
  local size
  size=$(stat -c %s "$WORK/$name.stripped")
  cargo tree --quiet --manifest-path "$manifest" "$@" -e normal --prefix none --no-dedupe |
    sed 's/ (\*)$//; s/ (proc-macro)$//; s/ (\/.*)$//' | awk 'NF {print $1" "$2}' | sort -u >"$WORK/$name.crates"
  cargo tree --quiet --manifest-path "$manifest" "$@" -e normal,build --prefix none --no-dedupe |
    sed 's/ (\*)$//; s/ (proc-macro)$//; s/ (\/.*)$//' | awk 'NF {print $1" "$2}' | sort -u >"$WORK/$name.crates-build"
  python3 - "$name" "$baseline" "$size" "$build_s" "$WORK/$name.crates" "$WORK/$name.crates-build" >>"$WORK/rows.jsonl" <<'EOF'
import json, sys
name, baseline, size, build_s, crates, crates_build = sys.argv[1:]
print(json.dumps({
    "name": name, "baseline": baseline or None, "size": int(size),
    "build_s": None if build_s == "null" else float(build_s),
    "crates": open(crates).read().split("\n")[:-1],
    "crates_build": open(crates_build).read().split("\n")[:-1],
}))
EOF
}

echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
measure ours-uninstrumented "" "$ROOT/bench/user/Cargo.toml" werf --no-default-features
measure ours ours-uninstrumented "$ROOT/bench/user/Cargo.toml" werf
measure peer-uninstrumented "" "$ROOT/bench/peer/Cargo.toml" werf-peer --no-default-features
measure peer peer-uninstrumented "$ROOT/bench/peer/Cargo.toml" werf-peer

python3 -c "import json,sys; print(json.dumps([json.loads(l) for l in open(sys.argv[1])]))" "$WORK/rows.jsonl" >"$WORK/footprint.json"
{
  echo "commit=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)"
  echo "dirty=$(git -C "$ROOT" status --porcelain --untracked-files=no 2>/dev/null | wc -l)"
  echo "cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
  echo "cores=$(nproc)"
  echo "rustc=$(rustc -V)"
  echo "jobs=$JOBS"
  echo "loadavg_after=$(cut -d' ' -f1-3 /proc/loadavg)"
} >"$WORK/meta.txt"
python3 "$ROOT/bench/report.py" footprint "$WORK" "$OUT"
