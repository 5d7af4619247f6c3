#!/usr/bin/env bash
# Install a built wheel into a fresh virtual environment (no system site-packages, nothing of
# the checkout on the path) and smoke-test it: import, the lecture (`python -m rustgrad`), one
# backward checked against its closed form. Usage: bash scripts/wheel_smoke.sh dist/rustgrad-*.whl
set -euo pipefail
wheel=$(realpath "$1")
py=${PYTHON:-python3}
venv=$(mktemp -d)/venv
"$py" -m venv "$venv"
"$venv/bin/python" -m pip install -q --disable-pip-version-check "$wheel"
cd "$(dirname "$venv")"   # not the checkout: its python/ folder must not shadow the wheel
"$venv/bin/python" -m rustgrad > lecture.txt
grep -q "Replayed" lecture.txt || { cat lecture.txt; echo "the lecture did not finish" >&2; exit 1; }
"$venv/bin/python" - <<'PY'
import rustgrad as torch

assert "site-packages" in torch.__file__, torch.__file__
x = torch.tensor([0.5, -1.0, 2.0], dtype=torch.float64, requires_grad=True)
(x.tanh() * x).sum().backward()
t = x.detach().tanh()
expected = t + x.detach() * (1 - t * t)
assert (x.grad - expected).abs().max().item() < 1e-12, (x.grad, expected)
print(f"wheel smoke test passed: rustgrad {torch.__version__} from {torch.__file__}")
PY
rm -rf "$(dirname "$venv")"
