/**
 * Output checking, apart from the widget: the rules a checker's form follows before anything is sent (the
 * server's rules, so that the obvious is said next to the button), and rendering of the queue, an output's
 * provenance (shown first), the table as it will be released beside the checked table with its flagged cells
 * highlighted, what a lapsed grant blocks, the checker aids, reviews and a release package. Text is set as text.
 */

import {
  BlockedOutput,
  CheckedTable,
  CheckerAids,
  FilePreview,
  HistoryRow,
  ManifestSummary,
  Outcome,
  OutputReview,
  OutputUnderReview,
  PackageManifest,
  Provenance,
  QueueRow,
  Release,
  ReleasedOutput,
  ReleasedTable,
  ReviewDecision
} from './api';
import { MONTHS } from './form';
import { codeLabel, decisionLabel, formatDate } from './labels';
import { cellText, h } from './render';

export const DECISION_LABELS: Record<ReviewDecision, string> = {
  approve: 'Approve',
  changes: 'Request changes',
  reject: 'Reject'
};

export const OUTCOME_LABELS: Record<Outcome, string> = {
  approve: 'Approve the request',
  return: 'Return to the analyst',
  reject: 'Reject the request'
};

/** Why a comment is needed for `decision` on an output whose automatic status is `status` (the server's rule). */
export function commentRequired(decision: ReviewDecision, status: string): string | null {
  if (decision === 'approve' && status === 'fail') {
    return 'Approving an output that failed its automatic check needs a comment saying why it is safe.';
  }
  if ((decision === 'changes' || decision === 'reject') && status === 'pass') {
    return `A "${DECISION_LABELS[decision].toLowerCase()}" decision on an output that passed its automatic check needs a comment saying why.`;
  }
  if (decision === 'changes') {
    return 'Asking for changes needs a comment saying what to change.';
  }
  return null;
}

export type Checked<T> = { ok: true; value: T } | { ok: false; error: string };

/** A checker's review of one output: the decision and the trimmed comment (null when empty), or why not. */
export function checkReview(
  decision: ReviewDecision,
  status: string,
  comment: string
): Checked<{ decision: ReviewDecision; comment: string | null }> {
  const text = comment.trim();
  const why = commentRequired(decision, status);
  if (why && !text) {
    return { ok: false, error: why };
  }
  return { ok: true, value: { decision, comment: text || null } };
}

/** Concluding a request: returning and rejecting need a comment the analyst reads. */
export function checkConclusion(
  outcome: Outcome,
  comment: string
): Checked<{ outcome: Outcome; comment: string | null }> {
  const text = comment.trim();
  if (outcome !== 'approve' && !text) {
    return {
      ok: false,
      error: `Say why the request is ${outcome === 'return' ? 'returned' : 'rejected'} (the analyst reads it).`
    };
  }
  return { ok: true, value: { outcome, comment: text || null } };
}

/** 1234.5 → "1,234.5"; null → "–". */
export function formatNumber(value: number | null | undefined): string {
  if (value === null || value === undefined || Number.isNaN(value)) {
    return '–';
  }
  return value.toLocaleString('en-GB', { maximumSignificantDigits: 6 });
}

/** A table cell's text: numbers grouped, missing empty. */
export function valueText(value: unknown): string {
  return typeof value === 'number' ? formatNumber(value) : cellText(value);
}

/** The queue: one row per request, with reviews in and how many outputs wait for me; clicking a row opens it. */
export function queueTable(rows: QueueRow[], open: (id: number) => void): HTMLElement {
  if (rows.length === 0) {
    return h('p', { class: 'wb-note' }, 'No output requests wait for checking.');
  }
  const body = h('tbody');
  for (const row of rows) {
    const openButton = h('button', { type: 'button', class: 'wb-open-request jp-mod-styled' }, 'Open');
    openButton.addEventListener('click', () => open(row.id));
    body.append(
      h(
        'tr',
        { 'data-request': String(row.id), class: row.awaiting_me ? 'wb-awaiting' : '' },
        h('td', {}, String(row.id)),
        h('td', {}, row.title),
        h('td', {}, row.project_id),
        h('td', {}, h('span', { class: `wb-status wb-status-${row.status}` }, codeLabel(row.status))),
        h('td', {}, `${row.reviews_in} of ${row.reviews_needed}`),
        h('td', {}, String(row.awaiting_me)),
        h('td', {}, row.blocked ? h('span', { class: 'wb-blocked-count' }, String(row.blocked)) : '0'),
        h('td', {}, formatDate(row.submitted_at)),
        h('td', {}, openButton)
      )
    );
  }
  const head = h(
    'tr',
    {},
    ...['Request', 'Title', 'Project', 'Status', 'Reviews', 'Awaiting me', 'Blocked', 'Submitted', ''].map(t =>
      h('th', {}, t)
    )
  );
  return h('table', { class: 'wb-table wb-queue' }, h('thead', {}, head), body);
}

