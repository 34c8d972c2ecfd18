/**
 * What `bench:workflows` publishes: two small modules and one workflow with two actions. A ticket's
 * create starts the workflow, which sets the ticket's status and counter (`updateFields`) and creates
 * a note linked back to it (`createRecord`).
 */

export const TICKETS = 'bench_tickets';
export const NOTES = 'bench_notes';
export const WORKFLOW = 'bench_two_actions';

const label = (en: string, sv: string) => ({ en, sv });

export const TICKETS_MODULE = {
  name: TICKETS,
  label: label('Bench ticket', 'Testärende'),
  numbering: { prefix: 'TCK-', padding: 6 },
  fields: {
    name: { type: 'text', label: label('Name', 'Namn'), required: true, maxLength: 200 },
    status: {
      type: 'picklist',
      label: label('Status', 'Status'),
      options: ['new', 'triaged', 'closed'],
      default: 'new',
      trackChanges: true,
    },
    counter: { type: 'integer', label: label('Counter', 'Räknare'), min: 0, default: 0 },
  },
};

export const NOTES_MODULE = {
  name: NOTES,
  label: label('Bench note', 'Testanteckning'),
  fields: {
    subject: { type: 'text', label: label('Subject', 'Ämne'), required: true, maxLength: 300 },
    ticket: { type: 'relation', label: label('Ticket', 'Ärende'), module: TICKETS, required: true, indexed: true },
  },
};

export const TWO_ACTIONS_WORKFLOW = {
  name: WORKFLOW,
  module: TICKETS,
  label: label('Bench: triage a new ticket and note it', 'Bench: sortera ett nytt ärende och anteckna det'),
  trigger: 'create',
  actions: [
    { type: 'updateFields', values: { status: "'triaged'", counter: '$exists(counter) ? counter + 1 : 1' } },
    { type: 'createRecord', module: NOTES, linkField: 'ticket', values: { subject: "'Triaged: ' & name" } },
  ],
};

/** The body every bench save posts (the latency client appends a sequence number to the name). */
export const ticketInput = (phase: string) => ({ name: `Bench ticket (${phase})`, status: 'new', counter: 0 });
