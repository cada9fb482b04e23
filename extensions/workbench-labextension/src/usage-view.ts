/**
 * The owner's usage report and the admin's audit verification, apart from the panel: checking the dataset id
 * typed, and rendering the answers (text set as text).
 */

import { AuditCheck, OwnedDataset, UsageReport } from './api';
import { cellLabel, header } from './labels';
import { personIndexView } from './person-index';
import { h, recordsTable } from './render';

/** The columns a narrow panel shows first, per section (the rest follow, scrolled to on demand). */
const KEY_COLUMNS: Partial<Record<keyof UsageReport, string[]>> = {
  grants: ['project_id', 'state', 'expires', 'grant_id'],
  versions: ['version', 'current', 'registered_at', 'rows', 'loads']
};
/** The section's columns, key ones first, and its rows as sent (`usageCell` words them). */
export function sectionTable(
  key: keyof UsageReport,
  rows: Record<string, unknown>[]
): [string[], Record<string, unknown>[]] {
  const all = Object.keys(rows[0] ?? {});
  const first = (KEY_COLUMNS[key] ?? []).filter(c => all.includes(c));
  const columns = [...first, ...all.filter(c => !first.includes(c))];
  return [columns, rows];
}

/** A usage report cell as people read it: "31 March 2027", "345,272", codes in words, "—" for nothing. */
export function usageCell(column: string, value: unknown): string {
  return cellLabel(column, value);
}

const DATASET_ID = /^[a-z][a-z0-9_-]*(\.[a-z0-9][a-z0-9_-]*)*$/;

/** A dataset id as the catalogue spells it, or why the text is not one. */
export function checkDatasetId(text: string): { ok: true; id: string } | { ok: false; error: string } {
  const id = text.trim();
  if (!id) {
    return { ok: false, error: 'Give the id of one of your datasets, e.g. dhsc.hes_apc.' };
  }
  if (!DATASET_ID.test(id) || id.length > 64) {
    return { ok: false, error: `${id} is not a dataset id: lower-case words joined by dots, e.g. dhsc.hes_apc.` };
  }
  return { ok: true, id };
}

const SECTIONS: [keyof UsageReport, string, string][] = [
  ['versions', 'Versions of its data', 'No data has been registered for it.'],
  ['grants', 'Grants', 'No project holds a grant.'],
  ['loads', 'Loads by project, month and version', 'Nobody has loaded it.'],
  ['derived', 'Derived project data', 'No project saved data derived from it.'],
  [
    'outputs',
    'Outputs made from it (computed by the workbench, or analyst-supplied)',
    'No output has been made from it.'
  ],
  ['releases', 'Releases', 'Nothing derived from it has been released.'],
  ['privacy', 'Privacy budget spent', 'No differentially private query has used it.'],
  ['blocked', 'Blocked after revocation or expiry', 'No revocation or expiry has blocked anything.']
];

/** The usage report as one table per section (an empty section says so), and its person-index quality record. */
export function usageView(report: UsageReport): HTMLElement {
  const parts: (HTMLElement | string)[] = [
    h('h4', {}, `Usage of ${report.dataset_id}`),
    h('p', { class: 'wb-result-meta' }, `Owner: ${report.owner ?? 'none'}`)
  ];
  for (const [key, title, empty] of SECTIONS) {
    const rows = (report[key] as Record<string, unknown>[] | undefined) ?? [];
    parts.push(h('h5', {}, title));
    parts.push(
      rows.length
        ? h(
            'div',
            { class: 'wb-scroll', 'data-section': key },
            recordsTable(...sectionTable(key, rows), `wb-usage-${key}`, usageCell, header)
          )
        : h('p', { class: 'wb-note', 'data-section': key }, empty)
    );
  }
  parts.push(personIndexView(report.person_index, 'h5'));
  return h('div', { class: 'wb-usage' }, ...parts);
}

/** The audit verification's answer in words. */
export function auditText(check: AuditCheck): string {
  if (check.ok) {
    return `The audit log is whole: ${check.events.toLocaleString('en-GB')} events, every hash links to the one before.`;
  }
  return `The audit log is broken at event ${check.first_broken}${check.reason ? `: ${check.reason}` : ''}. Report it to the security officer.`;
}

/**
 * "My datasets": one button per dataset I own or decide for, so an owner need not type an id; a dataset I hold as
 * a delegate is marked so (its owner is someone else). `show` opens a dataset's usage report.
 */
export function myDatasetsList(datasets: OwnedDataset[], show: (id: string) => void): HTMLElement {
  return h(
    'ul',
    { class: 'wb-my-datasets-list' },
    ...datasets.map(d => {
      const delegate = d.role === 'delegate';
      const button = h(
        'button',
        { type: 'button', class: 'wb-link-button', 'data-dataset': d.id, title: d.id },
        d.title
      );
      button.addEventListener('click', () => show(d.id));
      return h(
        'li',
        { 'data-role': delegate ? 'delegate' : 'owner' },
        button,
        delegate
          ? h('span', { class: 'wb-tag wb-delegate-tag', title: 'You decide its requests for its owner' }, 'Delegate')
          : ''
      );
    })
  );
}
