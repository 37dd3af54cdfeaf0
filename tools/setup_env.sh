#!/usr/bin/env bash
# Creates (or checks) ibnseg's environment: a virtual environment in .venv with
# torch, mmcv 2.1.0 with its compiled ops, mmengine, mmsegmentation and ibnseg.
#
#   bash tools/setup_env.sh          # the README's commands call this themselves
#
# Environment variables:
#   IBNSEG_PYTHON      the Python to build the venv from (default: python3). If
#                      torch is importable from it (a CUDA build you installed),
#                      the venv uses that torch instead of installing one.
#   IBNSEG_WHEEL_DIR   a folder with a prebuilt mmcv 2.1.0 wheel for your torch;
#                      without it mmcv is built from source (about 30 min on 2
#                      cores) once, and the wheel is cached.
#   IBNSEG_CACHE       where built mmcv wheels are cached
#                      (default: ~/.cache/ibnseg).
#   IBNSEG_VENV        the venv's folder (default: .venv in the checkout).
#
# A second run with nothing to do returns in seconds: a stamp in the venv
# records what was installed from which inputs.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VENV=${IBNSEG_VENV:-$ROOT/.venv}
PYTHON=${IBNSEG_PYTHON:-python3}
CACHE=${IBNSEG_CACHE:-$HOME/.cache/ibnseg}
MMCV_VERSION=2.1.0
TORCH_DEFAULT=2.13.0
STAMP=$VENV/.ibnseg-setup

say() { echo "[setup_env] $*" >&2; }
die() { echo "[setup_env] ERROR: $*" >&2; exit 1; }