/**
 * The unmitigated table with every flagged cell highlighted (class `wb-flagged` and `wb-rule-<rule>`, the
 * rules in its title) and suppressed cells greyed; a note when the table is larger than what is shown.
 */
export function checkedTable(table: CheckedTable): HTMLElement {
  const corner = table.index_names.filter(n => n !== null).join(' / ');
  const columnsLabel = table.column_names.filter(n => n !== null).join(' / ');
  const head = h('tr', {}, h('th', { title: columnsLabel }, corner), ...table.columns.map(c => h('th', {}, c)));
  const body = h('tbody');
  let flagged = 0;
  for (const row of table.rows) {
    const tr = h('tr', {}, h('th', {}, row.label));
    row.cells.forEach((cell, i) => {
      const classes = ['wb-cell'];
      let title = '';
      if (cell.flags.length) {
        flagged += 1;
        classes.push('wb-flagged', ...cell.flags.map(rule => `wb-rule-${rule}`));
        title = `Fails: ${cell.flags.join(', ')}`;
      } else if (cell.suppressed) {
        classes.push('wb-suppressed');
        title = 'Suppressed to protect another cell';
      }
      const attrs: Record<string, string> = { class: classes.join(' '), 'data-column': table.columns[i] };
      if (title) {
        attrs.title = title;
      }
      tr.append(h('td', attrs, valueText(cell.value)));
    });
    body.append(tr);
  }
  const shown = table.rows.length < table.total_rows || table.columns.length < table.total_columns;
  return h(
    'div',
    { class: 'wb-checked', 'data-flagged': String(flagged) },
    h('div', { class: 'wb-scroll' }, h('table', { class: 'wb-table wb-checked-table' }, h('thead', {}, head), body)),
    shown
      ? h(
          'p',
          { class: 'wb-note' },
          `Showing ${table.rows.length} of ${table.total_rows} rows and ${table.columns.length} of ${table.total_columns} columns; the failing cells are all listed below.`
        )
      : null
  );
}

/**
 * Custom files: text in a scrolling block, images as images (an SVG shown as an image runs no script; only
 * `data:image/` URIs are used), other types by name.
 */
export function filePreviews(previews: FilePreview[]): HTMLElement {
  return h(
    'div',
    { class: 'wb-previews' },
    ...previews.map(file => {
      const title = h('p', {}, h('b', {}, file.name), file.truncated ? ' (first 20,000 characters)' : '');
      if (file.text !== null) {
        return h(
          'div',
          { class: 'wb-preview', 'data-file': file.name },
          title,
          h('pre', { class: 'wb-preview-text' }, file.text)
        );
      }
      if (file.image !== null && file.image.startsWith('data:image/')) {
        return h(
          'div',
          { class: 'wb-preview', 'data-file': file.name },
          title,
          h('img', { class: 'wb-preview-image', src: file.image, alt: file.name })
        );
      }
      return h(
        'div',
        { class: 'wb-preview', 'data-file': file.name },
        h('p', {}, h('b', {}, file.name), ': no preview for this type; open it in the vault.')
      );
    })
  );
}

