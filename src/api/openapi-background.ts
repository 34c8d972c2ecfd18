import type { OpenAPIV3_1 } from 'openapi-types';
import type { JobStatus } from '../jobs/job.repository';
import type { MailStatus } from '../mail/mail.repository';
import type { ModuleDefinition } from '../metadata/metadata.types';
import { labelOf } from '../records/record-schema.builder';
import type { RunStatus, StepRow } from '../workflows/workflow-run.repository';
import { asParameterSchema, dataEnvelope, errorResponses, jsonResponse, parameterRef, type Paths, schemaRef } from './openapi-components';
import { type ModuleNaming, RECORDS_BASE_PATH } from './openapi-record-paths';

/**
 * Background work the API shows: a record's workflow runs, and for admins every workflow run,
 * background job and outgoing mail message, with retries.
 */

/** `values`, checked at compile time to hold every member of the union `T`. */
export function everyOf<T extends string>() {
  return <const A extends readonly T[]>(values: A & ([Exclude<T, A[number]>] extends [never] ? unknown : never)): string[] => [...values];
}

export const RUN_STATUSES = everyOf<RunStatus>()(['queued', 'running', 'waiting', 'completed', 'failed', 'stopped']);
const STEP_STATUSES = everyOf<StepRow['status']>()(['running', 'completed', 'failed']);
export const JOB_STATUSES = everyOf<JobStatus>()(['queued', 'running', 'completed', 'failed']);
export const MAIL_STATUS_VALUES = everyOf<MailStatus>()(['queued', 'sent', 'failed', 'kept']);

const JOBS = '/api/v1/admin/jobs';
const RUNS = '/api/v1/admin/workflow-runs';
const MAIL = '/api/v1/admin/mail';

const ADMIN_ERRORS = ['Unauthorized', 'Forbidden'] as const;

function uuidPath(name: string, description: string): OpenAPIV3_1.ParameterObject {
  return { name, in: 'path', required: true, description, schema: asParameterSchema({ type: 'string', format: 'uuid' }) };
}

function statusQuery(values: string[], description: string): OpenAPIV3_1.ParameterObject {
  return { name: 'status', in: 'query', description, schema: asParameterSchema({ type: 'string', enum: values }) };
}

const listOf = (name: string) => dataEnvelope({ type: 'array', items: schemaRef(name) });

/** `GET /api/v1/<m>/{id}/workflow-runs`. */
export function recordWorkflowRunsPaths(module: ModuleDefinition, { pascal, tag }: ModuleNaming): Paths {
  const label = labelOf(module.label, module.name);
  return {
    [`${RECORDS_BASE_PATH}/${module.name}/{id}/workflow-runs`]: {
      parameters: [parameterRef('RecordId')],
      get: {
        tags: [tag],
        operationId: `list${pascal}WorkflowRuns`,
        summary: `Workflow runs of a ${label}`,
        description: `The last 100 workflow runs on the record, newest first, with their steps. Needs \`${module.name}:read\`.`,
        responses: {
          '200': jsonResponse('The runs.', listOf('WorkflowRun')),
          ...errorResponses('BadRequest', 'Unauthorized', 'Forbidden'),
        },
      },
    },
  };
}

