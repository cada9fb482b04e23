/**
 * Rendering helpers: API values → DOM elements. Text is always set as text (never parsed as HTML), so
 * catalogue content cannot inject markup into the lab.
 */

import { AccessRequest, ApiError, CatalogueEntry, EntryStorage, SchemaColumn, SearchResult } from './api';
import { codeLabel, dataCell, formatDate, formatNumber, humaniseDates } from './labels';

type Child = Node | string | null | undefined | false;

/** What to tell the person when a call fails: the server's message, or what went wrong on the way. */
export function errorText(error: unknown): string {
  return error instanceof ApiError ? error.message : `Something went wrong: ${String(error)}`;
}

/**
 * Clear a form's outcome line and, when the form's check failed, say why there. True (narrowing `check`) when
 * the form can be sent.
 */
export function formPassed<T extends { ok: boolean; errors?: Record<string, string> }>(
  outcome: HTMLElement,
  check: T
): check is Extract<T, { ok: true }> {
  outcome.classList.remove('wb-error', 'wb-ok');
  if (check.ok) {
    return true;
  }
  outcome.textContent = Object.values(check.errors ?? {}).join(' ');
  outcome.classList.add('wb-error');
  return false;
}

/** Create an element with attributes (`class`, `data-*`, `title`...) and children (text or nodes). */
export function h(tag: string, attrs: Record<string, string> = {}, ...children: Child[]): HTMLElement {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    element.setAttribute(name, value);
  }
  for (const child of children) {
    if (child === null || child === undefined || child === false) {
      continue;
    }
    element.append(typeof child === 'string' ? document.createTextNode(child) : child);
  }
  return element;
}

/** 1234567 → "1,234,567"; unknown counts say so. */
export function formatCount(value: number | null | undefined): string {
  return value === null || value === undefined || Number.isNaN(value) ? 'unknown' : formatNumber(value);
}

/** 0.9734 → "97.3%" (one decimal below 100%, none at 100%); null → "unknown". */
export function formatShare(value: number | null | undefined): string {
  if (value === null || value === undefined || Number.isNaN(value)) {
    return 'unknown';
  }
  const percent = Math.max(0, Math.min(1, value)) * 100;
  return percent === 100 ? '100%' : `${percent.toFixed(1)}%`;
}

/** A table cell's text: missing → empty, lists joined, objects as JSON. */
export function cellText(value: unknown): string {
  if (value === null || value === undefined) {
    return '';
  }
  if (Array.isArray(value)) {
    return value.map(cellText).join(', ');
  }
  if (typeof value === 'object') {
    return JSON.stringify(value);
  }
  return String(value);
}

/** A horizontal bar showing a column's completeness, with the figure beside it. */
export function completenessBar(value: number | null): HTMLElement {
  const share = value === null || Number.isNaN(value) ? 0 : Math.max(0, Math.min(1, value));
  const fill = h('div', { class: 'wb-bar-fill', style: `width: ${(share * 100).toFixed(1)}%` });
  return h(
    'div',
    { class: 'wb-completeness', title: `${formatShare(value)} of rows have a value` },
    h('div', { class: 'wb-bar' }, fill),
    h('span', { class: 'wb-bar-label' }, formatShare(value))
  );
}

/** One search hit in the results list; clicking it (or Enter) opens the entry. */
export function resultItem(result: SearchResult, open: (id: string) => void): HTMLElement {
  const item = h(
    'li',
    { class: 'wb-result', 'data-id': result.id, tabindex: '0', role: 'button' },
    h('div', { class: 'wb-result-title' }, result.title),
    h(
      'div',
      { class: 'wb-result-meta' },
      h('code', {}, result.id),
      ` · ${result.department} · ${formatCount(result.rows)} rows · ${codeLabel(result.security_classification)}`
    ),
    h('div', { class: 'wb-result-summary' }, result.summary)
  );
  item.addEventListener('click', () => open(result.id));
  item.addEventListener('keydown', event => {
    if ((event as KeyboardEvent).key === 'Enter') {
      open(result.id);
    }
  });
  return item;
}

/** The coverage of an entry in words ("1 April 2019 to 31 March 2024, England"). */
export function coverageText(entry: CatalogueEntry): string {
  const dates = Object.values(entry.temporal_coverage ?? {}); // start first, end last, whatever the keys
  const [start, end] = [dates[0], dates.length > 1 ? dates[dates.length - 1] : undefined].map(d =>
    formatDate(d ?? null)
  );
  const period = start && end ? `${start} to ${end}` : start ? `From ${start}` : end ? `Until ${end}` : '';
  return [period, entry.spatial_coverage ?? ''].filter(Boolean).join(', ');
}

/** The missions an entry serves in words: [1, 5] → "Missions 1 and 5". */
export function missionsText(missions: number[]): string {
  if (!missions.length) {
    return 'None';
  }
  const numbers = missions.map(m => formatNumber(m));
  const listed =
    numbers.length === 1 ? numbers[0] : `${numbers.slice(0, -1).join(', ')} and ${numbers[numbers.length - 1]}`;
  return `${numbers.length === 1 ? 'Mission' : 'Missions'} ${listed}`;
}

/** Where an entry's data is held, in words ('' without data): copied into the vault, or read in place. */
export function storageText(storage: EntryStorage | null | undefined): string {
  if (!storage) {
    return '';
  }
  if (storage.mode === 'copy') {
    return 'Copied into the vault';
  }
  return `In place: ${storage.source ?? storage.location ?? 'its source'} (read at its source, nothing copied)`;
}

