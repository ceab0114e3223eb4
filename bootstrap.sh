#!/usr/bin/env bash
# Set up carbonpeak in ./.venv from the pinned versions, then run the main job or the tests.
#
#   bash bootstrap.sh run     # set up, then ingest + validate + build + print the KPI status table
#   bash bootstrap.sh test    # set up (with test extras), then run the test suite
#
# Needs Python 3.11 and access to a Python package index, and npm with its registry for the Data
# Docs' JS/CSS (optional: only building the Data Docs needs it); nothing is downloaded at run time.
set -euo pipefail
cd "$(dirname "$0")"

what="${1:-}"
case "$what" in
  run|test) ;;
  *) echo "usage: bash bootstrap.sh run|test" >&2; exit 2 ;;
esac

python="${PYTHON:-}"
if [ -z "$python" ]; then
  for candidate in python3.11 python3; do
    if command -v "$candidate" >/dev/null && "$candidate" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then
      python="$candidate"; break
    fi
  done
fi
if [ -z "$python" ]; then
  echo "bootstrap.sh: Python 3.11 is needed (set PYTHON=/path/to/python3.11)" >&2
  exit 1
fi

if [ ! -x .venv/bin/python ]; then
  echo "==> creating .venv with $python" >&2
  "$python" -m venv .venv
fi

# Reinstall only when the pins changed.
stamp=.venv/.carbonpeak-installed
want="$(cat pyproject.toml requirements.lock | sha256sum | cut -d' ' -f1)"
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "==> installing pinned dependencies (about a minute the first time)" >&2
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -c requirements.lock -e ".[test]"
  echo "$want" > "$stamp"
fi

# dbt-core and dbt-duckdb, for the test that dbt builds dbt_like_sql/ as our runner does
# (tests/warehouse/test_dbt_compat.py). A venv of their own: in .venv they would move pins of
# requirements.lock. The same DuckDB as the lock, so both open the same warehouse file.
if [ "$what" = test ]; then
  dbt_pins=("dbt-core<1.12" "dbt-duckdb<1.12" "$(grep -m1 '^duckdb==' requirements.lock)")
  stamp=.venv/dbt/.carbonpeak-installed
  if [ "$(cat "$stamp" 2>/dev/null)" != "${dbt_pins[*]}" ]; then
    echo "==> installing dbt-core and dbt-duckdb in .venv/dbt" >&2
    [ -x .venv/dbt/bin/python ] || "$python" -m venv .venv/dbt
    .venv/dbt/bin/python -m pip install --quiet --disable-pip-version-check "${dbt_pins[@]}"
    echo "${dbt_pins[*]}" > "$stamp"
  fi
fi

# The JS/CSS the Data Docs would load from CDNs (publishing/data_docs.py); again only when the
# lock changed. The stamp lives in node_modules, so deleting that folder reinstalls too.
assets=publishing/data_docs_assets
if command -v npm >/dev/null; then
  stamp=$assets/node_modules/.carbonpeak-installed
  want="$(sha256sum < $assets/package-lock.json | cut -d' ' -f1)"
  if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    echo "==> installing the Data Docs assets with npm" >&2
    npm ci --prefix "$assets" --no-audit --no-fund --no-update-notifier --legacy-peer-deps --loglevel=error
    echo "$want" > "$stamp"
  fi
else
  echo "bootstrap.sh: npm not found; building the Data Docs will need it (npm ci --prefix $assets)" >&2
fi

if [ "$what" = run ]; then
  exec .venv/bin/carbonpeak run
else
  # Linters first, a few seconds: a finding stops here, before the slow tests. Rules: ruff's in
  # pyproject.toml, sqlfluff's in .sqlfluff (every folder of dbt_like_sql/).
  sql_dirs=(dbt_like_sql/staging dbt_like_sql/marts dbt_like_sql/macros dbt_like_sql/kpi)
  if ! .venv/bin/ruff check --quiet .; then
    echo "bootstrap.sh: ruff found the problems above; see them with .venv/bin/ruff check . (many fix with --fix)" >&2
    exit 1
  fi
  if ! .venv/bin/sqlfluff lint --quiet "${sql_dirs[@]}"; then
    echo "bootstrap.sh: sqlfluff found the problems above; see them with .venv/bin/sqlfluff lint ${sql_dirs[*]} (layout fixes with sqlfluff fix)" >&2
    exit 1
  fi
  # two workers by default (CARBONPEAK_TEST_WORKERS=0 runs in one process): the slow tests are
  # end-to-end runs that mostly wait on Prefect and subprocesses
  # the slowest tests are listed at the end: the suite is kept under ten minutes
  # (the longest tests start first, tests/conftest.py RUN_FIRST; an idle worker takes tests
  # queued for the other)
  workers="${CARBONPEAK_TEST_WORKERS:-2}"
  dist=()
  if [ "$workers" != 0 ]; then dist=(--dist worksteal); fi
  exec .venv/bin/python -m pytest -n "$workers" "${dist[@]}" --durations=15 "${@:2}"
fi
