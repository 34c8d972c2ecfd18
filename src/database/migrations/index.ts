import { InitialSchema1764057600000 } from './1764057600000-initial-schema';
import { OutboxAndJobs1764144000000 } from './1764144000000-outbox-and-jobs';
import { WorkflowsAndMail1764230400000 } from './1764230400000-workflows-and-mail';
import { OutboxHandledDeleted1764316800000 } from './1764316800000-outbox-handled-deleted';

/** Every migration, oldest first. Listed explicitly so the build needs no glob at run time. */
export const MIGRATIONS = [
  InitialSchema1764057600000,
  OutboxAndJobs1764144000000,
  WorkflowsAndMail1764230400000,
  OutboxHandledDeleted1764316800000,
];
