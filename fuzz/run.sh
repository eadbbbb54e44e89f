#!/usr/bin/env bash
# Runs every fuzz target (or the ones named) for SECONDS each, one after the other, with
# the committed seeds and dictionaries, and prints a one-line summary per target.
#   fuzz/run.sh                 # 60 s per target (a short session)
#   fuzz/run.sh 3600            # an hour per target (a long session)
#   fuzz/run.sh 600 origin_url  # one target
# Needs cargo-fuzz (`cargo install cargo-fuzz`). On a stable toolchain RUSTC_BOOTSTRAP=1
# lets rustc accept the -Z flags cargo-fuzz passes; on nightly it is harmless.
# Crashes land in fuzz/artifacts/<target>/, the growing corpus in fuzz/corpus/<target>/,
# logs in fuzz/target/fuzz-logs/ (all git-ignored).
set -euo pipefail
cd "$(dirname "$0")"
seconds=${1:-60}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(origin_url git_config env delivery response)
export RUSTC_BOOTSTRAP=${RUSTC_BOOTSTRAP:-1}
logs=target/fuzz-logs
mkdir -p "$logs"
cargo fuzz build >/dev/null
status=0
for t in "${targets[@]}"; do
    mkdir -p "corpus/$t"
    corpora=("corpus/$t")
    [ -d "seeds/$t" ] && corpora+=("seeds/$t")
    dict=()
    [ -f "dicts/$t.dict" ] && dict=("-dict=dicts/$t.dict")
    log="$logs/$t.log"
    if cargo fuzz run "$t" "${corpora[@]}" -- "${dict[@]}" \
        -max_total_time="$seconds" -print_final_stats=1 -timeout=10 -rss_limit_mb=4096 >"$log" 2>&1; then
        result=ok
    else
        result="FAILED (see $log and artifacts/$t/)"
        status=1
    fi
    runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo '?')
    last=$(grep -E '^#[0-9]+' "$log" | tail -1 | grep -oE 'cov: [0-9]+ ft: [0-9]+ corp: [0-9]+/[0-9A-Za-z]+' || echo '?')
    echo "$t: $result, ${seconds}s, $runs executions, $last"
done
exit $status
