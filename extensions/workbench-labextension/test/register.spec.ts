import { ApiError, CatalogueEntry, EntryVersion, WorkbenchApi } from '../src/api';
import {
  checkRegisterForm,
  checkSource,
  fieldOf,
  problemsList,
  problemsOf,
  RegisterForm,
  registeredView,
  registrable,
  versionsTable,
  yamlLine
} from '../src/register-view';

const FORM: RegisterForm = {
  kind: 'file',
  path: ' data/admissions.csv ',
  url: '',
  table: '',
  query: '',
  entry: 'title: Admissions\n',
  mode: 'copy'
};

const DRAFT = [
  '# Drafted from CSV file admissions.csv: 3 rows, 3 columns.',
  'type: dcat:Dataset',
  "title: '<TO COMPLETE: a title>'",
  'contactPoint:',
  '  contactName: Team',
  "  email: '<TO COMPLETE: a team mailbox>'",
  'columns:',
  '  - name: id',
  '    type: string',
  '  - name: sex',
  '    type: colour',
  '    role: other',
  'modified: 2026-12-07'
].join('\n');

const VERSIONS: EntryVersion[] = [
  {
    number: 1,
    registeredAt: '2026-11-02T10:00:00Z',
    registeredBy: 'olu.owner',
    rows: 1200,
    checksum: 'abcdef0123456789',
    marker: null,
    mode: 'copy',
    current: false
  },
  {
    number: 2,
    registeredAt: '2026-12-07T09:30:00Z',
    registeredBy: 'olu.owner',
    rows: 1250,
    checksum: null,
    marker: 'xmin 8812',
    mode: 'in-place',
    current: true
  }
];

function entry(versions?: EntryVersion[]): CatalogueEntry {
  return {
    id: 'dhsc.admissions',
    title: 'Hospital admissions',
    row_count: 1250,
    schema: [{ name: 'id' }, { name: 'sex' }],
    warnings: ['Column id looks like a record key.'],
    ...(versions ? { versions } : {})
  } as unknown as CatalogueEntry;
}

describe('registrable', () => {
  it('takes folders and CSV or Parquet files only', () => {
    expect(registrable({ type: 'directory', name: 'parts' })).toBe(true);
    expect(registrable({ type: 'file', name: 'a.CSV' })).toBe(true);
    expect(registrable({ type: 'file', name: 'a.parquet' })).toBe(true);
    expect(registrable({ type: 'file', name: 'a.csv.gz' })).toBe(true);
    expect(registrable({ type: 'notebook', name: 'a.ipynb' })).toBe(false);
    expect(registrable({ type: 'file', name: 'notes.md' })).toBe(false);
  });
});

describe('checkSource and checkRegisterForm', () => {
  it('sends a trimmed path, or a URL with a table or a query', () => {
    expect(checkSource(FORM)).toEqual({ ok: true, source: { path: 'data/admissions.csv' } });
    const database = { ...FORM, kind: 'database' as const, url: 'postgresql://db/x', table: 'public.adm' };
    expect(checkSource(database)).toEqual({ ok: true, source: { url: 'postgresql://db/x', table: 'public.adm' } });
    expect(checkSource({ ...database, table: '', query: 'SELECT 1' })).toEqual({
      ok: true,
      source: { url: 'postgresql://db/x', query: 'SELECT 1' }
    });
  });

  it('says what is missing next to each field', () => {
    expect(checkSource({ ...FORM, path: '  ' })).toMatchObject({ ok: false, errors: { path: expect.any(String) } });
    const database = checkSource({ ...FORM, kind: 'database', table: 't', query: 'SELECT 1' });
    expect(database).toMatchObject({
      ok: false,
      errors: { url: expect.any(String), table: expect.stringContaining('not both') }
    });
    expect(checkRegisterForm({ ...FORM, entry: ' ' })).toMatchObject({
      ok: false,
      errors: { entry: expect.any(String) }
    });
    expect(checkRegisterForm({ ...FORM, mode: 'elsewhere' as never })).toMatchObject({
      ok: false,
      errors: { mode: expect.any(String) }
    });
  });

  it('builds the register body with the mode', () => {
    expect(checkRegisterForm({ ...FORM, mode: 'in-place' })).toEqual({
      ok: true,
      body: { path: 'data/admissions.csv', entry: 'title: Admissions\n', mode: 'in-place' }
    });
  });
});

