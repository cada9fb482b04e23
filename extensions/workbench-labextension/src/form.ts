/**
 * The "Request access" form's logic, apart from the DOM: which projects a person may ask for, and whether
 * what they filled in can be sent. The server decides; these checks only spare a round trip for the obvious
 * (no project, no column, no justification) and say so next to the field.
 */

import { AccessRequest, Decision, Facet, NewRequest, Project, SchemaColumn } from './api';

/** Project roles that may request data (the policy's rule; the server checks it again). */
export const REQUESTING_ROLES = ['lead', 'analyst'];
/** Project statuses in which a request can be made. */
export const REQUESTABLE_STATUSES = ['proposed', 'active'];

export interface RequestForm {
  projectId: string;
  datasetId: string;
  allColumns: string[];
  chosen: string[];
  justification: string;
}

export type FormCheck = { ok: true; request: NewRequest } | { ok: false; errors: Record<string, string> };

/** The projects the person can ask data for: member as lead or analyst, project proposed or active. */
export function requestableProjects(projects: Project[]): Project[] {
  return projects.filter(
    p => p.my_role !== null && REQUESTING_ROLES.includes(p.my_role) && REQUESTABLE_STATUSES.includes(p.status)
  );
}

/**
 * The columns ticked when the form opens: none. Data minimisation means the analyst ticks only what the project
 * needs; "Tick all but direct identifiers" (below) is the quickest way to a broad request that still leaves out
 * names, NHS numbers and the like.
 */
export function initialColumns(schema: SchemaColumn[]): string[] {
  void schema;
  return [];
}

/** Every column except direct identifiers, in schema order. */
export function columnsWithoutIdentifiers(schema: SchemaColumn[]): string[] {
  return schema.filter(c => c.role !== 'direct_identifier').map(c => c.name);
}

/**
 * The approved request by which the project already holds (or held) data of this dataset, if any: a second
 * request for it is usually a mistake, so the form warns before sending.
 */
export function heldGrant(requests: AccessRequest[], projectId: string, datasetId: string): AccessRequest | null {
  return (
    requests.find(r => r.project_id === projectId && r.dataset_id === datasetId && r.status === 'approved') ?? null
  );
}

/** The other pending request of the same project for the same dataset, if one waits already. */
export function pendingTwin(requests: AccessRequest[], projectId: string, datasetId: string): AccessRequest | null {
  return requests.find(r => r.project_id === projectId && r.dataset_id === datasetId && r.status === 'pending') ?? null;
}

/** Requests waiting for my decision that I did not make myself (an admin's own requests are someone else's call). */
export function othersRequests(waiting: AccessRequest[], mine: AccessRequest[]): AccessRequest[] {
  const own = new Set(mine.map(r => r.id));
  return waiting.filter(r => !own.has(r.id));
}

export { codeLabel, formatDate, MONTHS } from './labels';

/** Filter menu options with counts, e.g. ["DHSC", "DHSC (5)"]; `label` turns a code into words. */
export function facetOptions(
  facets: Facet[] | undefined,
  label: (text: string) => string = t => t
): [string, string][] {
  return (facets ?? []).map(f => [String(f.value), `${label(f.label)} (${f.count.toLocaleString('en-GB')})`]);
}

/** Check the form; on success the request body (columns null when every column is ticked). */
export function checkRequestForm(form: RequestForm): FormCheck {
  const errors: Record<string, string> = {};
  if (!form.projectId) {
    errors.project_id = 'Choose the project that needs this data.';
  }
  if (form.chosen.length === 0) {
    errors.columns = 'Tick at least one column.';
  }
  const unknown = form.chosen.filter(c => !form.allColumns.includes(c));
  if (unknown.length) {
    errors.columns = `Not columns of ${form.datasetId}: ${unknown.join(', ')}.`;
  }
  if (!form.justification.trim()) {
    errors.justification = 'Say why the project needs this dataset and these columns.';
  }
  if (Object.keys(errors).length) {
    return { ok: false, errors };
  }
  const everything =
    form.chosen.length === form.allColumns.length && form.allColumns.every(c => form.chosen.includes(c));
  return {
    ok: true,
    request: {
      project_id: form.projectId,
      dataset_id: form.datasetId,
      columns: everything ? null : form.allColumns.filter(c => form.chosen.includes(c)),
      justification: form.justification.trim()
    }
  };
}