/** The checker aids in one line: min, min excluding zero, max, sum, share divisible by 5, cells flagged per rule. */
export function aidsText(aids: CheckerAids): string {
  const share = aids.share_divisible_by_5 === null ? '–' : `${Math.round(aids.share_divisible_by_5 * 100)}%`;
  const flagged = Object.entries(aids.flagged)
    .filter(([, n]) => n > 0)
    .map(([rule, n]) => `${rule} ${n}`)
    .join(', ');
  return (
    `min ${formatNumber(aids.min)} · min excluding zero ${formatNumber(aids.min_excluding_zero)} · max ${formatNumber(aids.max)}` +
    ` · sum ${formatNumber(aids.sum)} · share divisible by 5 ${share}` +
    (flagged ? ` · flagged cells: ${flagged}` : ' · no cell flagged')
  );
}

/** The reviews I may see, and how many are hidden until all are in (blind review). */
export function reviewsList(output: OutputUnderReview, needed: number): HTMLElement {
  const items = output.reviews.map((r: OutputReview) =>
    h(
      'li',
      { class: `wb-review wb-review-${r.decision}` },
      `${r.reviewer}: `,
      h('b', {}, decisionLabel(r.decision)),
      r.comment ? ` — ${r.comment}` : ''
    )
  );
  if (output.reviews_in < needed) {
    items.push(
      h(
        'li',
        { class: 'wb-note' },
        `${output.reviews_in} of ${needed} reviews in; the others' reviews are hidden until all are in.`
      )
    );
  }
  return h('ul', { class: 'wb-reviews' }, ...items);
}

/** What a release left: the package folder, the manifest's SHA-256, its outputs and files, any problem. */
export function releaseView(release: Release): HTMLElement {
  const manifest = release.manifest;
  const files = manifest ? Object.entries(manifest.files) : [];
  return h(
    'section',
    { class: 'wb-release', 'data-request': String(release.request_id) },
    h('h4', {}, `Released by ${release.released_by}`),
    h(
      'dl',
      { class: 'wb-facts' },
      h('dt', {}, 'Package'),
      h('dd', { class: 'wb-package' }, h('code', {}, release.package)),
      h('dt', {}, 'Manifest SHA-256'),
      h('dd', {}, h('code', {}, release.manifest_sha256)),
      h('dt', {}, 'Released at'),
      h('dd', {}, formatDate(release.released_at, true)),
      manifest ? h('dt', {}, 'Datasets') : null,
      manifest
        ? h(
            'dd',
            {},
            manifest.datasets.map(d => `${d.id} (version ${formatDate(d.version, true)})`).join(', ') || 'none'
          )
        : null,
      manifest ? h('dt', {}, 'Reviews') : null,
      manifest ? h('dd', {}, String(manifest.reviews)) : null
    ),
    files.length
      ? h(
          'table',
          { class: 'wb-table wb-manifest' },
          h('thead', {}, h('tr', {}, h('th', {}, 'File'), h('th', {}, 'Bytes'), h('th', {}, 'SHA-256'))),
          h(
            'tbody',
            {},
            ...files.map(([name, f]) =>
              h(
                'tr',
                {},
                h('td', {}, name),
                h('td', {}, formatNumber(f.bytes)),
                h('td', {}, h('code', {}, f.sha256.slice(0, 16) + '…'))
              )
            )
          )
        )
      : null,
    release.problems.length
      ? h('p', { class: 'wb-error' }, `The package no longer matches its manifest: ${release.problems.join('; ')}`)
      : h('p', { class: 'wb-ok' }, 'Every file matches the manifest.')
  );
}

/** The parts of a package's manifest.json that the release view shows. */
interface ManifestFile {
  request: ManifestSummary['request'];
  project?: { id: string };
  datasets?: { id: string; version: string }[];
  outputs?: ManifestSummary['outputs'];
  files?: ManifestSummary['files'];
  reviews?: unknown[];
}

/** A fetched package (as the manifest route answers it) in the shape of a release answer, to show it alike. */
export function asRelease(found: PackageManifest): Release {
  const m = found.manifest as ManifestFile | null;
  return {
    ...found,
    manifest: m
      ? {
          request: m.request,
          project: m.project?.id as string,
          datasets: (m.datasets ?? []).map(d => ({ id: d.id, version: d.version })),
          outputs: m.outputs ?? [],
          files: m.files ?? {},
          reviews: (m.reviews ?? []).length
        }
      : null
  };
}

