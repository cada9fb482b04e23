/**
 * The "Register a dataset" form's logic and views, apart from the panel: which files can be registered, whether
 * the form can be sent, which form field a refusal's problem belongs to, the problems listed beside the entry,
 * and the registered entry with its versions. The server decides; these checks only spare a round trip for the
 * obvious (no file, no URL, an empty entry).
 */

import { ApiError, CatalogueEntry, EntryVersion, LabSource, Problem, RegisterBody, RegisterMode } from './api';
import { formatDate } from './labels';
import { formatCount, h, storageText } from './render';

/** Files the catalogue reads (CSV or Parquet); folders are read as partitioned Parquet. */
export const DATA_FILE = /\.(csv|csv\.gz|tsv|txt|parquet|pq)$/i;

/** Whether a file browser item can be registered: a folder, or a CSV or Parquet file. */
export function registrable(item: { type: string; name: string }): boolean {
  return item.type === 'directory' || DATA_FILE.test(item.name);
}

export interface RegisterForm {
  kind: 'file' | 'database';
  path: string;
  url: string;
  table: string;
  query: string;
  entry: string;
  mode: RegisterMode;
}

/** The form fields next to which a problem is shown; anything else belongs to the entry. */
export const FORM_FIELDS = ['path', 'url', 'table', 'query', 'mode'] as const;
export type FormField = (typeof FORM_FIELDS)[number] | 'entry';

export type SourceCheck = { ok: true; source: LabSource } | { ok: false; errors: Partial<Record<FormField, string>> };
export type RegisterCheck =
  { ok: true; body: RegisterBody } | { ok: false; errors: Partial<Record<FormField, string>> };

/** The source the form names: a path, or a database URL with a table or a query (one of them). */
export function checkSource(form: RegisterForm): SourceCheck {
  if (form.kind === 'file') {
    const path = form.path.trim();
    if (!path) {
      return { ok: false, errors: { path: 'Choose a CSV or Parquet file or folder in the file browser.' } };
    }
    return { ok: true, source: { path } };
  }
  const errors: Partial<Record<FormField, string>> = {};
  const url = form.url.trim();
  const table = form.table.trim();
  const query = form.query.trim();
  if (!url) {
    errors.url = 'Give the database URL, e.g. postgresql://host:5432/database.';
  }
  if (!table && !query) {
    errors.table = 'Give a table (name or schema.name) or a SELECT query.';
  } else if (table && query) {
    errors.table = 'Give a table or a query, not both.';
  }
  if (Object.keys(errors).length) {
    return { ok: false, errors };
  }
  return { ok: true, source: table ? { url, table } : { url, query } };
}

/** The register request, or what to fix first. */
export function checkRegisterForm(form: RegisterForm): RegisterCheck {
  const source = checkSource(form);
  const errors: Partial<Record<FormField, string>> = source.ok ? {} : { ...source.errors };
  if (!form.entry.trim()) {
    errors.entry = 'Draft the entry from the data first (or paste one), then complete it.';
  }
  if (form.mode !== 'copy' && form.mode !== 'in-place') {
    errors.mode = 'Choose copy or in place.';
  }
  if (!source.ok || Object.keys(errors).length) {
    return { ok: false, errors };
  }
  return { ok: true, body: { ...source.source, entry: form.entry, mode: form.mode } };
}

/** The form field a server problem belongs to: the source's fields and the mode by name, "data" to the source. */
export function fieldOf(problem: Problem, kind: RegisterForm['kind']): FormField {
  const name = problem.field;
  if ((FORM_FIELDS as readonly string[]).includes(name)) {
    return name as FormField;
  }
  if (name === 'data' || name === 'source') {
    return kind === 'file' ? 'path' : 'url';
  }
  return 'entry';
}

/** A refusal's problems (every field the server named), or its message as one problem. */
export function problemsOf(error: unknown): Problem[] {
  if (error instanceof ApiError) {
    return error.problems.length ? error.problems : [{ field: error.field ?? '', message: error.message }];
  }
  return [{ field: '', message: `Something went wrong: ${String(error)}` }];
}

