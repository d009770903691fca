#!/usr/bin/env bash
# The Python tools of the API checks (scripts/openapi_check.py, scripts/schemathesis.sh), from
# PyPI, installed only when missing or of the wrong major version; quiet when nothing is to do.
#   scripts/pydeps.sh            both
#   scripts/pydeps.sh validator  openapi-spec-validator only
#   scripts/pydeps.sh browser    axe-core for the browser tests' page walk
set -euo pipefail

PY=${PYTHON:-python3}
if ! "$PY" -m pip --version >/dev/null 2>&1; then
  echo "[pydeps] $PY has no pip: install python3-pip (apt-get install -y python3-pip) and run again" >&2
  exit 1
fi

# requirement (pip syntax) and the distribution name, the major versions it accepts.
wanted=("openapi-spec-validator>=0.7,<1|openapi-spec-validator|0")
# `browser`: axe-core for the page walk (Tests/Browser/pages_walk.py), for the Python the browser
# tests run (/usr/bin/python3: PYTHON=/usr/bin/python3 scripts/pydeps.sh browser).
if [ "${1:-all}" = browser ]; then
  wanted=("axe-selenium-python>=2.1,<3|axe-selenium-python|2" "axe-core-python>=0.1,<1|axe-core-python|0")
elif [ "${1:-all}" != validator ]; then
  # The CLI flags of schemathesis changed between v3 and v4; scripts/schemathesis.sh speaks v4.
  wanted+=("schemathesis>=4.0,<5|schemathesis|4")
fi

missing=()
for item in "${wanted[@]}"; do
  IFS='|' read -r requirement dist major <<<"$item"
  installed=$("$PY" - "$dist" <<'EOF' 2>/dev/null || true
import sys
from importlib.metadata import version, PackageNotFoundError
try:
    print(version(sys.argv[1]))
except PackageNotFoundError:
    pass
EOF
)
  if [ -z "$installed" ]; then
    missing+=("$requirement")
  elif [ "$dist" = openapi-spec-validator ]; then
    # 0.x: at least 0.7 (the `validate` entry point).
    minor=$(echo "$installed" | cut -d. -f2)
    [ "${installed%%.*}" = 0 ] && [ "${minor:-0}" -ge 7 ] || missing+=("$requirement")
  elif [ "${installed%%.*}" != "$major" ]; then
    missing+=("$requirement")
  fi
done

if [ "${#missing[@]}" -gt 0 ]; then
  echo "[pydeps] installing ${missing[*]}" >&2
  flags=(--quiet --disable-pip-version-check)
  # Debian's system Python refuses pip without this (PEP 668); a venv or pyenv Python does not need it.
  if "$PY" -m pip install --help 2>/dev/null | grep -q -- --break-system-packages && [ -z "${VIRTUAL_ENV:-}" ] \
     && "$PY" -c 'import sys; sys.exit(0 if sys.prefix == sys.base_prefix and sys.prefix.startswith("/usr") else 1)'; then
    flags+=(--break-system-packages)
  fi
  "$PY" -m pip install "${flags[@]}" "${missing[@]}"
fi
