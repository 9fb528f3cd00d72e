#!/usr/bin/env bash
# Starts the soak benchmark (scripts/bench/soak.ts) detached from the terminal, as root, logging to
# build/soak-<time>.log; arguments go to soak.ts (for example `--minutes 2` for a smoke run).
set -euo pipefail
cd "$(dirname "$0")/../.."
mkdir -p build
log="build/soak-$(date +%Y%m%dT%H%M%S).log"
nohup node_modules/.bin/bun scripts/bench/soak.ts "$@" >"$log" 2>&1 </dev/null &
echo "soak running as pid $!; follow it with: tail -f $log"
