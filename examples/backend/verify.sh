#!/usr/bin/env bash
# Verifies the backend recipe on a real ClickHouse engine, in one command, on a fresh
# machine (loopback only; not part of `cargo test` or CI, like the benchmarks):
#
#   bash examples/backend/verify.sh
#
# Builds the mini-werf and the werf-wire fixture (release), installs chDB — ClickHouse's
# own engine as a Python package — into a local virtual environment
# (examples/backend/.venv), runs verify.py (the scripted command lines, the exporter's
# span-to-row mapping, every query in queries/, the checks, report.html), then takes a
# screenshot of the report with a headless Chromium (Debian's `chromium`, installed with
# apt-get when missing). Everything it writes goes to $OUT ($CARGO_TARGET_DIR/backend by
# default): it changes no tracked file. UPDATE_SCREENSHOT=1 copies the screenshot over
# examples/backend/report.png (the README's), as a deliberate update.
# Ends with `N passed, M failed`; exits non-zero on any failure.
# Time on a 2-core machine: ~1 min for the builds (more on a cold cargo cache), ~1 min to
# install chDB the first time, ~20 s to run.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target-bench}"
OUT="${OUT:-$CARGO_TARGET_DIR/backend}"
mkdir -p "$OUT"

need=()
command -v python3 >/dev/null || need+=(python3)
python3 -c 'import venv, ensurepip' 2>/dev/null || need+=(python3-venv)
command -v git >/dev/null || need+=(git)
command -v chromium >/dev/null || need+=(chromium)
if ((${#need[@]})); then
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi

echo "== building the mini-werf and the werf-wire fixture (release)" >&2
cargo build --quiet --release --manifest-path "$ROOT/Cargo.toml" --example werf --example werf_wire

VENV="$HERE/.venv"
if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c 'import chdb' 2>/dev/null; then
  echo "== installing chDB into $VENV" >&2
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check chdb
fi

echo "== running the scripted mix, loading ClickHouse, running the queries" >&2
status=0
"$VENV/bin/python" "$HERE/verify.py" \
  --werf "$CARGO_TARGET_DIR/release/examples/werf" \
  --wire "$CARGO_TARGET_DIR/release/examples/werf_wire" \
  --out "$OUT" || status=$?

if [ -f "$OUT/report.html" ]; then
  echo "== screenshot of the report (headless Chromium)" >&2
  chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --force-device-scale-factor=1 \
    --window-size=1280,1900 --screenshot="$OUT/report.png" "file://$OUT/report.html" >/dev/null 2>&1 || true
  [ -s "$OUT/report.png" ] && echo "report: $OUT/report.html, screenshot: $OUT/report.png" >&2
  # The README's screenshot is a deliberate update, never a side effect of a check:
  # UPDATE_SCREENSHOT=1 bash examples/backend/verify.sh
  if [ "${UPDATE_SCREENSHOT:-}" = 1 ] && [ -s "$OUT/report.png" ]; then
    cp "$OUT/report.png" "$HERE/report.png"
    echo "updated $HERE/report.png" >&2
  fi
fi
exit $status