/** What the text screen found (nothing, or each problem): shown above what a release would hold. */
export function textCheck(problems: string[] | undefined): HTMLElement | null {
  if (problems === undefined) {
    return null;
  }
  return problems.length
    ? h(
        'p',
        { class: 'wb-error wb-text-check' },
        `Text screening: ${problems.join('; ')} — this cannot be released; return it.`
      )
    : h(
        'p',
        { class: 'wb-note wb-text-check' },
        'Text screening: no value in the released text looks like an identifier.'
      );
}

/**
 * Every field of one output that a release holds, verbatim (as text): the command and released properties in
 * the open, the whole of it with the released CSV one click away. The package holds nothing else.
 */
export function releasedFields(released: ReleasedOutput | undefined): HTMLElement | null {
  if (!released) {
    return null;
  }
  const { table, ...fields } = released;
  return h(
    'div',
    { class: 'wb-released', 'data-uid': released.uid },
    h('p', {}, 'Command: ', h('code', {}, released.command)),
    h(
      'details',
      { class: 'wb-released-fields' },
      h(
        'summary',
        {},
        `Released with this output: ${released.files.join(', ')} and every field of results.json and manifest.json`
      ),
      h('pre', {}, JSON.stringify(fields, null, 1)),
      table ? h('pre', { class: 'wb-released-csv' }, `${table.file}:\n${table.csv}`) : null
    )
  );
}

/** The request-level fields a release holds (request, project, datasets and versions, saved frames, reviews). */
export function releasedRequest(released: Record<string, unknown> | undefined): HTMLElement | null {
  if (!released) {
    return null;
  }
  return h(
    'details',
    { class: 'wb-released-request' },
    h(
      'summary',
      {},
      'Released with the request: title, context, project, datasets and versions, saved frames, reviews'
    ),
    h('pre', {}, JSON.stringify(released, null, 1))
  );
}

/** "ons.lfs (version 30 June 2025), dhsc.hes_apc (version unknown)": a version that is a date, in words. */
function datasetsText(provenance: Provenance): string {
  return (
    provenance.datasets
      .map(d => `${d.id} (${d.version ? `version ${formatDate(d.version, true)}` : 'version unknown'})`)
      .join(', ') || 'none'
  );
}

/**
 * Where an output's numbers came from, shown first: the class and its headline ("Computed by the workbench from
 * ons.lfs, version 30 June 2025" or "Analyst-supplied frame"), the source datasets and versions, then the spec (computed)
 * or the tracked lineage and what the analyst declared (analyst-supplied).
 */
export function provenanceView(provenance: Provenance | undefined): HTMLElement | null {
  if (!provenance) {
    return null;
  }
  const computed = provenance.class === 'computed';
  const facts = h(
    'dl',
    { class: 'wb-facts' },
    h('dt', {}, 'Source datasets'),
    h('dd', { class: 'wb-provenance-datasets' }, datasetsText(provenance))
  );
  if (computed) {
    facts.append(
      h('dt', {}, 'Source'),
      h(
        'dd',
        { class: 'wb-provenance-source' },
        `${provenance.source} (${provenance.source_kind === 'saved' ? 'saved frame' : 'dataset'}, version ${provenance.version ? formatDate(String(provenance.version), true) : 'unknown'})`
      ),
      h('dt', {}, 'File SHA-256'),
      h('dd', {}, h('code', {}, provenance.sha256 ?? 'unknown')),
      h('dt', {}, 'Spec'),
      h('dd', {}, h('code', { class: 'wb-provenance-spec' }, JSON.stringify(provenance.spec ?? {})))
    );
  } else {
    facts.append(
      h('dt', {}, 'Lineage (tracked)'),
      h('dd', { class: 'wb-provenance-lineage' }, (provenance.lineage ?? []).join(', ') || 'none'),
      h('dt', {}, 'Declared by the analyst'),
      h('dd', { class: 'wb-provenance-declared' }, (provenance.declared ?? []).join(', ') || 'nothing')
    );
  }
  return h(
    'div',
    { class: `wb-provenance wb-provenance-${provenance.class}`, 'data-provenance': provenance.class },
    h(
      'p',
      { class: 'wb-provenance-headline' },
      h('span', { class: 'wb-provenance-class' }, codeLabel(provenance.class)),
      ' ',
      h('b', {}, provenance.headline)
    ),
    provenance.note ? h('p', { class: 'wb-note' }, `Note: ${provenance.note}.`) : null,
    facts
  );
}

