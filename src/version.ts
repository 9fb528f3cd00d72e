// Build identity, stamped by scripts/build.sh through `bun build --define`; "dev" values when run from source.
declare const HUATUO_VERSION: string | undefined;
declare const HUATUO_GIT_COMMIT: string | undefined;
declare const HUATUO_BUILD_TIME: string | undefined;

export interface VersionInfo {
  name: string;
  version: string;
  git_commit: string;
  build_time: string;
  runtime: string;
  platform: string;
}

export function versionInfo(): VersionInfo {
  return {
    name: "huatuo-bamai",
    version: typeof HUATUO_VERSION === "string" ? HUATUO_VERSION : "0.0.0-dev",
    git_commit: typeof HUATUO_GIT_COMMIT === "string" ? HUATUO_GIT_COMMIT : "unknown",
    build_time: typeof HUATUO_BUILD_TIME === "string" ? HUATUO_BUILD_TIME : "unknown",
    runtime: `bun ${Bun.version}`,
    platform: `${process.platform}/${process.arch}`,
  };
}

export function versionText(info: VersionInfo = versionInfo()): string {
  return Object.entries(info)
    .map(([key, value]) => `${key}: ${value}`)
    .join("\n");
}
