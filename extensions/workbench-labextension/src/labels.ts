/**
 * What the lab's panels show people instead of the codes, column names and raw values the REST API carries: the
 * same labels the notebook widgets use (workbench/widgets/labels.py), so a code reads the same in a panel and in a
 * notebook. GOV.UK style: sentence case, dates as "31 March 2027", numbers as "345,272", never scientific
 * notation, ISO timestamps or "NaT".
 */

/** What is shown for a missing value (GOV.UK tables use a dash). */
export const MISSING = '—';

/** Codes whose human label is not their words in sentence case. */
export const CODES: Record<string, string> = {
  // update frequencies (Dublin Core frequency vocabulary)
  'freq:triennial': 'Every 3 years',
  'freq:biennial': 'Every 2 years',
  'freq:annual': 'Yearly',
  'freq:semiannual': 'Twice a year',
  'freq:threeTimesAYear': '3 times a year',
  'freq:quarterly': 'Quarterly',
  'freq:bimonthly': 'Every 2 months',
  'freq:monthly': 'Monthly',
  'freq:semimonthly': 'Twice a month',
  'freq:biweekly': 'Every 2 weeks',
  'freq:threeTimesAMonth': '3 times a month',
  'freq:weekly': 'Weekly',
  'freq:semiweekly': 'Twice a week',
  'freq:threeTimesAWeek': '3 times a week',
  'freq:daily': 'Daily',
  'freq:continuous': 'Continuously',
  'freq:irregular': 'Irregularly',
  // security classifications and access rights (UK government metadata model)
  OFFICIAL: 'Official',
  OFFICIAL_SENSITIVE: 'Official-sensitive',
  SECRET: 'Secret',
  TOP_SECRET: 'Top secret',
  NOT_APPLICABLE: 'Not applicable',
  INTERNAL: 'Internal',
  OPEN: 'Open',
  COMMERCIAL: 'Commercial',
  // legal gateways (the workbench's register of gateways)
  'dea-2017-research': 'Research power (Digital Economy Act 2017)',
  'dea-2017-public-service-delivery': 'Public service delivery power (Digital Economy Act 2017)',
  'sraa-2007-s39': 'Statistics and Registration Service Act 2007, section 39',
  'uk-gdpr-public-task': 'Public task (UK GDPR)',
  'nhs-act-2006-s251': 'Section 251 support (NHS Act 2006)',
  'education-act-1996-s537a': 'Pupil information (Education Act 1996)',
  'crime-and-disorder-act-1998-s115': 'Crime and disorder information sharing (1998 Act)',
  'open-government-licence': 'Open data (Open Government Licence)',
  // roles
  output_checker: 'Output checker',
  data_owner: 'Data owner',
  admin: 'Administrator',
  lead: 'Project lead',
  analyst: 'Analyst',
  trainer: 'Trainer',
  trainee: 'Trainee',
  delegate: 'Delegate',
  // disclosure roles of columns
  direct_identifier: 'Direct identifier',
  record_identifier: 'Record identifier',
  quasi_identifier: 'Quasi-identifier',
  sensitive: 'Sensitive',
  other: 'Other',
  // column types
  string: 'Text',
  integer: 'Whole number',
  float: 'Number',
  boolean: 'Yes or no',
  date: 'Date',
  category: 'Category',
  // statuses and provenance classes
  changes: 'Changes needed',
  'analyst-supplied': 'Supplied by the analyst'
};

