/**
 * The "Request access" form's logic, apart from the DOM: which projects a person may ask for, and whether
 * what they filled in can be sent. The server decides; these checks only spare a round trip for the obvious
 * (no project, no column, no justification) and say so next to the field.
 */

import { Decision, NewRequest, Project } from './api';

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
