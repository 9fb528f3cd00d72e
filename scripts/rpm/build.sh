#!/usr/bin/env bash
# `npm run rpm`: packages the built dist/huatuo-bamai as dist/huatuo-bamai-<version>-<release>.<arch>.rpm (no rebuild).
# Environment: HUATUO_RPM_RELEASE (default 1), HUATUO_RPM_BINARY (executable to package, default dist/huatuo-bamai),
# HUATUO_RPM_CONFIG (config to package, default the repository's huatuo-bamai.conf; its storage path is set for the
# system install), HUATUO_RPM_OUT (output directory, default dist).
set -euo pipefail
cd "$(dirname "$0")/../.."
BUN=node_modules/.bin/bun
binary=${HUATUO_RPM_BINARY:-dist/huatuo-bamai}
release=${HUATUO_RPM_RELEASE:-1}
config=${HUATUO_RPM_CONFIG:-huatuo-bamai.conf}
out=${HUATUO_RPM_OUT:-dist}

fail() { echo "rpm: $*" >&2; exit 1; }
command -v rpmbuild >/dev/null || fail "rpmbuild not found (Debian package rpm; bash scripts/setup.sh installs it)"
[ -x "$binary" ] || fail "$binary is missing: run 'npm run build' first"
[[ "$release" =~ ^[A-Za-z0-9._+~]+$ ]] || fail "HUATUO_RPM_RELEASE '$release' is not a valid rpm release"
version=$(node -p "require('./package.json').version")
built=$("$binary" --version --version-format short)
[ "$built" = "$version" ] || fail "$binary is version '$built', package.json says '$version': rebuild it"

# The package's architecture is the executable's (ELF e_machine), not necessarily this machine's.
case $(od -An -tu2 -j18 -N2 "$binary" | tr -d ' ') in
  62) arch=x86_64 ;;
  183) arch=aarch64 ;;
  *) fail "$binary is not an x86_64 or aarch64 ELF executable" ;;
esac

mkdir -p build
topdir=$(mktemp -d "$PWD/build/rpm.XXXXXX")
trap 'rm -rf "$topdir"' EXIT
sources="$topdir/SOURCES"
mkdir -p "$sources"
# A hard link avoids copying ~110 MB and is a stable snapshot: a rebuild replaces dist/huatuo-bamai with a new file.
ln "$binary" "$sources/huatuo-bamai" 2>/dev/null || cp "$binary" "$sources/huatuo-bamai"
cp LICENSE README.md CHANGELOG.md deploy/huatuo-bamai-daemonset.yaml \
  scripts/rpm/huatuo-bamai.service scripts/rpm/huatuo-bamai.sysconfig scripts/rpm/90-huatuo-bamai.preset "$sources/"
"$BUN" scripts/rpm/system_conf.ts "$config" "$sources/huatuo-bamai.conf"

if ! rpmbuild -bb --target "$arch" \
  --define "_topdir $topdir" \
  --define "hb_version $version" \
  --define "hb_release $release" \
  scripts/rpm/huatuo-bamai.spec >"$topdir/rpmbuild.log" 2>&1; then
  cat "$topdir/rpmbuild.log" >&2
  fail "rpmbuild failed"
fi

name="huatuo-bamai-$version-$release.$arch.rpm"
mkdir -p "$out"
mv "$topdir/RPMS/$arch/$name" "$out/$name"
echo "rpm: $out/$name" >&2
