#!/usr/bin/env bash
# The README's first command: installs what is missing, builds, and runs
# the main job -- a requirement report with the default model over the
# bundled sample exports of a fictional help-desk company (corpora/samples)
# -- writing report.html and report.md in the current folder.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
"$here/tools/deps.sh"
cmake -S "$here" -B "$here/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DFEEDMINE_TESTS=OFF >/dev/null
cmake --build "$here/build" -j"$(nproc 2>/dev/null || echo 2)" --target feedmine
s="$here/corpora/samples"
"$here/build/feedmine" report -m "$here/models/default.fmm" \
  --source ticket="$s/tickets.csv" --source nps="$s/nps.csv" \
  --source churn="$s/churn.csv" --source lost_deal="$s/lost_deals.csv" \
  --accounts "$s/accounts.csv" -o report.html -o report.md
echo "wrote $(pwd)/report.html and $(pwd)/report.md" >&2
