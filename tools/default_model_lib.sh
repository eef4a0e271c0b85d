# default_model_lib.sh -- sourced by build_default_model.sh and
# eval_default_model.sh (not run on its own): the tools both need.

# Sets $feedmine, when -f did not, to the checkout's build/feedmine or the
# one on PATH, and $python to python3; without a feedmine binary, says so
# as $1 (the calling script's name) and exits 2. Needs $src.
default_model_tools() {
  if [ -z "$feedmine" ]; then
    if [ -x "$src/build/feedmine" ]; then feedmine=$src/build/feedmine
    else feedmine=$(command -v feedmine || true); fi
  fi
  if [ -z "$feedmine" ] || [ ! -x "$feedmine" ]; then
    echo "$1: no feedmine binary (build it, or pass -f)" >&2
    exit 2
  fi
  python=/usr/bin/python3
  [ -x "$python" ] || python=python3
}
