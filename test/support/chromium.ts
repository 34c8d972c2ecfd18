import { locateChromium } from '../../src/documents/chromium.locator';

const chromium = locateChromium(process.env.CHROMIUM_PATH);

/**
 * PDF tests run whenever Chromium is there. Without it they are skipped with the reason printed — except under
 * CI=true, where a missing Chromium fails them: .ci/run installs Debian's chromium, so CI never passes by skipping.
 */
export function describeWithChromium(name: string, body: () => void): void {
  if (chromium.found) return describe(name, body);
  const reason = `${chromium.reason} Install it (apt-get install chromium-headless-shell) or set CHROMIUM_PATH`;
  if (process.env.CI === 'true') {
    return describe(name, () => {
      it('has Chromium', () => {
        throw new Error(`${reason}: CI must provide it (.ci/run installs Debian's chromium)`);
      });
    });
  }
  console.warn(`Skipping "${name}": ${reason} (under CI=true this fails instead)`);
  describe.skip(name, body);
}
