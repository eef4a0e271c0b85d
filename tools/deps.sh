#!/usr/bin/env bash
# Installs the Debian packages feedmine builds and tests with, when missing.
# Usage: tools/deps.sh [--test] [--print]
#   --test   adds what the test suite needs
#   --print  only prints the package names (one line), installs nothing
set -euo pipefail
test=0 print=0
for a in "$@"; do
  case $a in
    --test) test=1 ;;
    --print) print=1 ;;
    *) echo "deps.sh: unknown option $a" >&2; exit 2 ;;
  esac
done
pkgs=(build-essential cmake pkg-config libicu-dev libstemmer-dev libpcre2-dev
      libsqlite3-dev libcsv-dev libjansson-dev libxxhash-dev libinih-dev)
if [ $test = 1 ]; then
  pkgs+=(libcmocka-dev clang libclang-rt-14-dev python3 chromium
         python3-distributed sqlite3 valgrind cppcheck)
fi
if [ $print = 1 ]; then echo "${pkgs[*]}"; exit 0; fi
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}" >&2
  sudo_cmd=""
  [ "$(id -u)" = 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
