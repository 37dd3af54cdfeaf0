#!/usr/bin/env bash
# The README's test command: sets up the environment if needed, then runs the
# whole test suite. Arguments go to pytest, e.g. the quick subset:
#   bash tools/run_tests.sh -m "not slow"
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bash "$ROOT/tools/setup_env.sh"
cd "$ROOT"
# pytest exits 5 when it collected no test: that is a failure here too.
# One worker per core, each test file on one worker (a file's trained
# fixtures are made once); `-n 0` runs everything in this process.
exec "${IBNSEG_VENV:-$ROOT/.venv}/bin/python" -m pytest -n auto --dist loadfile "$@"
