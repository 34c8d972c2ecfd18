import { accessSync, constants, statSync } from 'node:fs';

/**
 * Where Chromium usually is on Linux, tried in order when CHROMIUM_PATH is unset. The headless shell comes first:
 * made for automation (Debian: chromium-headless-shell), it prints a page in about a third of the time the full
 * browser's headless mode takes.
 */
export const USUAL_CHROMIUM_PATHS = [
  // Debian's /usr/bin/chromium-headless-shell is a script that runs this without exec: the binary itself is driven.
  '/usr/lib/chromium/chromium-headless-shell',
  '/usr/bin/chromium-headless-shell',
  '/usr/bin/chromium',
  '/usr/bin/chromium-browser',
  '/usr/bin/google-chrome',
] as const;

export type ChromiumLocation = { found: true; path: string } | { found: false; reason: string };

function isExecutableFile(path: string): boolean {
  try {
    const stat = statSync(path);
    // access(X_OK) alone says yes to root for a file without any execute bit on some file systems.
    if (!stat.isFile() || (stat.mode & 0o111) === 0) return false;
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * The Chromium to print with: `configured` (CHROMIUM_PATH) when set — and then only that one, so a wrong setting is
 * reported rather than quietly replaced by another browser — else the first of {@link USUAL_CHROMIUM_PATHS}.
 */
export function locateChromium(configured: string | undefined, candidates: readonly string[] = USUAL_CHROMIUM_PATHS): ChromiumLocation {
  if (configured) {
    return isExecutableFile(configured)
      ? { found: true, path: configured }
      : { found: false, reason: `CHROMIUM_PATH is "${configured}", which is not an executable file.` };
  }
  const path = candidates.find(isExecutableFile);
  return path ? { found: true, path } : { found: false, reason: `No Chromium at ${candidates.join(', ')}.` };
}
