#!/usr/bin/env bash
# Creates (or checks) ibnseg's environment: a virtual environment in .venv with
# torch, mmcv 2.1.0, mmengine, mmsegmentation and ibnseg.
#
#   bash tools/setup_env.sh          # the README's commands call this themselves
#
# mmcv comes in one of two builds:
#   lite (default)  the pure-Python mmcv-lite 2.1.0 wheel: no compiler, no CUDA
#                   toolkit, about a minute. mmseg imports (but ibnseg's models
#                   never call) mmcv's compiled ops; a placeholder answers for
#                   them (ibnseg/utils/mmcv_ext_placeholder.py, activated by one
#                   .pth file in the venv) and raises a clear error if one is
#                   ever called.
#   full            mmcv 2.1.0 with its compiled ops, for mmseg heads that call
#                   them (PSA, CCNet, Point head, sigmoid focal loss, ...):
#                   from IBNSEG_WHEEL_DIR, or built from source once (about 30
#                   min on 2 cores, needs a C++ compiler) and cached.
# A compiled mmcv that is already importable (e.g. from IBNSEG_PYTHON) is used
# as it is, in both modes.
#
# Environment variables:
#   IBNSEG_MMCV        lite (default) or full.
#   IBNSEG_WHEEL_DIR   a folder with a prebuilt, compiled mmcv 2.1.0 wheel for
#                      your torch and Python (implies full).
#   IBNSEG_PYTHON      the Python to build the venv from (default: python3). If
#                      torch is importable from it (a CUDA build you installed),
#                      the venv uses that torch untouched.
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
PLACEHOLDER=$ROOT/ibnseg/utils/mmcv_ext_placeholder.py
PTH_NAME=ibnseg-mmcv-ext-placeholder.pth

say() { echo "[setup_env] $*" >&2; }
die() { echo "[setup_env] ERROR: $*" >&2; exit 1; }

MODE=${IBNSEG_MMCV:-lite}
case "$MODE" in
    lite|full) ;;
    *) die "IBNSEG_MMCV=$MODE: expected 'lite' (the default: mmcv-lite, no compiler) or 'full' (mmcv with its compiled ops)" ;;
esac
if [ -n "${IBNSEG_WHEEL_DIR:-}" ]; then MODE=full; fi  # a compiled wheel was given

