import { Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { UUID } from '../common/ids';
import { AppException } from '../common/app.exception';
import type { RequestContext } from '../common/request-context';
import { Ctx } from '../auth/ctx.decorator';
import { assertPermission } from '../auth/permission.policy';
import { RequirePermission } from '../auth/require-permission.decorator';
import { MetadataRegistry } from '../metadata/metadata.registry';
import { WorkflowEngine } from './workflow.engine';
import { WorkflowRunRepository, type RunRow, type StepRow } from './workflow-run.repository';

const STATUSES = ['queued', 'running', 'waiting', 'completed', 'failed', 'stopped'];
const iso = (value: Date | null) => (value ? new Date(value).toISOString() : null);

function requireUuid(id: string, what: string): void {
  if (!UUID.test(id)) throw new AppException('bad_request', 'invalid_id', `"${id}" is not a ${what} id (a UUID).`);
}

/** The run log: a record's workflow runs, every failed run for admins, and retrying one. */
@Controller('api/v1')
export class WorkflowRunsController {
  constructor(
    private readonly runs: WorkflowRunRepository,
    private readonly engine: WorkflowEngine,
    private readonly registry: MetadataRegistry,
  ) {}

  @Get('admin/workflow-runs')
  @RequirePermission('admin')
  async list(@Query('status') status: unknown, @Query('workflow') workflow: unknown) {
    if (status !== undefined && (typeof status !== 'string' || !STATUSES.includes(status))) {
      throw new AppException('bad_request', 'invalid_status', `status must be one of ${STATUSES.join(', ')}.`);
    }
    if (workflow !== undefined && (typeof workflow !== 'string' || !/^[a-z][a-z0-9_]{0,62}$/.test(workflow))) {
      throw new AppException('bad_request', 'invalid_workflow', 'workflow must be a workflow name.');
    }
    return {
      data: await this.withSteps(
        await this.runs.list({ status: status as string | undefined, workflow: workflow as string | undefined }, 100),
      ),
    };
  }

  @Post('admin/workflow-runs/:run/retry')
  @RequirePermission('admin')
  @HttpCode(202)
  async retry(@Param('run') runId: string) {
    requireUuid(runId, 'run');
    const run = await this.runs.find(runId);
    if (!run) throw new AppException('not_found', 'run_not_found', `There is no workflow run ${runId}.`);
    if (!(await this.engine.retry(runId))) {
      throw new AppException('conflict', 'run_not_retryable', `Run ${runId} is ${run.status}; only failed or stopped runs can be retried.`);
    }
    return { data: { id: runId, status: 'queued' } };
  }

  @Get(':module/:id/workflow-runs')
  async forRecord(@Ctx() ctx: RequestContext, @Param('module') module: string, @Param('id') id: string) {
    const compiled = this.registry.snapshot().module(module);
    assertPermission(ctx, `${compiled.name}:read`);
    requireUuid(id, 'record');
    return { data: await this.withSteps((await this.runs.forRecord(id, 100)).filter((r) => r.module === compiled.name)) };
  }

  private async withSteps(runs: RunRow[]) {
    const steps = await this.runs.steps(runs.map((r) => r.id));
    return runs.map((run) => ({
      id: run.id,
      workflow: run.workflow,
      module: run.module,
      recordId: run.record_id,
      trigger: run.trigger,
      status: run.status,
      error: run.error,
      attempts: run.attempts,
      depth: run.depth,
      causation: run.causation,
      resumeAt: iso(run.resume_at),
      createdAt: iso(run.created_at),
      startedAt: iso(run.started_at),
      finishedAt: iso(run.finished_at),
      durationMs: run.started_at && run.finished_at ? new Date(run.finished_at).getTime() - new Date(run.started_at).getTime() : null,
      steps: steps.filter((s) => s.run_id === run.id).map(stepView),
    }));
  }
}

function stepView(step: StepRow) {
  return {
    step: step.step,
    action: step.action,
    status: step.status,
    attempts: step.attempts,
    result: step.result,
    error: step.error,
    startedAt: iso(step.started_at),
    finishedAt: iso(step.finished_at),
    durationMs: step.started_at && step.finished_at ? new Date(step.finished_at).getTime() - new Date(step.started_at).getTime() : null,
  };
}
