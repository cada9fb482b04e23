import { AccessRequest, CatalogueEntry, SearchResult } from '../src/api';
import {
  cellText,
  completenessBar,
  coverageText,
  entryFacts,
  entryWarnings,
  formatCount,
  formatShare,
  formPassed,
  h,
  requestsTable,
  resultItem,
  schemaTable,
  twinPreview
} from '../src/render';

const ENTRY: CatalogueEntry = {
  id: 'dhsc.hes_apc',
  title: 'Hospital Episode Statistics',
  description: 'Admitted patient care',
  summary: null,
  department: { slug: 'department-of-health-and-social-care', name: 'Department of Health and Social Care' },
  owner: { username: 'olu.owner', name: 'Olu Owner' },
  legal_gateways: ['nhs-act-2006-s251', 'dea-2017-research'],
  missions: [5],
  access_rights: 'INTERNAL',
  security_classification: 'OFFICIAL',
  row_count: 1234567,
  temporal_coverage: { startDate: '2019-04-01', endDate: '2024-03-31' },
  spatial_coverage: 'England',
  update_frequency: 'monthly',
  has_data: true,
  record: {},
  warnings: [],
  schema: [
    {
      name: 'nhs_number',
      type: 'string',
      role: 'direct_identifier',
      completeness: 0.991,
      categories: null,
      description: 'NHS number'
    },
    { name: 'age', type: 'integer', role: 'quasi_identifier', completeness: 1, categories: null, description: '' }
  ],
  twin_preview: {
    columns: ['nhs_number', 'age'],
    rows: [
      { nhs_number: 'x1', age: 40 },
      { nhs_number: null, age: 51 }
    ]
  },
  twin_note: null,
  person_index: null,
  index_review: false,
  versions: [],
  storage: { mode: 'copy' }
};

function searchResult(fields: Partial<SearchResult>): SearchResult {
  return {
    id: 'x.y',
    title: 'T',
    department: 'D',
    owner: null,
    missions: [],
    themes: [],
    access_rights: 'OPEN',
    security_classification: 'OFFICIAL',
    rows: null,
    summary: '',
    score: 0,
    ...fields
  };
}

describe('formPassed', () => {
  it('clears the outcome line of a form that can be sent', () => {
    const line = h('div', { class: 'wb-error' }, 'old');
    expect(formPassed(line, { ok: true })).toBe(true);
    expect(line.classList.contains('wb-error')).toBe(false);
  });
  it('says every error of a form that cannot be sent', () => {
    const line = h('div', { class: 'wb-ok' });
    expect(formPassed(line, { ok: false, errors: { a: 'Tick a column.', b: 'Say why.' } })).toBe(false);
    expect(line.textContent).toBe('Tick a column. Say why.');
    expect(line.className).toBe('wb-error');
  });
});

describe('formatting', () => {
  it('formats counts and shares', () => {
    expect(formatCount(1234567)).toBe('1,234,567');
    expect(formatCount(null)).toBe('unknown');
    expect(formatShare(0.9734)).toBe('97.3%');
    expect(formatShare(1)).toBe('100%');
    expect(formatShare(null)).toBe('unknown');
    expect(formatShare(1.5)).toBe('100%');
  });
  it('turns cell values into text', () => {
    expect(cellText(null)).toBe('');
    expect(cellText(['a', 'b'])).toBe('a, b');
    expect(cellText({ a: 1 })).toBe('{"a":1}');
    expect(cellText(0)).toBe('0');
  });
  it('describes coverage', () => {
    expect(coverageText(ENTRY)).toBe('1 April 2019 to 31 March 2024, England');
  });
});