# Everything that decides what gets installed; a change re-runs the set-up.
inputs_hash() {
    { cat "$ROOT/tools/setup_env.sh" "$ROOT"/requirements/*.txt "$ROOT/setup.cfg" "$PLACEHOLDER" \
          "$ROOT/setup.py" "$ROOT/pyproject.toml" "$ROOT/ibnseg/config_scope.py"
      echo "$MODE ${IBNSEG_WHEEL_DIR:-}"; } | sha256sum | cut -d' ' -f1
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

# --- the pinned requirements (mmcv's own dependencies among them) --------------
# None of them depends on torch, so a user's torch is never replaced.
"${PIP[@]}" install -q -r "$ROOT/requirements/runtime.txt" -r "$ROOT/requirements/tests.txt" \
    || die "could not install requirements/{runtime,tests}.txt"
# (after numpy: importing torch without it warns)
TORCH_TAG=$("$PY" -c 'import sys, torch; print(f"torch{torch.__version__}-py{sys.version_info[0]}{sys.version_info[1]}".replace("+", "_"))')

# --- mmcv ----------------------------------------------------------------------
SITE=$("$PY" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')

compiled_mmcv_ok() {  # a real mmcv._ext (not the placeholder), the right version
    "$PY" - <<EOF 2>/dev/null
import mmcv, mmcv._ext
assert not getattr(mmcv._ext, 'IBNSEG_MMCV_EXT_PLACEHOLDER', False)
assert mmcv.__version__ == '$MMCV_VERSION', mmcv.__version__
EOF
}

installed() { "${PIP[@]}" show -q "$1" >/dev/null 2>&1; }

use_placeholder() {  # on|off: the one .pth file that activates the placeholder
    if [ "$1" = on ]; then
        "$PY" -c 'import runpy, sys; print(runpy.run_path(sys.argv[1])["pth_line"](sys.argv[1]), end="")' \
            "$PLACEHOLDER" > "$SITE/$PTH_NAME.tmp" && mv "$SITE/$PTH_NAME.tmp" "$SITE/$PTH_NAME" \
            || die "could not write $SITE/$PTH_NAME"
    else
        rm -f "$SITE/$PTH_NAME"
    fi
}

install_mmcv_wheel() {  # $1: a folder holding the wheel
    # --no-deps: its dependencies are installed above, pinned
    "${PIP[@]}" install -q --no-deps --force-reinstall --no-index --find-links "$1" "mmcv==$MMCV_VERSION" \
        || die "no mmcv==$MMCV_VERSION wheel for this Python in $1"
    if ! compiled_mmcv_ok; then
        err=$("$PY" -c 'import mmcv._ext' 2>&1 | tail -n 1 || true)
        die "the mmcv wheel from $1 does not work with $TORCH_TAG: $err
  It was built for another torch or Python. Give IBNSEG_WHEEL_DIR a wheel built for this torch,
  or unset it (and remove $1 from the cache if it is the cache) to build one from source,
  or use the default IBNSEG_MMCV=lite, which needs no compiled mmcv."
    fi
}

if compiled_mmcv_ok; then
    say "using the compiled mmcv already installed"
    use_placeholder off
elif [ "$MODE" = lite ]; then
    # mmcv and mmcv-lite both install the 'mmcv' package: never keep both.
    if installed mmcv; then "${PIP[@]}" uninstall -q -y mmcv; fi
    if ! installed mmcv-lite; then
        say "installing mmcv-lite $MMCV_VERSION (pure Python, no compiler; IBNSEG_MMCV=full for compiled ops)"
        "${PIP[@]}" install -q "mmcv-lite==$MMCV_VERSION" || die "could not install mmcv-lite==$MMCV_VERSION"
    fi
    use_placeholder on
else
    use_placeholder off
    if installed mmcv-lite; then "${PIP[@]}" uninstall -q -y mmcv-lite; fi
    WHEELS=$CACHE/wheels/$TORCH_TAG
    if [ -n "${IBNSEG_WHEEL_DIR:-}" ]; then
        [ -d "$IBNSEG_WHEEL_DIR" ] || die "IBNSEG_WHEEL_DIR=$IBNSEG_WHEEL_DIR is not a folder"
        say "installing mmcv $MMCV_VERSION from $IBNSEG_WHEEL_DIR"
        install_mmcv_wheel "$IBNSEG_WHEEL_DIR"
    else
        if ! ls "$WHEELS"/mmcv-"$MMCV_VERSION"-*.whl >/dev/null 2>&1; then
            command -v "${CXX:-g++}" >/dev/null || command -v c++ >/dev/null \
                || die "building mmcv needs a C++ compiler: apt-get install g++ (or set IBNSEG_WHEEL_DIR to a folder with a prebuilt mmcv wheel, or use the default IBNSEG_MMCV=lite)"
            "$PY" -c 'import sysconfig, os, sys; sys.exit(not os.path.exists(os.path.join(sysconfig.get_paths()["include"], "Python.h")))' \
                || die "building mmcv needs the Python headers: apt-get install python3-dev (or use the default IBNSEG_MMCV=lite)"
            "${PIP[@]}" install -q -r "$ROOT/requirements/build.txt" \
                || die "could not install requirements/build.txt (mmcv's build tools)"
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
# The build also installs ibnseg-config-scope.pth (`ibnseg::` config paths).
# In a checkout whose top folder holds more than the package (tools/, tests/,
# configs/), setuptools' editable install maps only `ibnseg` with an import
# finder and says so in a 10-line InformationOnly warning on every install;
# that one message is ignored, every other warning and error still shows.
PYTHONWARNINGS="${PYTHONWARNINGS:+$PYTHONWARNINGS,}ignore:Editable installation:UserWarning" \
    "${PIP[@]}" install -q --no-deps --no-build-isolation -e "$ROOT" || die "could not install ibnseg in editable mode"

"$PY" -c 'import mmseg.models, ibnseg' \
    || die "the environment was installed but 'import mmseg.models, ibnseg' fails (see above)"
if compiled_mmcv_ok; then BUILT="mmcv $MMCV_VERSION with compiled ops"; else BUILT="mmcv-lite $MMCV_VERSION"; fi
echo "$WANT" > "$STAMP"
say "ready: $VENV ($TORCH_TAG, $BUILT)"
