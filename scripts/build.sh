#!/usr/bin/env bash
# Builds dist/huatuo-bamai: BPF objects and the native layer first (embedded), then one `bun build --compile` executable.
set -euo pipefail
cd "$(dirname "$0")/.."
BUN=node_modules/.bin/bun

# BPF objects and libhuatuo_bpf.so, plus src/bpf/gen/embedded.ts that makes the compiler embed them.
if [ -f scripts/build-bpf.sh ]; then bash scripts/build-bpf.sh; fi

version=$(node -p "require('./package.json').version")
commit=$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
git diff --quiet HEAD 2>/dev/null || commit="${commit}-dirty"
build_time=$(date -u +%Y-%m-%dT%H:%M:%SZ)

mkdir -p dist
"$BUN" build --compile src/main.ts --outfile dist/huatuo-bamai \
  --define "HUATUO_VERSION=\"$version\"" \
  --define "HUATUO_GIT_COMMIT=\"$commit\"" \
  --define "HUATUO_BUILD_TIME=\"$build_time\"" >/dev/null
echo "build: dist/huatuo-bamai ($version, $commit)" >&2