/** The table as it will be released; cells mitigation changed are marked (class `wb-changed`). */
export function releasedTable(table: ReleasedTable): HTMLElement {
  const corner = table.index_names.filter(n => n !== null).join(' / ');
  const columnsLabel = table.column_names.filter(n => n !== null).join(' / ');
  const head = h('tr', {}, h('th', { title: columnsLabel }, corner), ...table.columns.map(c => h('th', {}, c)));
  const body = h('tbody');
  let changed = 0;
  for (const row of table.rows) {
    const tr = h('tr', {}, h('th', {}, row.label));
    row.cells.forEach((cell, i) => {
      const attrs: Record<string, string> = { class: 'wb-cell', 'data-column': table.columns[i] };
      if (cell.changed) {
        changed += 1;
        attrs['data-changed'] = 'true'; // changed by mitigation, whether now blank or another value
      }
      if (cell.value === null) {
        attrs.class = 'wb-cell wb-blank'; // the released file holds an empty cell here
        attrs['aria-label'] = 'blank';
      } else if (cell.changed) {
        attrs.class = 'wb-cell wb-changed';
      }
      tr.append(h('td', attrs, cell.value === null ? '' : valueText(cell.value)));
    });
    body.append(tr);
  }
  const shown = table.rows.length < table.total_rows || table.columns.length < table.total_columns;
  return h(
    'div',
    { class: 'wb-released-table', 'data-changed': String(changed) },
    h('div', { class: 'wb-scroll' }, h('table', { class: 'wb-table wb-safe-table' }, h('thead', {}, head), body)),
    shown
      ? h(
          'p',
          { class: 'wb-note' },
          `Showing ${table.rows.length} of ${table.total_rows} rows and ${table.columns.length} of ${table.total_columns} columns.`
        )
      : null
  );
}

/** What each colour of a checked table means (the rule names of `checks`), said in words next to the table. */
export const RULE_LABELS: Record<string, string> = {
  threshold: 'Fewer records than the threshold',
  zeros: 'Empty cell (reveals that no one has that combination)',
  dominance: 'Dominated by its largest contributions',
  p_percent: 'Largest contribution too closely estimable (p% rule)',
  all_same: 'Every contribution the same',
  negative: 'Negative contributions (a checker must look)',
  missing: 'Missing values',
  linked: 'Can be worked out from other recorded tables',
  dof: 'Too few residual degrees of freedom',
  edges: 'Bin edge discloses the smallest or largest value'
};

/** One legend entry: a swatch with the cell's classes, and its meaning in words. */
function legendItem(classes: string, text: string, key: string): HTMLElement {
  return h(
    'li',
    { 'data-legend': key },
    h('span', { class: `wb-swatch ${classes}`, 'aria-hidden': 'true' }, key === 'blank' ? '' : '12'),
    ` ${text}`
  );
}

/** The legend of a checked table: each rule that flags a cell in it, and suppressed cells, always visible. */
export function checkedLegend(table: CheckedTable): HTMLElement {
  const rules = new Set<string>();
  let suppressed = false;
  for (const row of table.rows) {
    for (const cell of row.cells) {
      cell.flags.forEach(rule => rules.add(rule));
      suppressed = suppressed || (cell.suppressed && !cell.flags.length);
    }
  }
  const items = Array.from(rules)
    .sort()
    .map(rule => legendItem(`wb-flagged wb-rule-${rule}`, `Fails a rule: ${RULE_LABELS[rule] ?? rule}`, rule));
  if (suppressed) {
    items.push(legendItem('wb-suppressed', 'Suppressed to protect another cell (blank when released)', 'suppressed'));
  }
  if (!items.length) {
    items.push(h('li', { 'data-legend': 'none' }, 'No cell fails a rule.'));
  }
  return h('ul', { class: 'wb-legend wb-checked-legend', 'aria-label': 'Key to the full counts' }, ...items);
}

