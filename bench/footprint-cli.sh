#!/usr/bin/env bash
# Footprint on real, published CLIs (SPEC P-5; issue 15): zoxide 0.10.0 and pastel 0.12.0
# from crates.io, each built pristine and with the integration README "For CLI authors"
# teaches (patches below), release profile as their authors ship it (LTO, strip), clean
# build with -j2 in a fresh target directory, registry already fetched. Plus xh 0.26.3,
# which already has reqwest 0.13 (rustls on aws-lc-rs): pristine, with cli-telemetry's
# default (built-in) transport, and with `default-features = false, features = ["reqwest"]`.
#
#   bench/footprint-cli.sh          # writes bench/results/footprint-cli.md
#
# Reports stripped size, clean build wall time, and packages compiled (`cargo tree -e
# normal,build`, unique name+version) — added ones listed.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
WORK="${CARGO_TARGET_DIR:-$ROOT/target-bench}/footprint-cli"
OUT="${OUT:-$ROOT/bench/results/footprint-cli.md}"
JOBS="${JOBS:-2}"
unset CARGO_TARGET_DIR
command -v python3 >/dev/null || { apt-get update -qq && apt-get install -y -qq python3 >/dev/null; }
command -v strip >/dev/null || { apt-get update -qq && apt-get install -y -qq binutils >/dev/null; }
rm -rf "$WORK"; mkdir -p "$WORK"

# Fetch the published sources (a throwaway manifest naming them; they have no lib target,
# so cargo only downloads them).
mkdir -p "$WORK/fetch/src"
printf '[package]\nname = "fetch"\nversion = "0.0.0"\nedition = "2021"\n[workspace]\n[dependencies]\nzoxide = "=0.10.0"\npastel = "=0.12.0"\nxh = "=0.26.3"\n' >"$WORK/fetch/Cargo.toml"
echo 'fn main() {}' >"$WORK/fetch/src/main.rs"
cargo fetch --quiet --manifest-path "$WORK/fetch/Cargo.toml" 2>/dev/null || true
REG=$(dirname "$(find "$HOME/.cargo/registry/src" -maxdepth 2 -type d -name 'zoxide-0.10.0' | head -1)")
[ -d "$REG/zoxide-0.10.0" ] && [ -d "$REG/pastel-0.12.0" ] && [ -d "$REG/xh-0.26.3" ] || { echo "sources not found" >&2; exit 1; }

for cli in zoxide-0.10.0 pastel-0.12.0; do
  cp -r "$REG/$cli" "$WORK/$cli-pristine"
  cp -r "$REG/$cli" "$WORK/$cli-instrumented"
  # Own workspaces (the work directory lies inside this repository's).
  printf '\n[workspace]\n' >>"$WORK/$cli-pristine/Cargo.toml"
  printf '\n[workspace]\n' >>"$WORK/$cli-instrumented/Cargo.toml"
  # crates.io manifests are normalized (`[dependencies.x]` tables): add one more.
  printf '\n[dependencies.cli-telemetry]\npath = "%s"\n' "$ROOT" >>"$WORK/$cli-instrumented/Cargo.toml"
done

# xh: pristine, default transport, reqwest transport (no built-in one compiled).
cp -r "$REG/xh-0.26.3" "$WORK/xh-0.26.3-pristine"
printf '\n[workspace]\n' >>"$WORK/xh-0.26.3-pristine/Cargo.toml"
for variant in default reqwest; do
  d="$WORK/xh-0.26.3-$variant"
  cp -r "$REG/xh-0.26.3" "$d"
  printf '\n[workspace]\n' >>"$d/Cargo.toml"
  if [ "$variant" = default ]; then
    printf '\n[dependencies.cli-telemetry]\npath = "%s"\n' "$ROOT" >>"$d/Cargo.toml"
  else
    printf '\n[dependencies.cli-telemetry]\npath = "%s"\ndefault-features = false\nfeatures = ["reqwest"]\n' "$ROOT" >>"$d/Cargo.toml"
  fi
  # `#[cli_telemetry::main]`, `install()` first in main, the handler `run` annotated (xh
  # parses with its own `Cli::parse`, which rewrites arguments before clap).
  python3 - "$d/src/main.rs" <<'PY'
import sys, pathlib
m = pathlib.Path(sys.argv[1])
s = m.read_text()
s = s.replace("fn main() -> ExitCode {\n    let args = Cli::parse();",
    "#[cli_telemetry::main]\nfn main() -> ExitCode {\n"
    "    cli_telemetry::Telemetry::builder(\"xh\")\n"
    "        .version(env!(\"CARGO_PKG_VERSION\"))\n"
    "        .endpoint(\"https://telemetry.invalid/v1/traces\")\n"
    "        .install();\n"
    "    let args = Cli::parse();", 1)
