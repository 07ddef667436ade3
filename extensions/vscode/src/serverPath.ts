/**
 * Finding the `showrunner` binary: the `showrunner.serverPath` setting, else `PATH`, else a
 * message that says how to install it. The file system and environment are passed in, so the
 * search is unit-tested on fake folders.
 */
import * as path from "node:path";

export const INSTALL_COMMAND = "cargo install --path server/cli";

export interface Probe {
  /** True when `file` exists and is an executable file. */
  isExecutable(file: string): boolean;
}

export type Found = { ok: true; path: string; source: "setting" | "PATH" } | { ok: false; message: string };

export function binaryNames(platform: NodeJS.Platform): string[] {
  return platform === "win32" ? ["showrunner.exe", "showrunner.cmd", "showrunner"] : ["showrunner"];
}

/** Expands `~` and `${workspaceFolder}` in the setting the way writers expect. */
export function expandSetting(value: string, env: { home?: string; workspaceFolder?: string }): string {
  let v = value.trim();
  if (env.home && (v === "~" || v.startsWith("~/"))) v = path.join(env.home, v.slice(1));
  if (env.workspaceFolder) v = v.split("${workspaceFolder}").join(env.workspaceFolder);
  return v;
}

export function findServer(
  setting: string | undefined,
  env: { PATH?: string; home?: string; workspaceFolder?: string },
  platform: NodeJS.Platform,
  probe: Probe,
): Found {
  if (setting && setting.trim() !== "") {
    const p = expandSetting(setting, env);
    if (probe.isExecutable(p)) return { ok: true, path: p, source: "setting" };
    return {
      ok: false,
      message: `showrunner.serverPath is set to "${setting}", but no executable is there. Fix the setting, or clear it to use the showrunner on PATH (install it with \`${INSTALL_COMMAND}\` from the Showrunner repository).`,
    };
  }
  const sep = platform === "win32" ? ";" : ":";
  for (const dir of (env.PATH ?? "").split(sep)) {
    if (dir === "") continue;
    for (const name of binaryNames(platform)) {
      const p = path.join(dir, name);
      if (probe.isExecutable(p)) return { ok: true, path: p, source: "PATH" };
    }
  }
  return {
    ok: false,
    message: `The Showrunner language server was not found on PATH. Install it with \`${INSTALL_COMMAND}\` (from a checkout of the Showrunner repository), or set showrunner.serverPath to the binary.`,
  };
}
