#!/usr/bin/env bash
# Create .venv (once) and install the kit with what it needs; re-run safely at any time (a second run only
# checks a stamp and prints one line).
#
# Usage: bash scripts/setup.sh           the kit, what grading needs, and the docs tools (MkDocs, MathJax)
#        bash scripts/setup.sh --test    also Playwright, for the kit's own browser tests of the site
#        PYTHON=python3.11 bash scripts/setup.sh   to pick the interpreter
#
# Everything comes from PyPI with pip; nothing needs Node.js. If the docs tools cannot be installed, grading
# still works: setup says so and installs the rest.
set -euo pipefail
cd "$(dirname "$0")/.."

want_test=0
for arg in "$@"; do
  case "$arg" in
    --test) want_test=1 ;;
    *) echo "setup: unknown option $arg (expected --test)" >&2; exit 2 ;;
  esac
done

PYTHON="${PYTHON:-python3}"
stamp=.venv/.vaekit-installed
hash=$(sha256sum pyproject.toml | cut -d' ' -f1)

# The stamp holds the hash of pyproject.toml and the extras installed with it ("docs", "test").
if [ -x .venv/bin/python ] && [ -f "$stamp" ]; then
  read -r have_hash have_extras <"$stamp" || true
  if [ "$have_hash" = "$hash" ] && { [ "$want_test" = 0 ] || [[ " ${have_extras:-} " == *" test "* ]]; }; then
    echo "setup: .venv is up to date (delete .venv to reinstall from scratch)"
    exit 0
  fi
fi

if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv with $("$PYTHON" --version 2>&1)"
  "$PYTHON" -m venv .venv
fi

extras="docs"
[ "$want_test" = 1 ] && extras="docs,test"
echo "setup: installing into .venv (from PyPI with pip):"
echo "  - the kit, NumPy, autograd, matplotlib, pytest: about 150 MB"
echo "  - PyTorch and torchvision: the biggest part; on Linux x86-64 pip picks the CUDA build, about 5 GB with"
echo "    its NVIDIA libraries (the CPU is enough for the course); a few hundred MB elsewhere"
echo "  - the docs tools, MkDocs Material and MathJax: about 100 MB"
[ "$want_test" = 1 ] && echo "  - Playwright, for the kit's browser tests of the site: about 170 MB"
echo "  The first time this downloads everything and takes several minutes; later setups reuse pip's cache."

log=.venv/setup-pip.log
# --no-compile: Python compiles each module when it is first imported; compiling all of PyTorch up front
# would only make the install slower.
pip=(.venv/bin/python -m pip install --quiet --disable-pip-version-check --no-compile)
start=$SECONDS
if "${pip[@]}" -e ".[$extras]" >"$log" 2>&1; then
  installed="${extras//,/ }"
else
  echo "setup: installing with the docs tools failed; installing what grading needs without them (see $log)"
  if ! "${pip[@]}" -e . >>"$log" 2>&1; then
    cat "$log" >&2
    echo "setup: pip could not install the kit (its output is above and in $log)" >&2
    exit 1
  fi
  installed=""
fi
echo "$hash $installed" >"$stamp"
echo "setup: done in $((SECONDS - start)) s${installed:+ (with: $installed)}"