/** The legend of the table as released: blank cells, and cells mitigation changed (when there are any). */
export function releasedLegend(table: ReleasedTable): HTMLElement {
  const blank = table.rows.some(row => row.cells.some(cell => cell.value === null));
  const changed = table.rows.some(row => row.cells.some(cell => cell.changed && cell.value !== null));
  const items: HTMLElement[] = [];
  if (blank) {
    items.push(legendItem('wb-blank', 'Blank: suppressed, left empty in the released file', 'blank'));
  }
  if (changed) {
    items.push(legendItem('wb-changed', 'Changed by mitigation (for example rounded)', 'changed'));
  }
  if (!items.length) {
    items.push(h('li', { 'data-legend': 'none' }, 'Released exactly as counted: no cell is blank or changed.'));
  }
  return h('ul', { class: 'wb-legend wb-released-legend', 'aria-label': 'Key to the table as released' }, ...items);
}

/**
 * The table as it will be released (suppressed cells blank, as in the released file) beside the full counts,
 * which are labelled as not released; each with a legend in words, so no meaning is only a colour or a hover.
 */
export function tablesSideBySide(released: ReleasedTable | null | undefined, checked: CheckedTable): HTMLElement {
  const full = h(
    'div',
    { class: 'wb-table-pane wb-pane-checked' },
    h('h5', {}, 'Full counts, for checking: ', h('strong', { class: 'wb-not-released' }, 'not released')),
    checkedTable(checked),
    checkedLegend(checked)
  );
  if (!released) {
    return h('div', { class: 'wb-tables' }, full);
  }
  return h(
    'div',
    { class: 'wb-tables' },
    h(
      'div',
      { class: 'wb-table-pane wb-pane-released' },
      h('h5', {}, 'As it will be released'),
      releasedTable(released),
      releasedLegend(released)
    ),
    full
  );
}

/**
 * The outputs a revoked or expired grant blocks (all of them, or those of `outputId`), shown prominently;
 * nothing when none.
 */
export function blockedList(blocked: BlockedOutput[] | undefined, outputId?: number): HTMLElement | null {
  const rows = (blocked ?? []).filter(b => outputId === undefined || b.output === outputId);
  if (!rows.length) {
    return null;
  }
  return h(
    'div',
    { class: 'wb-blocked', role: 'alert' },
    h('b', {}, 'Blocked: a dataset in the lineage is not under a current grant of the project'),
    h(
      'ul',
      {},
      ...rows.map(b => h('li', { 'data-output': String(b.output) }, `Output ${b.output}: ${b.dataset} — ${b.reason}`))
    )
  );
}

/** An ISO timestamp as GOV.UK writes a date and time (UTC): "6 December 2026, 21:07"; none → "–". */
export function dateText(iso: string | null | undefined): string {
  if (!iso) {
    return '–';
  }
  const when = new Date(iso);
  if (Number.isNaN(when.getTime())) {
    return iso;
  }
  const pad = (n: number): string => String(n).padStart(2, '0');
  return `${when.getUTCDate()} ${MONTHS[when.getUTCMonth()]} ${when.getUTCFullYear()}, ${pad(when.getUTCHours())}:${pad(when.getUTCMinutes())}`;
}

/** A request's status in words: "partially_reviewed" → "Partially reviewed". */
export function statusText(status: string): string {
  const words = status.replace(/_/g, ' ');
  return words.charAt(0).toUpperCase() + words.slice(1);
}

function openButton(row: HistoryRow, open: (id: number) => void): HTMLElement {
  const button = h(
    'button',
    { type: 'button', class: 'wb-open-request jp-mod-styled', 'aria-label': `Open request ${row.id}` },
    'Open'
  );
  button.addEventListener('click', () => open(row.id));
  return button;
}