/** The entry's key facts as a definition list, every code in words (GOV.UK style). */
export function entryFacts(entry: CatalogueEntry): HTMLElement {
  const owner = entry.owner.username
    ? `${entry.owner.name ?? entry.owner.username} (${entry.owner.username})`
    : 'no owner yet';
  const facts: [string, string][] = [
    ['Data owner', owner],
    ['Department', entry.department.name ?? entry.department.slug],
    ['Legal gateways', entry.legal_gateways.map(codeLabel).join('; ') || 'None recorded'],
    ['Rows', formatCount(entry.row_count)],
    ['Coverage', coverageText(entry)],
    ['Missions', missionsText(entry.missions)],
    ['Access rights', codeLabel(entry.access_rights)],
    ['Classification', codeLabel(entry.security_classification)],
    ['Updated', codeLabel(entry.update_frequency)],
    ['Data held', storageText(entry.storage)]
  ];
  const list = h('dl', { class: 'wb-facts' });
  for (const [label, value] of facts) {
    if (value) {
      list.append(h('dt', {}, label), h('dd', { 'data-fact': label }, value));
    }
  }
  return list;
}

/** The catalogue's warnings about an entry (none: nothing shown). */
export function entryWarnings(entry: CatalogueEntry): HTMLElement | string {
  const warnings = entry.warnings ?? [];
  return warnings.length
    ? h(
        'ul',
        { class: 'wb-warnings wb-entry-warnings' },
        ...warnings.map(w => h('li', { class: 'wb-error' }, `⚠ ${w}`))
      )
    : '';
}

/** The schema: each column's name, type, disclosure role and completeness bar. */
export function schemaTable(schema: SchemaColumn[]): HTMLElement {
  const body = h('tbody');
  for (const column of schema) {
    body.append(
      h(
        'tr',
        { 'data-column': column.name },
        h('td', { title: column.description }, column.name),
        h('td', {}, codeLabel(column.type)),
        h('td', {}, h('span', { class: `wb-role wb-role-${column.role}` }, codeLabel(column.role))),
        h('td', {}, completenessBar(column.completeness))
      )
    );
  }
  return h(
    'table',
    { class: 'wb-table wb-schema' },
    h(
      'thead',
      {},
      h('tr', {}, h('th', {}, 'Column'), h('th', {}, 'Type'), h('th', {}, 'Role'), h('th', {}, 'Complete'))
    ),
    body
  );
}

/** A plain table of records under the given columns. */
export function recordsTable(
  columns: string[],
  rows: Record<string, unknown>[],
  className = '',
  cell: (column: string, value: unknown) => string = (_column, value) => cellText(value),
  heading: (column: string) => string = column => column
): HTMLElement {
  const head = h('tr');
  for (const column of columns) {
    head.append(h('th', { 'data-field': column }, heading(column)));
  }
  const body = h('tbody');
  for (const row of rows) {
    const tr = h('tr');
    for (const column of columns) {
      tr.append(h('td', {}, cell(column, row[column])));
    }
    body.append(tr);
  }
  return h('table', { class: `wb-table ${className}`.trim() }, h('thead', {}, head), body);
}

/** The synthetic-twin preview, or the note saying why there is none. */
export function twinPreview(entry: CatalogueEntry): HTMLElement {
  if (!entry.twin_preview) {
    return h('p', { class: 'wb-note' }, humaniseDates(entry.twin_note ?? 'No synthetic twin.'));
  }
  return h(
    'div',
    { class: 'wb-twin' },
    h('p', { class: 'wb-note' }, 'Synthetic twin: same columns and types, no real row. Safe for writing code.'),
    entry.twin_note ? h('p', { class: 'wb-note wb-twin-note' }, humaniseDates(entry.twin_note)) : '',
    h(
      'div',
      { class: 'wb-scroll' },
      recordsTable(entry.twin_preview.columns, entry.twin_preview.rows, 'wb-twin-table', (_c, v) => dataCell(v))
    )
  );
}

/**
 * My requests: where each one is, newest first. The key columns (dataset, status) fit a 250 px panel; the rest
 * (project, dates in words, decider, reason, expiry) open on demand under "Details".
 */
export function requestsTable(requests: AccessRequest[]): HTMLElement {
  if (requests.length === 0) {
    return h('p', { class: 'wb-note' }, 'No access requests yet. Open a catalogue entry and use "Request access".');
  }
  const sorted = [...requests].sort((a, b) => b.id - a.id);
  const fact = (label: string, value: string | null) =>
    value ? [h('dt', {}, label), h('dd', {}, value)] : ([] as HTMLElement[]);
  return h(
    'table',
    { class: 'wb-table wb-requests' },
    h('thead', {}, h('tr', {}, h('th', {}, 'Dataset'), h('th', {}, 'Status'))),
    h(
      'tbody',
      {},
      ...sorted.map(r =>
        h(
          'tr',
          { 'data-request': String(r.id) },
          h(
            'td',
            {},
            h('div', {}, r.dataset_id),
            h(
              'details',
              { class: 'wb-request-details' },
              h('summary', {}, `Request ${r.id} · details`),
              h(
                'dl',
                {},
                ...fact('Project', r.project_id),
                ...fact('Asked', formatDate(r.requested_at)),
                ...fact('Decided by', r.decided_by),
                ...fact('Decided', formatDate(r.decided_at)),
                ...fact('Expires', formatDate(r.expires)),
                ...fact('Reason', r.reason)
              )
            )
          ),
          h('td', {}, h('span', { class: `wb-status wb-status-${r.status}` }, codeLabel(r.status)))
        )
      )
    )
  );
}
