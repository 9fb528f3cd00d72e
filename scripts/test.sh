#!/usr/bin/env bash
# Runs every test (unit tests beside the code, integration tests in tests/) and ends with one summary line:
# `tests: N passed, N failed[, N skipped]`. Exits non-zero on any failure.
set -uo pipefail
cd "$(dirname "$0")/.."
BUN=node_modules/.bin/bun

if [ ! -x dist/huatuo-bamai ]; then
  echo "test: dist/huatuo-bamai is missing: run 'npm run build' first" >&2
  exit 1
fi

log=$(mktemp)
trap 'rm -f "$log"' EXIT
# Files run one after another: integration tests start daemons and load BPF programs on this one kernel.
# The per-test timeout is generous because those tests wait for real kernel activity (bunfig.toml cannot set it).
"$BUN" test --timeout 120000 "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}

count() { grep -Eo "^ *[0-9]+ $1\$" "$log" | tail -1 | grep -Eo '[0-9]+' || echo 0; }
passed=$(count pass); failed=$(count fail); skipped=$(count skip)
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi  # a crash or load error is a failure too
summary="tests: $passed passed, $failed failed"
[ "$skipped" -gt 0 ] && summary="$summary, $skipped skipped"
echo "$summary"
exit "$status"