describe('refusals shown inline', () => {
  it('puts source and mode problems next to their fields and the rest under the entry', () => {
    expect(fieldOf({ field: 'path', message: '' }, 'file')).toBe('path');
    expect(fieldOf({ field: 'data', message: '' }, 'file')).toBe('path');
    expect(fieldOf({ field: 'data', message: '' }, 'database')).toBe('url');
    expect(fieldOf({ field: 'mode', message: '' }, 'file')).toBe('mode');
    expect(fieldOf({ field: 'columns[1].type', message: '' }, 'file')).toBe('entry');
    expect(fieldOf({ field: 'title', message: '' }, 'file')).toBe('entry');
  });

  it('reads every problem of a refusal, or its message alone', () => {
    const listed = new ApiError('the entry is a draft', 400, 'title', [
      { field: 'title', message: 'still a placeholder' },
      { field: 'contactPoint.email', message: 'still a placeholder' }
    ]);
    expect(problemsOf(listed)).toHaveLength(2);
    expect(problemsOf(new ApiError('mode: not yet', 400, 'mode'))).toEqual([
      { field: 'mode', message: 'mode: not yet' }
    ]);
    expect(problemsOf(new Error('boom'))[0].message).toContain('boom');
  });

  it('finds the line of each field in the YAML', () => {
    expect(yamlLine(DRAFT, 'title')).toBe(3);
    expect(yamlLine(DRAFT, 'contactPoint.email')).toBe(6);
    expect(yamlLine(DRAFT, 'columns[1]')).toBe(10);
    expect(yamlLine(DRAFT, 'columns[1].type')).toBe(11);
    expect(yamlLine(DRAFT, 'columns[9].type')).toBe(7);
    expect(yamlLine(DRAFT, 'licence')).toBeNull();
    expect(yamlLine(DRAFT, '')).toBeNull();
  });

  it('lists the problems with their fields and lines, as text', () => {
    const node = problemsList(
      [
        { field: 'columns[1].type', message: "'colour' is not a type" },
        { field: '', message: '<b>not markup</b>' }
      ],
      DRAFT
    );
    expect(node.getAttribute('role')).toBe('alert');
    const items = node.querySelectorAll('li');
    expect(items[0].dataset.field).toBe('columns[1].type');
    expect(items[0].dataset.line).toBe('11');
    expect(items[0].textContent).toBe("columns[1].type (line 11): 'colour' is not a type");
    expect(items[1].querySelector('b')).toBeNull();
    expect(items[1].textContent).toBe('<b>not markup</b>');
  });
});

describe('versions', () => {
  it('lists the versions newest first with the current one marked', () => {
    const table = versionsTable(VERSIONS)!;
    const rows = table.querySelectorAll('tbody tr');
    expect(Array.from(rows, r => (r as HTMLElement).dataset.version)).toEqual(['2', '1']);
    expect(rows[0].classList.contains('wb-current')).toBe(true);
    expect(rows[0].textContent).toContain('2 (current)');
    expect(rows[0].textContent).toContain('7 December 2026');
    expect(rows[0].textContent).toContain('1,250');
    expect(rows[0].textContent).toContain('source xmin 8812');
    expect(rows[1].textContent).toContain('checksum abcdef012345');
    expect(rows[1].classList.contains('wb-current')).toBe(false);
  });

  it('shows nothing when the entry lists no versions', () => {
    expect(versionsTable(undefined)).toBeNull();
    expect(versionsTable([])).toBeNull();
    expect(registeredView(entry()).querySelector('table.wb-versions')).toBeNull();
  });

  it('shows the registered entry with its versions', () => {
    const node = registeredView(entry(VERSIONS));
    expect(node.dataset.dataset).toBe('dhsc.admissions');
    expect(node.textContent).toContain('1,250 rows, 2 columns.');
    expect(node.querySelector('.wb-warnings')?.textContent).toContain('record key');
    expect(node.querySelectorAll('table.wb-versions tbody tr')).toHaveLength(2);
  });

  it('says where the registered data is held', () => {
    expect(registeredView(entry()).querySelector('.wb-storage')).toBeNull();
    const copied = registeredView({ ...entry(), storage: { mode: 'copy' } });
    expect(copied.querySelector('.wb-storage')?.textContent).toBe('Copied into the vault');
    const inPlace = registeredView({
      ...entry(VERSIONS),
      storage: {
        mode: 'in-place',
        kind: 'table',
        location: 'postgresql://db:5432/x',
        table: 's.adm',
        source: 'table s.adm at postgresql://db:5432/x'
      }
    });
    const shown = inPlace.querySelector<HTMLElement>('.wb-storage');
    expect(shown?.dataset.mode).toBe('in-place');
    expect(shown?.textContent).toBe(
      'In place: table s.adm at postgresql://db:5432/x (read at its source, nothing copied)'
    );
  });
});

function reply(status: number, body: unknown): Response {
  return { ok: status < 300, status, statusText: 'Status', json: async () => body } as Response;
}

describe('the register calls', () => {
  it('posts the source and the entry, and reads problems from a refusal', async () => {
    const sent: [string, RequestInit][] = [];
    const api = new WorkbenchApi(async (path, init) => {
      sent.push([path, init]);
      if (path === 'owner/draft') {
        return reply(200, { yaml: DRAFT, source: 'file a.csv', problems: [] });
      }
      return reply(400, {
        message: 'the entry is a draft',
        field: 'title',
        error: 'InvalidInput',
        problems: [{ field: 'title', message: 'still a placeholder' }]
      });
    });
    expect((await api.draft({ path: 'a.csv' })).source).toBe('file a.csv');
    await expect(api.register({ path: 'a.csv', entry: DRAFT, mode: 'copy' })).rejects.toMatchObject({
      status: 400,
      field: 'title',
      problems: [{ field: 'title', message: 'still a placeholder' }]
    });
    expect(sent.map(([path, init]) => [path, init.method])).toEqual([
      ['owner/draft', 'POST'],
      ['owner/register', 'POST']
    ]);
    expect(JSON.parse(String(sent[1][1].body))).toEqual({ path: 'a.csv', entry: DRAFT, mode: 'copy' });
  });
});

describe('problem messages', () => {
  it('do not repeat the field they are listed under', () => {
    const node = problemsList([{ field: 'columns', message: 'columns: declared but not in the data: kwh' }], '');
    expect(node.querySelector('li')?.textContent).toBe('columns: declared but not in the data: kwh');
  });
});
