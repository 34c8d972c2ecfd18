import { mkdirSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { join } from 'node:path';

/**
 * Optional CPU profiles of the bench process (the servers; the load generator runs
 * elsewhere), one file per measured run: `BENCH_PROFILE=<dir>` writes
 * `<dir>/<run>.cpuprofile`, to open in Chrome DevTools or speedscope.
 */
export class CpuProfiler {
  private constructor(
    private readonly session: Session,
    private readonly dir: string,
  ) {}

  static async start(dir: string | undefined): Promise<CpuProfiler | undefined> {
    if (!dir) return undefined;
    mkdirSync(dir, { recursive: true });
    const session = new Session();
    session.connect();
    await session.post('Profiler.enable');
    return new CpuProfiler(session, dir);
  }

  async around<T>(name: string, work: () => Promise<T>): Promise<T> {
    await this.session.post('Profiler.start');
    try {
      return await work();
    } finally {
      const { profile } = await this.session.post('Profiler.stop');
      writeFileSync(join(this.dir, `${name.replace(/[^a-z0-9]+/gi, '-').toLowerCase()}.cpuprofile`), JSON.stringify(profile));
    }
  }

  close(): void {
    this.session.disconnect();
  }
}