/** Table headers for the REST API's field names. */
export const HEADERS: Record<string, string> = {
  id: 'ID',
  project_id: 'Project',
  dataset_id: 'Dataset',
  request_id: 'Request',
  output_id: 'Output',
  grant_id: 'Grant',
  epsilon: 'ε',
  epsilon_spent: 'ε spent',
  epsilon_budget: 'ε budget',
  epsilon_left: 'ε left',
  budget: 'Budget',
  spent: 'Spent',
  remaining: 'Left',
  name: 'Name',
  type: 'Type',
  role: 'Role',
  completeness: 'Complete',
  description: 'Description',
  status: 'Status',
  state: 'State',
  decided_by: 'Decided by',
  decided_at: 'Decided',
  created_at: 'Created',
  requested_at: 'Requested',
  submitted_at: 'Submitted',
  released_at: 'Released',
  released_by: 'Released by',
  expires_at: 'Expires',
  expires: 'Expires',
  reason: 'Reason',
  username: 'User',
  legal_gateway: 'Legal gateway',
  security_classification: 'Security classification',
  access_rights: 'Access rights',
  update_frequency: 'Update frequency',
  row_count: 'Rows',
  rows: 'Rows',
  month: 'Month',
  loads: 'Loads',
  queries: 'Queries',
  provenance: 'Provenance',
  kind: 'Kind',
  columns: 'Columns',
  reviews_in: 'Reviews in',
  reviews_needed: 'Reviews needed',
  awaiting_me: 'Waiting for you'
};

/** Fields whose values are codes to label. */
const CODED = new Set([
  'status',
  'state',
  'role',
  'type',
  'kind',
  'provenance',
  'legal_gateway',
  'security_classification',
  'access_rights',
  'update_frequency',
  'decision',
  'outcome'
]);

function sentence(words: string): string {
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/**
 * A code as people write it: freq:monthly → "Monthly", TOP_SECRET → "Top secret", dea-2017-research → "Research
 * power (Digital Economy Act 2017)"; other codes as their words in sentence case (partially_reviewed →
 * "Partially reviewed"). Missing → "".
 */
export function codeLabel(code: string | null | undefined): string {
  if (code === null || code === undefined || code === '') {
    return '';
  }
  const text = String(code);
  if (Object.prototype.hasOwnProperty.call(CODES, text)) {
    return CODES[text];
  }
  const words = text
    .replace(/^freq:/, '')
    .replace(/[_-]+/g, ' ')
    .trim();
  if (!words) {
    return text;
  }
  return sentence(words === words.toUpperCase() ? words.toLowerCase() : words);
}

/** A checker's decision on an output as people write it: approve → "Approved", changes → "Changes asked for". */
export function decisionLabel(decision: string | null | undefined): string {
  const words: Record<string, string> = {
    approve: 'Approved',
    approved: 'Approved',
    changes: 'Changes asked for',
    reject: 'Rejected',
    rejected: 'Rejected',
    refused: 'Refused'
  };
  return decision ? (words[decision] ?? codeLabel(decision)) : '';
}

/** An output's automatic check as people write it: pass → "Passes", fail → "Fails", review → "Needs review". */
export function checkLabel(status: string | null | undefined): string {
  const words: Record<string, string> = { pass: 'Passes', fail: 'Fails', review: 'Needs review' };
  return status ? (words[status] ?? codeLabel(status)) : '';
}

/**
 * An automatic check's one-line summary as people read it: the server writes it ACRO's way, the status code first
 * ("review; threshold: 3 cells; review: negative values"); shown as "Needs review — threshold: 3 cells; needs
 * review: negative values".
 */
export function checkSummary(summary: string | null | undefined): string {
  if (!summary) {
    return '';
  }
  const match = /^(pass|fail|review)(?:;\s*|$)/.exec(summary);
  if (!match) {
    return summary;
  }
  const rest = summary.slice(match[0].length).replace(/(^|;\s*)review: /g, '$1needs review: ');
  return rest ? `${checkLabel(match[1])} — ${rest}` : checkLabel(match[1]);
}

/** A field name as a table header: project_id → "Project", epsilon_spent → "ε spent". */
export function header(field: string): string {
  if (Object.prototype.hasOwnProperty.call(HEADERS, field)) {
    return HEADERS[field];
  }
  const words = field.replace(/_id$/, '').replace(/_/g, ' ').trim();
  return words ? sentence(words) : field;
}

/**
 * A number as people read it: 345272 → "345,272", 88650.3 → "88,650", 0.01234 → "0.0123", 1.5 → "1.5"; never
 * scientific notation; missing or not a number → "—".
 */
export function formatNumber(value: number | null | undefined, digits = 3): string {
  if (value === null || value === undefined || Number.isNaN(value)) {
    return MISSING;
  }
  if (!Number.isFinite(value)) {
    return value > 0 ? '∞' : '−∞';
  }
  if (Math.abs(value) >= 1000 || Number.isInteger(value)) {
    return Math.round(value).toLocaleString('en-GB');
  }
  const decimals = Math.max(digits - 1 - Math.floor(Math.log10(Math.abs(value))), 0);
  return value.toLocaleString('en-GB', { maximumFractionDigits: decimals, useGrouping: true });
}

/** Month names as GOV.UK writes dates ("31 March 2027"). */
export const MONTHS = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December'
];