s = s.replace("fn run(args: Cli) -> Result<ExitCode> {",
    "#[cli_telemetry::instrument_command(name = \"xh\")]\nfn run(args: Cli) -> Result<ExitCode> {", 1)
assert s.count("cli_telemetry::") == 3, s.count("cli_telemetry::")
m.write_text(s)
PY
done

# zoxide: `impl Run for X` handlers (annotate each `run`), anyhow errors mapped in main.
Z="$WORK/zoxide-0.10.0-instrumented/src"
python3 - "$Z" <<'PY'
import sys, pathlib
src = pathlib.Path(sys.argv[1])
m = src / "main.rs"
s = m.read_text()
s = s.replace("pub fn main() -> ExitCode {", "#[cli_telemetry::main]\npub fn main() -> ExitCode {", 1)
s = s.replace("    match Cmd::parse().run() {",
    "    cli_telemetry::Telemetry::builder(\"zoxide\")\n"
    "        .version(env!(\"CARGO_PKG_VERSION\"))\n"
    "        .endpoint(\"https://telemetry.invalid/v1/traces\")\n"
    "        .install();\n"
    "    match cli_telemetry::parse::<Cmd>().run() {", 1)
assert "cli_telemetry::parse" in s
m.write_text(s)
n = 0
for f in ["add", "edit", "import", "init", "query", "remove"]:
    p = src / "cmd" / f"{f}.rs"
    t = p.read_text()
    t2 = t.replace("    fn run(&self) -> Result<()> {", "    #[cli_telemetry::instrument_command]\n    fn run(&self) -> Result<()> {", 1)
    n += t2 != t
    p.write_text(t2)
assert n == 6, n
PY

# pastel: builder API, a dispatcher (`Command::execute`, annotated), process::exit in main.
P="$WORK/pastel-0.12.0-instrumented/src/cli"
python3 - "$P" <<'PY'
import sys, pathlib
src = pathlib.Path(sys.argv[1])
m = src / "main.rs"
s = m.read_text()
s = s.replace("    let global_matches = app.get_matches();", "    let global_matches = cli_telemetry::get_matches(app);", 1)
s = s.replace("fn main() {\n    let result = run();",
    "#[cli_telemetry::main]\nfn main() {\n"
    "    cli_telemetry::Telemetry::builder(\"pastel\")\n"
    "        .version(env!(\"CARGO_PKG_VERSION\"))\n"
    "        .endpoint(\"https://telemetry.invalid/v1/traces\")\n"
    "        .install();\n"
    "    let result = run();", 1)
s = s.replace("std::process::exit(", "cli_telemetry::exit(")
assert "cli_telemetry::get_matches" in s and "cli_telemetry::main" in s
m.write_text(s)
c = src / "commands" / "mod.rs"
t = c.read_text()
t2 = t.replace("    pub fn execute(&self, matches: &ArgMatches, config: &Config) -> Result<()> {",
    "    #[cli_telemetry::instrument_command]\n    pub fn execute(&self, matches: &ArgMatches, config: &Config) -> Result<()> {", 1)
assert t2 != t
c.write_text(t2)
PY

: >"$WORK/rows.jsonl"
measure() { # NAME DIR BIN
  local name=$1 dir=$2 bin=$3 target="$WORK/target-$1"
  echo "== $name: clean build (-j$JOBS), load $(cut -d' ' -f1-3 /proc/loadavg)" >&2
  cargo fetch --quiet --manifest-path "$dir/Cargo.toml"
  local t0 t1
  t0=$(date +%s.%N)
  CARGO_TARGET_DIR="$target" cargo build --quiet --release -j"$JOBS" --manifest-path "$dir/Cargo.toml"
  t1=$(date +%s.%N)
  strip -o "$WORK/$name.bin" "$target/release/$bin"
  cargo tree --quiet --manifest-path "$dir/Cargo.toml" -e normal,build --prefix none --no-dedupe |
    sed 's/ (\*)$//; s/ (proc-macro)$//; s/ (\/.*)$//' | awk 'NF {print $1" "$2}' | sort -u >"$WORK/$name.crates"
  python3 -c "import json,sys; print(json.dumps({'name': sys.argv[1], 'size': int(sys.argv[2]), 'build_s': round(float(sys.argv[4]) - float(sys.argv[3]), 1), 'crates': open(sys.argv[5]).read().split()}))" \
    "$name" "$(stat -c %s "$WORK/$name.bin")" "$t0" "$t1" "$WORK/$name.crates" >>"$WORK/rows.jsonl"
}
measure zoxide-pristine "$WORK/zoxide-0.10.0-pristine" zoxide
measure zoxide-instrumented "$WORK/zoxide-0.10.0-instrumented" zoxide
measure pastel-pristine "$WORK/pastel-0.12.0-pristine" pastel
measure pastel-instrumented "$WORK/pastel-0.12.0-instrumented" pastel
measure xh-pristine "$WORK/xh-0.26.3-pristine" xh
measure xh-default "$WORK/xh-0.26.3-default" xh
measure xh-reqwest "$WORK/xh-0.26.3-reqwest" xh

