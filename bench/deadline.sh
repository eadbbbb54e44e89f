#!/usr/bin/env bash
# One deadline per process (SPEC S-9, P-4; issue 11): a handler called three times in one
# run (tests/apps/pastel_like.rs `paint a b c`, each call flushing at its end — no
# `#[cli_telemetry::main]`) against an endpoint that accepts and never answers. Without a
# per-process budget this took 3 × the deadline. hyperfine, 10 runs; loopback only.
#
#   bench/deadline.sh                 # writes bench/results/deadline.md
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target-bench}"
WORK="$CARGO_TARGET_DIR/deadline"
OUT="${OUT:-$ROOT/bench/results/deadline.md}"
DEADLINE_MS="${DEADLINE_MS:-1300}"
command -v hyperfine >/dev/null || { apt-get update -qq && apt-get install -y -qq hyperfine >/dev/null; }
rm -rf "$WORK"; mkdir -p "$WORK/home"
rustc -O --edition 2021 "$ROOT/bench/receiver.rs" -o "$WORK/receiver"
cargo build --quiet --release --manifest-path "$ROOT/Cargo.toml" --example pastel_like
"$WORK/receiver" --mode blackhole >"$WORK/port" &
PID=$!
trap 'kill $PID 2>/dev/null || true' EXIT
for _ in $(seq 50); do [ -s "$WORK/port" ] && break; sleep 0.1; done
PORT=$(head -1 "$WORK/port")
BIN="$CARGO_TARGET_DIR/release/examples/pastel_like"
ENV="env -i PATH=/usr/bin:/bin HOME=$WORK/home XDG_CACHE_HOME=$WORK/home/cache XDG_CONFIG_HOME=$WORK/home/config APP_TELEMETRY_TIMEOUT_MS=$DEADLINE_MS"
hyperfine -N --style basic --runs 10 --prepare "rm -rf $WORK/home/cache" --export-json "$WORK/h.json" \
  -n "off" "$ENV APP_TELEMETRY=0 $BIN paint a b c" \
  -n "on, black hole" "$ENV APP_TELEMETRY=1 APP_TELEMETRY_TRACE_URL=http://127.0.0.1:$PORT/v1/traces $BIN paint a b c"
python3 - "$WORK/h.json" "$OUT" "$DEADLINE_MS" "$(git -C "$ROOT" rev-parse --short HEAD)" <<'PY'
import json, sys
r = {x["command"]: x for x in json.load(open(sys.argv[1]))["results"]}
deadline = float(sys.argv[3])
on = r["on, black hole"]["median"] * 1000
off = r["off"]["median"] * 1000
met = on <= deadline + 20 + off
text = f"""# One deadline per process (bench/deadline.sh)

`pastel_like paint a b c`: three calls of an instrumented handler in one run, each
flushing at its end, against a black-hole endpoint; deadline {deadline:.0f} ms; hyperfine,
medians of 10 runs; commit {sys.argv[4]}.

| run | median ms | target |
|---|---:|---|
| telemetry off | {off:.1f} | |
| on, black hole | {on:.1f} | ≤ one deadline + 20 ms ({deadline + 20:.0f} ms; three would be {3 * deadline:.0f} ms): {"met" if met else "**not met**"} |
"""
open(sys.argv[2], "w").write(text)
print(text)
PY
