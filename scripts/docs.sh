#!/usr/bin/env bash
# Build the documentation site into site/ (open site/index.html). Warnings are errors.
# The API reference is read from the runtime docstrings, so rustgrad must be importable: run
# inside the environment that has it installed (scripts/test.sh's .venv, or after `pip install .`).
set -euo pipefail
cd "$(dirname "$0")/.."
python -m pip install -q --disable-pip-version-check "mkdocs>=1.6,<2" "mkdocs-material>=9.5,<10" \
  "mkdocstrings[python]>=0.26,<2"
python -c "import rustgrad" || { echo "rustgrad is not installed in this Python: pip install . first" >&2; exit 1; }
NO_MKDOCS_2_WARNING=1 python -m mkdocs build --strict --site-dir site "$@"