/** Jobs, workflow runs and mail for admins. operationIds start with `admin`, so no module's can clash. */
export function backgroundPaths(): Paths {
  const jobs = (op: OpenAPIV3_1.OperationObject): OpenAPIV3_1.OperationObject => ({ tags: ['Jobs'], ...op });
  const runs = (op: OpenAPIV3_1.OperationObject): OpenAPIV3_1.OperationObject => ({ tags: ['Workflow runs'], ...op });
  const mail = (op: OpenAPIV3_1.OperationObject): OpenAPIV3_1.OperationObject => ({ tags: ['Mail'], ...op });
  const mailId = uuidPath('id', 'The mail message id.');

  return {
    [JOBS]: {
      get: jobs({
        operationId: 'adminListJobs',
        summary: 'List background jobs',
        description: 'The last 100 jobs (formula backfills, ...), newest first, with their progress.',
        parameters: [
          statusQuery(JOB_STATUSES, 'Only jobs with this status.'),
          {
            name: 'type',
            in: 'query',
            description: 'Only jobs of this type, e.g. `formula.backfill`.',
            schema: asParameterSchema({ type: 'string', maxLength: 100 }),
          },
        ],
        responses: { '200': jsonResponse('The jobs.', listOf('Job')), ...errorResponses('BadRequest', ...ADMIN_ERRORS) },
      }),
    },
    [`${JOBS}/{id}`]: {
      parameters: [uuidPath('id', 'The job id.')],
      get: jobs({
        operationId: 'adminGetJob',
        summary: 'Get a background job',
        responses: {
          '200': jsonResponse('The job.', dataEnvelope(schemaRef('Job'))),
          ...errorResponses('BadRequest', ...ADMIN_ERRORS, 'NotFound'),
        },
      }),
    },
    [RUNS]: {
      get: runs({
        operationId: 'adminListWorkflowRuns',
        summary: 'List workflow runs',
        description: 'The last 100 runs of every module, newest first, with their steps; e.g. `?status=failed` for the runs to look at.',
        parameters: [
          statusQuery(RUN_STATUSES, 'Only runs with this status.'),
          {
            name: 'workflow',
            in: 'query',
            description: 'Only runs of this workflow.',
            schema: asParameterSchema({ type: 'string', pattern: '^[a-z][a-z0-9_]{0,62}$' }),
          },
        ],
        responses: { '200': jsonResponse('The runs.', listOf('WorkflowRun')), ...errorResponses('BadRequest', ...ADMIN_ERRORS) },
      }),
    },
    [`${RUNS}/{run}/retry`]: {
      parameters: [uuidPath('run', 'The workflow run id.')],
      post: runs({
        operationId: 'adminRetryWorkflowRun',
        summary: 'Retry a failed or stopped workflow run',
        description: 'Queues the run again from its first unfinished step; finished steps stay finished.',
        responses: {
          '202': jsonResponse(
            'The run is queued.',
            dataEnvelope({
              type: 'object',
              required: ['id', 'status'],
              properties: { id: { type: 'string', format: 'uuid' }, status: { type: 'string', const: 'queued' } },
            }),
          ),
          ...errorResponses('BadRequest', ...ADMIN_ERRORS, 'NotFound', 'Conflict'),
        },
      }),
    },
    [MAIL]: {
      get: mail({
        operationId: 'adminListMail',
        summary: 'List mail messages',
        description: 'The last 100 messages of the outbox, newest first, without their bodies.',
        parameters: [statusQuery(MAIL_STATUS_VALUES, 'Only messages with this status.')],
        responses: { '200': jsonResponse('The messages.', listOf('MailMessage')), ...errorResponses('BadRequest', ...ADMIN_ERRORS) },
      }),
    },
    [`${MAIL}/{id}`]: {
      parameters: [mailId],
      get: mail({
        operationId: 'adminGetMail',
        summary: 'Get a mail message, with its bodies',
        responses: {
          '200': jsonResponse('The message.', dataEnvelope(schemaRef('MailMessageDetail'))),
          ...errorResponses('BadRequest', ...ADMIN_ERRORS, 'NotFound'),
        },
      }),
    },
    [`${MAIL}/{id}/retry`]: {
      parameters: [mailId],
      post: mail({
        operationId: 'adminRetryMail',
        summary: 'Send a kept or failed mail message again',
        responses: {
          '202': jsonResponse('The message, queued again.', dataEnvelope(schemaRef('MailMessageDetail'))),
          ...errorResponses('BadRequest', ...ADMIN_ERRORS, 'NotFound', 'Conflict'),
        },
      }),
    },
  };
}

const DATE_TIME: OpenAPIV3_1.SchemaObject = { type: 'string', format: 'date-time' };
const NULLABLE_DATE_TIME: OpenAPIV3_1.SchemaObject = { type: ['string', 'null'], format: 'date-time' };
const NULLABLE_STRING: OpenAPIV3_1.SchemaObject = { type: ['string', 'null'] };
const DURATION: OpenAPIV3_1.SchemaObject = {
  type: ['integer', 'null'],
  minimum: 0,
  description: 'Milliseconds from start to finish; `null` until finished.',
};

