import { CronExpressionParser } from 'cron-parser';

/** Cron patterns are read in UTC by both drivers, so every process agrees on the ticks whatever its time zone. */
export const CRON_TIME_ZONE = 'UTC';

export class CronPatternException extends Error {
  constructor(cron: string, reason: string) {
    super(`"${cron}" is not a cron pattern (5 fields, or 6 with seconds first): ${reason}`);
  }
}

/** Throws a {@link CronPatternException} unless `cron` is a valid pattern (an empty one is not). */
export function assertCronPattern(cron: string): void {
  if (cron.trim() === '') throw new CronPatternException(cron, 'it is empty');
  try {
    CronExpressionParser.parse(cron, { tz: CRON_TIME_ZONE });
  } catch (error) {
    throw new CronPatternException(cron, (error as Error).message);
  }
}

/** The first tick of `cron` strictly after `after` (epoch milliseconds). */
export function nextCronTick(cron: string, after: number): number {
  return CronExpressionParser.parse(cron, { tz: CRON_TIME_ZONE, currentDate: new Date(after) })
    .next()
    .getTime();
}
