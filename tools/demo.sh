#!/usr/bin/env bash
# The README's first command: installs what is missing, builds, and runs
# the main job on the bundled sample.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DFEEDMINE_TESTS=OFF >/dev/null
cmake --build build -j"$(nproc 2>/dev/null || echo 2)" --target feedmine
build/feedmine tokenize corpora/samples/multilingual.txt | tee tokens.txt
echo "wrote tokens.txt" >&2
