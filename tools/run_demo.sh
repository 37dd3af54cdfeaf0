#!/usr/bin/env bash
# The README's main command: sets up the environment if needed, then runs the
# embedded synthetic cross-domain benchmark (tools/demo.py; --help for options).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bash "$ROOT/tools/setup_env.sh"
cd "$ROOT"
exec "${IBNSEG_VENV:-$ROOT/.venv}/bin/python" tools/demo.py "$@"