export function backgroundSchemas(): Record<string, OpenAPIV3_1.SchemaObject> {
  return {
    Job: {
      type: 'object',
      required: ['id', 'type', 'status', 'payload', 'progress', 'error', 'attempts', 'createdAt', 'startedAt', 'finishedAt'],
      properties: {
        id: { type: 'string', format: 'uuid' },
        type: { type: 'string', examples: ['formula.backfill'] },
        status: { type: 'string', enum: JOB_STATUSES },
        payload: { type: 'object', description: 'What the job works on; depends on its type.' },
        progress: {
          type: 'object',
          properties: { done: { type: 'integer', minimum: 0 }, total: { type: 'integer', minimum: 0 } },
        },
        error: NULLABLE_STRING,
        attempts: { type: 'integer', minimum: 0 },
        createdAt: DATE_TIME,
        startedAt: NULLABLE_DATE_TIME,
        finishedAt: NULLABLE_DATE_TIME,
      },
    },
    WorkflowRun: {
      type: 'object',
      required: [
        'id',
        'workflow',
        'module',
        'recordId',
        'trigger',
        'status',
        'error',
        'attempts',
        'depth',
        'causation',
        'resumeAt',
        'createdAt',
        'startedAt',
        'finishedAt',
        'durationMs',
        'steps',
      ],
      properties: {
        id: { type: 'string', format: 'uuid' },
        workflow: { type: 'string' },
        module: { type: 'string' },
        recordId: { type: ['string', 'null'], format: 'uuid' },
        trigger: {
          type: 'string',
          description: [
            'What started the run: the save, `create`, `update` or `delete` (a `save` workflow records which of the two it was);',
            "`schedule`, a tick of a schedule workflow; or `manual`, a tool's `runWorkflow`.",
          ].join(' '),
        },
        status: {
          type: 'string',
          enum: RUN_STATUSES,
          description: '`waiting`: paused by a `delay` until `resumeAt`; `stopped`: refused as a loop (the chain is in `error`).',
        },
        error: NULLABLE_STRING,
        attempts: { type: 'integer', minimum: 0 },
        depth: { type: 'integer', minimum: 0, description: 'How many runs led to this one.' },
        causation: {
          type: 'array',
          description: 'The workflows and records that led to this run, first cause first.',
          items: {
            type: 'object',
            required: ['workflow', 'module', 'recordId'],
            properties: { workflow: { type: 'string' }, module: { type: 'string' }, recordId: { type: 'string' } },
          },
        },
        resumeAt: NULLABLE_DATE_TIME,
        createdAt: DATE_TIME,
        startedAt: NULLABLE_DATE_TIME,
        finishedAt: NULLABLE_DATE_TIME,
        durationMs: DURATION,
        steps: { type: 'array', items: schemaRef('WorkflowRunStep') },
      },
    },
    WorkflowRunStep: {
      type: 'object',
      required: ['step', 'action', 'status', 'attempts', 'result', 'error', 'startedAt', 'finishedAt', 'durationMs'],
      properties: {
        step: { type: 'integer', minimum: 0, description: 'The index of the action in the workflow.' },
        action: { type: 'string', description: 'The action type, e.g. `sendEmail`.' },
        status: { type: 'string', enum: STEP_STATUSES },
        attempts: { type: 'integer', minimum: 0 },
        result: { description: 'What the step did (the record created, the mail queued, ...); any JSON value.' },
        error: NULLABLE_STRING,
        startedAt: NULLABLE_DATE_TIME,
        finishedAt: NULLABLE_DATE_TIME,
        durationMs: DURATION,
      },
    },
    MailMessage: {
      type: 'object',
      required: ['id', 'to', 'cc', 'subject', 'status', 'attempts', 'lastError', 'template', 'record', 'createdAt', 'sentAt'],
      properties: {
        id: { type: 'string', format: 'uuid' },
        to: { type: 'array', items: { type: 'string' } },
        cc: { type: 'array', items: { type: 'string' } },
        subject: { type: 'string' },
        status: {
          type: 'string',
          enum: MAIL_STATUS_VALUES,
          description:
            '`queued` waits for an attempt; `sent` was accepted by SMTP; `failed` gave up (see `lastError`); `kept` was not sent because no SMTP is configured.',
        },
        attempts: { type: 'integer', minimum: 0 },
        lastError: NULLABLE_STRING,
        template: { type: ['string', 'null'], description: 'The template the message was rendered from.' },
        record: {
          description: 'The record the message is about.',
          oneOf: [
            { type: 'object', required: ['module', 'id'], properties: { module: { type: 'string' }, id: { type: 'string' } } },
            { type: 'null' },
          ],
        },
        createdAt: DATE_TIME,
        sentAt: NULLABLE_DATE_TIME,
      },
    },
    MailMessageDetail: {
      allOf: [
        schemaRef('MailMessage'),
        {
          type: 'object',
          required: ['html', 'text', 'attachments', 'idempotencyKey', 'workflowRunId'],
          properties: {
            html: { type: 'string' },
            text: { type: 'string' },
            attachments: {
              type: 'array',
              items: {
                type: 'object',
                required: ['filename', 'contentType', 'size'],
                properties: {
                  filename: { type: 'string' },
                  contentType: { type: 'string' },
                  size: { type: 'integer', minimum: 0, description: 'In bytes.' },
                },
              },
            },
            idempotencyKey: { type: ['string', 'null'], description: 'For a workflow step: `<run>:<step>`.' },
            workflowRunId: { type: ['string', 'null'], format: 'uuid' },
          },
        },
      ],
    },
  };
}
