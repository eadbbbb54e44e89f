#!/usr/bin/env bash
# All benchmarks: micro (P-1, P-2), whole process (P-1, P-3, P-4), real network (P-6),
# footprint of the mini-werf vs the SDK peer and on real CLIs (P-5).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
"$HERE/micro.sh"
"$HERE/e2e.sh"
"$HERE/network.sh"
"$HERE/footprint.sh"
"$HERE/footprint-cli.sh"
"$HERE/deadline.sh"
echo "results: $HERE/results/{micro,e2e,network,footprint,footprint-cli,deadline}.md" >&2
