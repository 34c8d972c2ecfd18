import { Controller, Get, Inject, Res } from '@nestjs/common';
import type { Response } from 'express';
import { Public } from '../auth/public.decorator';
import { DATABASE, type Database } from '../database/database';

/** Liveness and database status; the one route reachable without an API key. */
@Controller('health')
export class HealthController {
  constructor(@Inject(DATABASE) private readonly db: Database) {}

  @Get()
  @Public()
  async health(@Res({ passthrough: true }) res: Response) {
    const up = await this.db.ping();
    res.status(up ? 200 : 503);
    return { status: up ? 'ok' : 'degraded', database: { status: up ? 'up' : 'down', kind: this.db.kind } };
  }
}
