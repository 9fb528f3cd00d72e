#!/usr/bin/env bash
# Installs what a fresh Debian machine lacks to build, run and test huatuo-bamai. Safe to run again: it skips what is there.
set -euo pipefail
cd "$(dirname "$0")/.."

DEBIAN_PACKAGES=(
  clang llvm make pkg-config            # BPF objects and the native layer
  libbpf-dev libelf-dev zlib1g-dev libzstd-dev bpftool
  iproute2 iptables util-linux procps   # network namespaces, veth, drops, unshare in tests
  stress-ng fio linux-perf libbpf-tools # real load and peer tools for tests and benchmarks
  prometheus prometheus-node-exporter   # promtool for exposition checks; node_exporter as benchmark peer
  tmux                                  # terminal tests
  rpm systemd                           # packaging: rpmbuild, and systemd-analyze to verify the unit
)

missing=()
for pkg in "${DEBIAN_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # Services from these packages (prometheus, node_exporter) are not wanted running; policy-rc.d keeps them stopped.
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  rm -f /usr/sbin/policy-rc.d
fi

if [ ! -x node_modules/.bin/bun ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: installing npm packages" >&2
  npm ci --no-audit --no-fund --loglevel=error
fi

# The BPF loader needs tracefs; some machines leave /sys/kernel/tracing empty until it is mounted.
if [ -d /sys/kernel/tracing ] && [ -z "$(ls -A /sys/kernel/tracing 2>/dev/null)" ]; then
  mount -t tracefs nodev /sys/kernel/tracing 2>/dev/null || echo "setup: could not mount tracefs (not root?)" >&2
fi
echo "setup: ok" >&2