describe('elements', () => {
  it('draws completeness as a bar of the right width', () => {
    const bar = completenessBar(0.25);
    expect((bar.querySelector('.wb-bar-fill') as HTMLElement).style.width).toBe('25.0%');
    expect(bar.textContent).toBe('25.0%');
  });

  it('lists facts including owner and gateways', () => {
    const facts = entryFacts(ENTRY);
    expect(facts.querySelector('[data-fact="Data owner"]')?.textContent).toBe('Olu Owner (olu.owner)');
    expect(facts.querySelector('[data-fact="Legal gateways"]')?.textContent).toBe(
      'Section 251 support (NHS Act 2006); Research power (Digital Economy Act 2017)'
    );
    expect(facts.querySelector('[data-fact="Rows"]')?.textContent).toBe('1,234,567');
    expect(facts.querySelector('[data-fact="Data held"]')?.textContent).toBe('Copied into the vault');
  });

  it('says when the data is read in place, and nothing without data', () => {
    const storage = { mode: 'in-place' as const, kind: 'csv' as const, location: 'a.csv', source: 'CSV file a.csv' };
    expect(entryFacts({ ...ENTRY, storage }).querySelector('[data-fact="Data held"]')?.textContent).toBe(
      'In place: CSV file a.csv (read at its source, nothing copied)'
    );
    expect(entryFacts({ ...ENTRY, storage: null }).querySelector('[data-fact="Data held"]')).toBeNull();
  });

  it('shows each column with its role and completeness', () => {
    const table = schemaTable(ENTRY.schema);
    const row = table.querySelector('[data-column="nhs_number"]') as HTMLElement;
    expect(row.querySelector('.wb-role-direct_identifier')?.textContent).toBe('Direct identifier');
    expect(row.textContent).toContain('99.1%');
    expect(table.querySelectorAll('tbody tr')).toHaveLength(2);
  });

  it('shows a record identifier as such, and the catalogue warnings of an entry', () => {
    const table = schemaTable([
      {
        name: 'episode_id',
        type: 'string',
        role: 'record_identifier',
        completeness: 1,
        categories: null,
        description: ''
      }
    ]);
    expect(table.querySelector('.wb-role-record_identifier')?.textContent).toBe('Record identifier');
    expect(entryWarnings(ENTRY)).toBe('');
    const shown = entryWarnings({ ...ENTRY, warnings: ["column 'case_id' has role 'other'"] }) as HTMLElement;
    expect(shown.querySelectorAll('li')).toHaveLength(1);
    expect(shown.textContent).toContain("'case_id'");
  });

  it('previews the twin, or says why there is none', () => {
    const preview = twinPreview(ENTRY);
    expect(preview.querySelectorAll('tbody tr')).toHaveLength(2);
    expect(preview.querySelector('tbody tr:nth-child(2) td')?.textContent).toBe('—'); // missing, as GOV.UK tables
    const none = twinPreview({ ...ENTRY, twin_preview: null, twin_note: 'No data here.' });
    expect(none.textContent).toBe('No data here.');
  });

  it('never parses catalogue text as HTML', () => {
    const item = resultItem(
      searchResult({ id: 'x.y', title: '<img src=x onerror=alert(1)>', summary: '<b>s</b>' }),
      () => undefined
    );
    expect(item.querySelector('img')).toBeNull();
    expect(item.querySelector('.wb-result-title')?.textContent).toBe('<img src=x onerror=alert(1)>');
  });

  it('opens a result on click and on Enter', () => {
    const opened: string[] = [];
    const item = resultItem(searchResult({ id: 'a.b', rows: 3, score: 1 }), id => opened.push(id));
    item.click();
    item.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter' }));
    expect(opened).toEqual(['a.b', 'a.b']);
  });

  it('shows requests newest first with a status badge', () => {
    const request = (id: number, status: AccessRequest['status']): AccessRequest => ({
      id,
      project_id: 'p',
      dataset_id: 'd.x',
      requested_by: 'ann',
      columns: [],
      justification: 'j',
      status,
      requested_at: '2026-11-25T10:00:00+00:00',
      decided_by: null,
      decided_at: null,
      reason: null,
      grant_id: null,
      expires: null
    });
    const table = requestsTable([request(1, 'approved'), request(2, 'pending')]);
    const rows = table.querySelectorAll('tbody tr');
    expect(rows[0].getAttribute('data-request')).toBe('2');
    expect(rows[0].querySelector('.wb-status-pending')?.textContent).toBe('Pending');
    expect(rows[1].querySelector('.wb-status-approved')?.textContent).toBe('Approved');
    expect(rows[1].textContent).toContain('25 November 2026');
    expect(rows[1].querySelector('details summary')?.textContent).toBe('Request 1 · details');
    expect(requestsTable([]).textContent).toContain('No access requests yet');
  });
});