/** The line (1-based) of an entry field in the YAML: `title`, `contactPoint.email`, `columns[2]`, `columns[2].type`. */
export function yamlLine(yaml: string, field: string): number | null {
  const lines = yaml.split('\n');
  const parts = /^(\w+)(?:\[(\d+)\])?(?:\.(\w+))?/.exec(field);
  if (!parts) {
    return null;
  }
  const [, top, index, key] = parts;
  const start = lines.findIndex(line => line.startsWith(`${top}:`));
  if (start < 0) {
    return null;
  }
  let end = lines.findIndex((line, i) => i > start && /^[^\s#]/.test(line));
  end = end < 0 ? lines.length : end;
  let from = start;
  let to = end;
  if (index !== undefined) {
    const items: number[] = [];
    let indent = -1;
    for (let i = start + 1; i < end; i++) {
      const item = /^(\s*)- /.exec(lines[i]);
      if (item && (indent < 0 || item[1].length === indent)) {
        indent = item[1].length;
        items.push(i);
      }
    }
    if (Number(index) >= items.length) {
      return start + 1;
    }
    from = items[Number(index)];
    to = items[Number(index) + 1] ?? end;
    if (!key) {
      return from + 1;
    }
  }
  if (key) {
    const named = new RegExp(`^[\\s-]*${key}:`);
    for (let i = from; i < to; i++) {
      if (named.test(lines[i])) {
        return i + 1;
      }
    }
  }
  return from + 1;
}

/** The problems listed beside the entry: field (with its line in the YAML when found) and message. */
export function problemsList(problems: Problem[], yaml = '', heading = 'Problems to fix'): HTMLElement {
  const list = h('ul', {});
  for (const problem of problems) {
    const line = problem.field ? yamlLine(yaml, problem.field) : null;
    const prefix = `${problem.field}: `;
    const message =
      problem.field && problem.message.startsWith(prefix) ? problem.message.slice(prefix.length) : problem.message;
    list.append(
      h(
        'li',
        { 'data-field': problem.field, ...(line ? { 'data-line': String(line) } : {}) },
        problem.field ? h('code', {}, problem.field) : null,
        line ? ` (line ${line})` : null,
        problem.field ? ': ' : null,
        message
      )
    );
  }
  return h('div', { class: 'wb-problems', role: 'alert' }, h('h4', {}, heading), list);
}

function versionFingerprint(version: EntryVersion): string {
  if (version.checksum) {
    return `checksum ${version.checksum.slice(0, 12)}`;
  }
  return version.marker ? `source ${version.marker}` : '';
}

/** A dataset's versions, newest first, the current one marked; null when the entry lists none. */
export function versionsTable(versions: EntryVersion[] | undefined | null): HTMLElement | null {
  if (!versions || !versions.length) {
    return null;
  }
  const body = h('tbody', {});
  for (const version of [...versions].sort((a, b) => b.number - a.number)) {
    body.append(
      h(
        'tr',
        { class: version.current ? 'wb-current' : '', 'data-version': String(version.number) },
        h('td', {}, String(version.number), version.current ? ' (current)' : null),
        h('td', {}, formatDate(version.registeredAt)),
        h('td', {}, formatCount(version.rows)),
        h('td', {}, versionFingerprint(version))
      )
    );
  }
  return h(
    'table',
    { class: 'wb-versions' },
    h('caption', {}, 'Versions'),
    h(
      'thead',
      {},
      h('tr', {}, h('th', {}, 'Version'), h('th', {}, 'Registered'), h('th', {}, 'Rows'), h('th', {}, 'Data'))
    ),
    body
  );
}

/** The entry just registered: id, title, rows, where its data is held, warnings and its versions. */
export function registeredView(entry: CatalogueEntry): HTMLElement {
  return h(
    'div',
    { class: 'wb-registered', 'data-dataset': entry.id },
    h('h4', {}, `Registered ${entry.id}`),
    h('p', {}, h('strong', {}, entry.title)),
    h('p', {}, `${formatCount(entry.row_count)} rows, ${entry.schema.length} columns.`),
    entry.storage ? h('p', { class: 'wb-storage', 'data-mode': entry.storage.mode }, storageText(entry.storage)) : null,
    entry.warnings.length ? h('ul', { class: 'wb-warnings' }, ...entry.warnings.map(w => h('li', {}, w))) : null,
    versionsTable(entry.versions)
  );
}
