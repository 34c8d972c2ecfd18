import { Logger } from '@nestjs/common';
import { InProcessQueueDriver } from './in-process-queue.driver';
import { JOB_NAMES, type JobHandler, type JobName } from './job-queue';

describe(InProcessQueueDriver.name, () => {
  let queue: InProcessQueueDriver;
  let ticks: string[];

  beforeAll(() => Logger.overrideLogger(false));
  afterAll(() => Logger.overrideLogger(['error', 'warn', 'log']));
  beforeEach(async () => {
    jest.useFakeTimers({ now: new Date('2026-03-02T12:03:30.250Z') });
    queue = new InProcessQueueDriver();
    ticks = [];
    for (const name of JOB_NAMES) {
      const handler: JobHandler<JobName> =
        name === 'workflow.tick'
          ? async (payload) => void ticks.push(`${(payload as { workflow: string }).workflow}@${new Date().toISOString()}`)
          : async () => undefined;
      queue.handle(name, handler);
    }
    await queue.start();
  });
  afterEach(async () => {
    await queue.close();
    jest.useRealTimers();
  });

  it('fires a schedule at each cron tick, read in UTC', async () => {
    await queue.schedule('workflow:report', '*/5 * * * *', 'workflow.tick', { workflow: 'report' });
    await jest.advanceTimersByTimeAsync(89_000); // 12:04:59.250
    expect(ticks).toEqual([]);
    await jest.advanceTimersByTimeAsync(1000);
    expect(ticks).toEqual(['report@2026-03-02T12:05:00.000Z']);
    await jest.advanceTimersByTimeAsync(10 * 60_000);
    expect(ticks).toEqual(['report@2026-03-02T12:05:00.000Z', 'report@2026-03-02T12:10:00.000Z', 'report@2026-03-02T12:15:00.000Z']);
  });

  it('fires once per second for a six-field pattern, and replaces a schedule registered again under its id', async () => {
    await queue.schedule('workflow:fast', '* * * * * *', 'workflow.tick', { workflow: 'old' });
    await queue.schedule('workflow:fast', '* * * * * *', 'workflow.tick', { workflow: 'new' });
    await jest.advanceTimersByTimeAsync(3000);
    expect(ticks).toEqual(['new@2026-03-02T12:03:31.000Z', 'new@2026-03-02T12:03:32.000Z', 'new@2026-03-02T12:03:33.000Z']);
  });

  it('never fires one tick twice, even when its timer fires a little early', async () => {
    await queue.schedule('workflow:fast', '* * * * * *', 'workflow.tick', { workflow: 'w' });
    await jest.advanceTimersByTimeAsync(750); // 12:03:31.000: the first tick
    jest.setSystemTime(new Date('2026-03-02T12:03:30.990Z')); // the wall clock steps back 10 ms
    await jest.advanceTimersByTimeAsync(1000); // the 12:03:32 timer fires at 12:03:31.990
    await jest.advanceTimersByTimeAsync(1010);
    // Three ticks for 31, 32 and 33 s; without the guard the early one would be followed by 32 s again.
    expect(ticks).toEqual(['w@2026-03-02T12:03:31.000Z', 'w@2026-03-02T12:03:31.990Z', 'w@2026-03-02T12:03:33.000Z']);
  });

  it('stops firing when unscheduled or closed', async () => {
    await queue.schedule('workflow:a', '* * * * * *', 'workflow.tick', { workflow: 'a' });
    await queue.schedule('workflow:b', '* * * * * *', 'workflow.tick', { workflow: 'b' });
    await jest.advanceTimersByTimeAsync(1000);
    await queue.unschedule('workflow:a');
    await jest.advanceTimersByTimeAsync(1000);
    await queue.close();
    await jest.advanceTimersByTimeAsync(5000);
    expect(ticks.map((t) => t.split('@')[0])).toEqual(['a', 'b', 'b']);
    expect(jest.getTimerCount()).toBe(0);
  });
});