export interface DecisionForm {
  decision: 'approve' | 'refuse';
  requested: string[];
  chosen: string[];
  /** Direct identifiers ticked for the grant (only requested, granted direct identifiers can be). */
  identifiers?: string[];
  /** Requested columns the linkage may read for the project (never handed to it). */
  linkage?: string[];
  /** The disclosure role of each column (from the catalogue entry), to know which are direct identifiers. */
  roles?: Record<string, string>;
  expires: string;
  conditions: string;
  reason: string;
}

export type DecisionCheck = { ok: true; decision: Decision } | { ok: false; errors: Record<string, string> };

/** Check an owner's decision; approving every requested column sends null (the server's "as requested"). */
export function checkDecision(form: DecisionForm): DecisionCheck {
  const errors: Record<string, string> = {};
  if (form.decision === 'refuse') {
    if (!form.reason.trim()) {
      errors.reason = 'Give the reason for refusing, so the requester can act on it.';
      return { ok: false, errors };
    }
    return { ok: true, decision: { decision: 'refuse', reason: form.reason.trim() } };
  }
  if (form.chosen.length === 0) {
    errors.columns = 'Tick at least one column, or refuse the request.';
  }
  const identifiers = form.identifiers ?? [];
  const notIdentifiers = identifiers.filter(
    c => !form.requested.includes(c) || (form.roles && form.roles[c] !== 'direct_identifier')
  );
  if (notIdentifiers.length) {
    errors.identifiers = `Not requested direct identifiers: ${notIdentifiers.join(', ')}.`;
  } else {
    const ungranted = identifiers.filter(c => !form.chosen.includes(c));
    if (ungranted.length) {
      errors.identifiers = `Tick ${ungranted.join(', ')} as a column to grant too, or untick it as an identifier.`;
    }
  }
  const linkage = form.linkage ?? [];
  const unrequested = linkage.filter(c => !form.requested.includes(c));
  if (unrequested.length) {
    errors.linkage = `Columns for linkage must be among those requested; not ${unrequested.join(', ')}.`;
  }
  if (form.expires && !/^\d{4}-\d{2}-\d{2}$/.test(form.expires)) {
    errors.expires = 'Give the expiry as a date (YYYY-MM-DD), or leave it empty for the project end.';
  }
  if (Object.keys(errors).length) {
    return { ok: false, errors };
  }
  const everything = form.requested.every(c => form.chosen.includes(c));
  return {
    ok: true,
    decision: {
      decision: 'approve',
      columns: everything ? null : form.requested.filter(c => form.chosen.includes(c)),
      identifiers: form.requested.filter(c => identifiers.includes(c)),
      linkage: form.requested.filter(c => linkage.includes(c)),
      expires: form.expires || null,
      conditions: form.conditions.trim(),
      reason: form.reason.trim() || null
    }
  };
}

/**
 * Call `fn` only once `wait` ms have passed without another call (search as you type). `wait` may be a function,
 * read at each call, so that a changed setting applies from the next keystroke.
 */
export function debounce<A extends unknown[]>(
  fn: (...args: A) => void,
  wait: number | (() => number)
): (...args: A) => void {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return (...args: A) => {
    if (timer !== undefined) {
      clearTimeout(timer);
    }
    timer = setTimeout(
      () => {
        timer = undefined;
        fn(...args);
      },
      typeof wait === 'function' ? wait() : wait
    );
  };
}
