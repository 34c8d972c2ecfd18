import { AppException } from '../common/app.exception';

/**
 * A template a tool names is not there (templates are not part of the metadata set, so a publish cannot catch it):
 * 404 with the code of the template kind, `field` pointing into the tool's action so an admin knows what to fix.
 */
export class ToolTemplateNotFoundException extends AppException {
  /** `reason` is a sentence, e.g. the document store's "There is no pdf document template …". */
  constructor(tool: string, field: string, reason: string) {
    super('not_found', 'tool_template_not_found', `The tool "${tool}" cannot run: ${reason} Add the template or change the tool.`, [
      { field, code: 'unknown_template', message: reason },
    ]);
  }
}

/** A sendEmail tool found no address to send to: 422 on the parameter the user can fill in, or on `to`. */
export class ToolNoRecipientException extends AppException {
  constructor(tool: string, field: string) {
    const message = `the message of "${tool}" has no recipient: the recipients it names are empty`;
    super('validation', 'no_recipient', `The message of the tool "${tool}" has no recipient; enter an email address.`, [
      { field, code: 'required', message },
    ]);
  }
}

/** A runWorkflow tool whose workflow has gone (a publish refuses that; a snapshot swap mid-request can still see it). */
export class ToolWorkflowNotFoundException extends AppException {
  constructor(tool: string, workflow: string, module: string) {
    super('not_found', 'unknown_workflow', `The tool "${tool}" runs the workflow "${workflow}", which ${module} does not have.`, [
      { field: 'action.workflow', code: 'unknown_workflow', message: `${module} has no workflow "${workflow}"` },
    ]);
  }
}

/** A generateDocument tool answers a person with a document: a workflow (runTool) has nobody to hand it to. */
export class ToolNotRunnableException extends AppException {
  constructor(tool: string, reason: string) {
    super('validation', 'tool_not_runnable', `The tool "${tool}" cannot run here: ${reason}`);
  }
}
