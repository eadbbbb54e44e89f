#!/usr/bin/env bash
# Windows (SPEC "Platforms"; issue 20, point 7): cross-build the library and the mini-werf
# for x86_64-pc-windows-gnu with mingw-w64, and run black-box cases under Wine (debug
# events, inline delivery, the detached sender delivering after the exit, the lasting
# choice under %APPDATA%). Wine 8 lacks bcryptprimitives.dll, which Rust's std uses since
# 1.78: a small shim over RtlGenRandom (.ci/wine/bcryptprimitives.c) is built beside the
# executable.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v x86_64-w64-mingw32-gcc >/dev/null || ! command -v wine >/dev/null; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gcc-mingw-w64-x86-64 wine64 >/dev/null
fi
rustup target add x86_64-pc-windows-gnu >/dev/null

cargo build --quiet --target x86_64-pc-windows-gnu -p cli-telemetry --example werf
out=target/x86_64-pc-windows-gnu/debug/examples
x86_64-w64-mingw32-gcc -shared -O2 -o "$out/bcryptprimitives.dll" \
  .ci/wine/bcryptprimitives.c .ci/wine/bcryptprimitives.def -ladvapi32
python3 .ci/wine/cases.py "$out/werf.exe"