# Everything that decides what gets installed; a change re-runs the set-up.
inputs_hash() {
    cat "$ROOT/tools/setup_env.sh" "$ROOT"/requirements/*.txt "$ROOT/setup.cfg" \
        | sha256sum | cut -d' ' -f1
}
WANT=$(inputs_hash)

if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$WANT" ] && [ -x "$VENV/bin/python" ]; then
    exit 0  # already set up from these inputs
fi

command -v "$PYTHON" >/dev/null || die "'$PYTHON' not found: install Python >= 3.8 or set IBNSEG_PYTHON."

# --- the virtual environment --------------------------------------------------
if [ ! -x "$VENV/bin/python" ]; then
    if "$PYTHON" -c 'import torch' 2>/dev/null; then
        # The user's own torch (often a CUDA build) stays in use: the venv sees it.
        say "using the torch importable from $PYTHON ($("$PYTHON" -c 'import torch; print(torch.__version__)'))"
        "$PYTHON" -m venv --system-site-packages "$VENV" \
            || die "could not create $VENV (is the venv module installed? Debian: apt-get install python3-venv)"
    else
        "$PYTHON" -m venv "$VENV" \
            || die "could not create $VENV (is the venv module installed? Debian: apt-get install python3-venv)"
    fi
fi
PY=$VENV/bin/python
PIP=("$PY" -m pip --disable-pip-version-check)

free_mb=$(df -Pm "$ROOT" | awk 'NR==2 {print $4}')
[ "${free_mb:-0}" -ge 3000 ] || die "only ${free_mb} MB free under $ROOT; the environment needs about 3 GB (5 GB while building mmcv). Free some disk space."

"${PIP[@]}" install -q --upgrade pip || die "pip could not upgrade itself: is the package index reachable?"

# --- torch ---------------------------------------------------------------------
if ! "$PY" -c 'import torch' 2>/dev/null; then
    say "installing torch==$TORCH_DEFAULT (install your own CUDA build first to use a GPU)"
    "${PIP[@]}" install -q "torch==$TORCH_DEFAULT" || die "could not install torch==$TORCH_DEFAULT"
fi
TORCH_TAG=$("$PY" -c 'import sys, torch; print(f"torch{torch.__version__}-py{sys.version_info[0]}{sys.version_info[1]}".replace("+", "_"))')

# --- the pinned requirements (mmcv's own dependencies among them) --------------
"${PIP[@]}" install -q -r "$ROOT/requirements/build.txt" -r "$ROOT/requirements/runtime.txt" \
    -r "$ROOT/requirements/tests.txt" \
    || die "could not install requirements/{build,runtime,tests}.txt"

# --- mmcv with compiled ops ----------------------------------------------------

mmcv_ok() {
    "$PY" - <<EOF 2>/dev/null
import mmcv, mmcv._ext  # the compiled ops that mmseg needs
assert mmcv.__version__ == '$MMCV_VERSION', mmcv.__version__
EOF
}

install_mmcv_wheel() {  # $1: a folder holding the wheel
    # --no-deps: its dependencies are installed above, pinned
    "${PIP[@]}" install -q --no-deps --force-reinstall --no-index --find-links "$1" "mmcv==$MMCV_VERSION" \
        || die "no mmcv==$MMCV_VERSION wheel for this Python in $1"
    if ! mmcv_ok; then
        err=$("$PY" -c 'import mmcv._ext' 2>&1 | tail -n 1 || true)
        die "the mmcv wheel from $1 does not work with $TORCH_TAG: $err
  It was built for another torch or Python. Give IBNSEG_WHEEL_DIR a wheel built for this torch,
  or unset it (and remove $1 from the cache if it is the cache) to build one from source."
    fi
}

if ! mmcv_ok; then
    WHEELS=$CACHE/wheels/$TORCH_TAG
    if [ -n "${IBNSEG_WHEEL_DIR:-}" ]; then
        [ -d "$IBNSEG_WHEEL_DIR" ] || die "IBNSEG_WHEEL_DIR=$IBNSEG_WHEEL_DIR is not a folder"
        say "installing mmcv $MMCV_VERSION from $IBNSEG_WHEEL_DIR"
        install_mmcv_wheel "$IBNSEG_WHEEL_DIR"
    else
        if ! ls "$WHEELS"/mmcv-"$MMCV_VERSION"-*.whl >/dev/null 2>&1; then
            command -v "${CXX:-g++}" >/dev/null || command -v c++ >/dev/null \
                || die "building mmcv needs a C++ compiler: apt-get install g++ (or set IBNSEG_WHEEL_DIR to a folder with a prebuilt mmcv wheel)"
            "$PY" -c 'import sysconfig, os, sys; sys.exit(not os.path.exists(os.path.join(sysconfig.get_paths()["include"], "Python.h")))' \
                || die "building mmcv needs the Python headers: apt-get install python3-dev"
            say "building mmcv $MMCV_VERSION with its ops against $TORCH_TAG: about 30 minutes on 2 cores, done once (cached in $WHEELS)"
            mkdir -p "$WHEELS"
            # No build isolation: the ops compile against the torch installed here.
            MMCV_WITH_OPS=1 MAX_JOBS=${MAX_JOBS:-$(nproc)} \
                "${PIP[@]}" wheel --no-deps --no-build-isolation --no-binary mmcv \
                -w "$WHEELS" "mmcv==$MMCV_VERSION" \
                || die "building mmcv failed (see above); a prebuilt wheel can be given with IBNSEG_WHEEL_DIR"
        else
            say "installing mmcv $MMCV_VERSION from the cache $WHEELS"
        fi
        install_mmcv_wheel "$WHEELS"
    fi
fi

# --- ibnseg itself ---------------------------------------------------------------
"${PIP[@]}" install -q --no-deps --no-build-isolation -e "$ROOT" || die "could not install ibnseg in editable mode"

"$PY" -c 'import mmcv._ext, mmseg.models, ibnseg' \
    || die "the environment was installed but 'import ibnseg' fails (see above)"
echo "$WANT" > "$STAMP"
say "ready: $VENV ($TORCH_TAG, mmcv $MMCV_VERSION)"
