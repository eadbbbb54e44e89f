#!/usr/bin/env bash
# All benchmarks of issue 5: micro (P-1, P-2), whole process (P-1, P-3, P-4), footprint (P-5).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
"$HERE/micro.sh"
"$HERE/e2e.sh"
"$HERE/footprint.sh"
echo "results: $HERE/results/{micro,e2e,footprint}.md" >&2