/** Released requests: who released each and when; a row opens the request (with its package). */
export function releasedTableOfRequests(rows: HistoryRow[], open: (id: number) => void): HTMLElement {
  const released = rows.filter(r => r.status === 'released');
  if (!released.length) {
    return h('p', { class: 'wb-note wb-empty' }, 'No request you may check has been released yet.');
  }
  const head = h(
    'tr',
    {},
    ...['Request', 'Title', 'Project', 'Released by', 'Released on', ''].map(t => h('th', {}, t))
  );
  const body = h(
    'tbody',
    {},
    ...released.map(row =>
      h(
        'tr',
        { 'data-request': String(row.id) },
        h('td', {}, String(row.id)),
        h('td', {}, row.title),
        h('td', {}, row.project_id),
        h('td', {}, row.released_by ?? '–'),
        h('td', {}, dateText(row.released_at)),
        h('td', {}, openButton(row, open))
      )
    )
  );
  return h(
    'div',
    { class: 'wb-scroll' },
    h('table', { class: 'wb-table wb-released-requests' }, h('thead', {}, head), body)
  );
}

/** Concluded requests, latest first: the outcome, who concluded it and when, and who released it and when. */
export function historyTable(rows: HistoryRow[], open: (id: number) => void): HTMLElement {
  if (!rows.length) {
    return h('p', { class: 'wb-note wb-empty' }, 'No request you may check has been concluded yet.');
  }
  const head = h(
    'tr',
    {},
    ...['Request', 'Title', 'Project', 'Outcome', 'Decided by', 'Decided on', 'Released by', 'Released on', ''].map(t =>
      h('th', {}, t)
    )
  );
  const body = h(
    'tbody',
    {},
    ...rows.map(row =>
      h(
        'tr',
        { 'data-request': String(row.id), 'data-status': row.status },
        h('td', {}, String(row.id)),
        h('td', {}, row.title),
        h('td', {}, row.project_id),
        h('td', {}, h('span', { class: `wb-status wb-status-${row.status}` }, statusText(row.status))),
        h('td', { class: 'wb-decided-by' }, row.concluded_by ?? '–'),
        h('td', {}, dateText(row.concluded_at)),
        h('td', {}, row.released_by ?? '–'),
        h('td', {}, dateText(row.released_at)),
        h('td', {}, openButton(row, open))
      )
    )
  );
  return h('div', { class: 'wb-scroll' }, h('table', { class: 'wb-table wb-history' }, h('thead', {}, head), body));
}

/** What a confirmation dialog says: a question, what happens, and the label of the button that does it. */
export interface Confirmation {
  title: string;
  body: string;
  accept: string;
  /** A warning button (the action cannot be undone). */
  warn: boolean;
}

/** Releasing is irreversible: the question asked before the package is written (GOV.UK wording). */
export function releaseConfirmation(requestId: number, title: string, outputs: number): Confirmation {
  return {
    title: `Are you sure you want to release request ${requestId}?`,
    body:
      `"${title}": ${outputs === 1 ? '1 output' : `${outputs.toLocaleString('en-GB')} outputs`} will be written ` +
      "to the project's release package, to leave the secure environment. You cannot undo a release.",
    accept: 'Release',
    warn: true
  };
}

/** A checker reviews an output once (again only if it changes): the question asked before a review is sent. */
export function decisionConfirmation(outputId: number, decision: ReviewDecision): Confirmation {
  const verb = { approve: 'approve', changes: 'ask for changes to', reject: 'reject' }[decision];
  return {
    title: `Are you sure you want to ${verb} output ${outputId}?`,
    body: 'You review an output once: you cannot change your review unless the analyst changes the output.',
    accept: DECISION_LABELS[decision],
    warn: decision === 'reject'
  };
}

/** Concluding a request cannot be changed afterwards: the question asked before it is sent. */
export function conclusionConfirmation(requestId: number, outcome: Outcome): Confirmation {
  switch (outcome) {
    case 'approve':
      return {
        title: `Are you sure you want to approve request ${requestId}?`,
        body: 'Any output checker can then release it. You cannot change this decision.',
        accept: 'Approve',
        warn: false
      };
    case 'reject':
      return {
        title: `Are you sure you want to reject request ${requestId}?`,
        body: 'The request is closed and the analyst reads your comment. You cannot undo this.',
        accept: 'Reject',
        warn: true
      };
    default:
      return {
        title: `Are you sure you want to return request ${requestId} to the analyst?`,
        body: 'The analyst reads your comment, changes the request and submits it again.',
        accept: 'Return',
        warn: false
      };
  }
}
