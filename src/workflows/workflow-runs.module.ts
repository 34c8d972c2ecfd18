import { Module } from '@nestjs/common';
import { WorkflowRunRepository } from './workflow-run.repository';

/** The run log's storage, shared by the workflow engine and the tools that start runs. */
@Module({
  providers: [WorkflowRunRepository],
  exports: [WorkflowRunRepository],
})
export class WorkflowRunsModule {}