const DATE = /^(\d{4})-(\d{2})(?:-(\d{2}))?(?:[T ](\d{2}):(\d{2}))?/;

/**
 * A date (YYYY-MM-DD, or an ISO timestamp starting with one) as "31 March 2027"; with `time`, a timestamp's time
 * as "31 March 2027, 2:05pm"; a month (YYYY-MM) as "March 2027"; NaT, None and empty as `missing`; other text as
 * it is.
 */
export function formatDate(value: string | null | undefined, time = false, missing = ''): string {
  if (value === null || value === undefined || !value.trim() || ['NaT', 'None', 'nan', 'NaN'].includes(value)) {
    return missing;
  }
  const match = DATE.exec(value.trim());
  const month = match ? Number(match[2]) : 0;
  if (!match || month < 1 || month > 12) {
    return value;
  }
  const day = match[3] ? `${Number(match[3])} ` : '';
  let text = `${day}${MONTHS[month - 1]} ${match[1]}`;
  if (time && match[4] !== undefined) {
    const hours = Number(match[4]);
    const minutes = Number(match[5]);
    if (hours || minutes) {
      text += `, ${hours % 12 || 12}:${String(minutes).padStart(2, '0')}${hours < 12 ? 'am' : 'pm'}`;
    }
  }
  return text;
}

const ISO = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/;

/** Whether a field holds dates (by the REST API's naming). */
export function isDateField(field: string): boolean {
  return /_(at|on)$/.test(field) || ['expires', 'modified', 'issued', 'month', 'date'].includes(field);
}

/**
 * One cell of a table as shown: dates as dates, numbers formatted, codes labelled, lists joined, missing as "—".
 */
export function cellLabel(field: string, value: unknown): string {
  if (Array.isArray(value)) {
    return value.map(v => cellLabel(field, v)).join(', ') || MISSING;
  }
  if (value === null || value === undefined || value === '') {
    return MISSING;
  }
  if (typeof value === 'boolean') {
    return value ? 'Yes' : 'No';
  }
  if (typeof value === 'number') {
    return field === 'completeness' ? `${Math.round(value * 100)}%` : formatNumber(value);
  }
  if (typeof value === 'string') {
    if (isDateField(field) || ISO.test(value)) {
      return formatDate(value, /_at$/.test(field) || field.startsWith('last_'), MISSING);
    }
    if (['NaT', 'NaN', 'nan', 'None'].includes(value)) {
      return MISSING;
    }
    return CODED.has(field) ? codeLabel(value) : value;
  }
  return JSON.stringify(value);
}

/**
 * A data value (a synthetic twin's cell, say) as shown: numbers formatted, ISO dates and timestamps as dates
 * (with the time when it is not midnight), missing values (null, NaT, NaN) as "—", other text as it is.
 */
export function dataCell(value: unknown): string {
  if (value === null || value === undefined) {
    return MISSING;
  }
  if (typeof value === 'number') {
    return formatNumber(value);
  }
  if (typeof value === 'boolean') {
    return value ? 'Yes' : 'No';
  }
  if (typeof value === 'string') {
    if (['NaT', 'NaN', 'nan', 'None', '<NA>'].includes(value)) {
      return MISSING;
    }
    return ISO.test(value) ? formatDate(value, true, MISSING) : value;
  }
  if (Array.isArray(value)) {
    return value.map(dataCell).join(', ');
  }
  return JSON.stringify(value);
}

/** Dates and times inside a sentence in words: "made 2026-12-06 22:37 UTC" → "made 6 December 2026, 10:37pm UTC". */
export function humaniseDates(text: string): string {
  return text.replace(/\b\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?\b/g, match =>
    formatDate(match, true)
  );
}