# Sanity: the instrumented binaries run, and send nothing by default.
"$WORK/zoxide-instrumented.bin" --version >/dev/null
"$WORK/pastel-instrumented.bin" --version >/dev/null
"$WORK/xh-reqwest.bin" --version >/dev/null
# The reqwest build compiles no built-in transport (xh's rustls runs on aws-lc-rs).
if grep -q "^ring " "$WORK/xh-reqwest.crates"; then echo "xh-reqwest compiles ring" >&2; exit 1; fi

python3 - "$WORK/rows.jsonl" "$OUT" "$(git -C "$ROOT" rev-parse --short HEAD)" "$(rustc -V)" "$JOBS" <<'PY'
import json, sys
rows = {r["name"]: r for r in map(json.loads, open(sys.argv[1]))}
out, commit, rustc, jobs = sys.argv[2:6]
def pairs(c):
    return set(zip(c[0::2], c[1::2]))
lines = ["# Footprint on real CLIs (bench/footprint-cli.sh)", "",
         f"zoxide 0.10.0 and pastel 0.12.0 from crates.io, pristine and with the README's integration "
         f"(`#[cli_telemetry::main]`, `install()`, parse through the library, `#[instrument_command]` on "
         f"each handler / the dispatcher). Their own release profiles (LTO, codegen-units 1, strip); clean "
         f"`cargo build --release -j{jobs}` in a fresh target dir, registry fetched. Commit {commit}; {rustc}; 2-core VM.", "",
         "| CLI | pristine | instrumented | growth | clean build pristine | instrumented | added | packages added | target |",
         "|---|---:|---:|---:|---:|---:|---:|---:|---|"]
checks = []
for cli in ["zoxide", "pastel"]:
    p, i = rows[f"{cli}-pristine"], rows[f"{cli}-instrumented"]
    growth = (i["size"] - p["size"]) / 1e6
    added_s = i["build_s"] - p["build_s"]
    added = sorted(pairs(i["crates"]) - pairs(p["crates"]))
    met = growth <= 1.8 and added_s <= 18
    lines.append(f"| {cli} | {p['size']/1e6:.2f} MB | {i['size']/1e6:.2f} MB | +{growth:.2f} MB | {p['build_s']:.0f} s | "
                 f"{i['build_s']:.0f} s | +{added_s:.0f} s | {len(added)} | ≤ +1.8 MB, ≤ +18 s: {'met' if met else '**not met**'} |")
    checks.append((cli, added))
lines += ["", "xh 0.26.3 already has reqwest 0.13 (rustls on aws-lc-rs). Its own release profile (no LTO); stripped:", "",
          "| xh with | size | growth | clean build | added | packages added | target |",
          "|---|---:|---:|---:|---:|---:|---|"]
p = rows["xh-pristine"]
lines.append(f"| nothing (pristine) | {p['size']/1e6:.2f} MB | | {p['build_s']:.0f} s | | | |")
for variant, label in [("default", "default features (built-in transport)"), ("reqwest", "`default-features = false, features = [\"reqwest\"]`")]:
    i = rows[f"xh-{variant}"]
    growth = (i["size"] - p["size"]) / 1e6
    added = sorted(pairs(i["crates"]) - pairs(p["crates"]))
    target = f"≤ +0.5 MB: {'met' if growth <= 0.5 else '**not met**'}" if variant == "reqwest" else ""
    lines.append(f"| {label} | {i['size']/1e6:.2f} MB | +{growth:.2f} MB | {i['build_s']:.0f} s | {i['build_s'] - p['build_s']:+.0f} s | {len(added)} | {target} |")
    checks.append((f"xh ({variant})", added))
lines.append("")
for cli, added in checks:
    lines.append(f"Packages {cli} gains ({len(added)}): " + ", ".join(f"{n} {v}" for n, v in added))
    lines.append("")
open(out, "w").write("\n".join(lines))
print("\n".join(lines))
PY
