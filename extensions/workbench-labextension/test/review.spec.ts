import { CheckedTable, HistoryRow, OutputUnderReview, Provenance, QueueRow, Release, ReleasedTable } from '../src/api';
import {
  aidsText,
  asRelease,
  blockedList,
  checkConclusion,
  checkedLegend,
  checkedTable,
  checkReview,
  conclusionConfirmation,
  dateText,
  decisionConfirmation,
  historyTable,
  commentRequired,
  filePreviews,
  formatNumber,
  provenanceView,
  queueTable,
  releaseConfirmation,
  releasedFields,
  releasedLegend,
  releasedRequest,
  releasedTable,
  releasedTableOfRequests,
  releaseView,
  reviewsList,
  RULE_LABELS,
  statusText,
  tablesSideBySide,
  textCheck
} from '../src/review';

const TABLE: CheckedTable = {
  columns: ['1-3', '4+'],
  index_names: ['age_band'],
  column_names: ['length_of_stay'],
  rows: [
    {
      label: '0-17',
      cells: [
        { value: 12, flags: [], suppressed: false },
        { value: 3, flags: ['threshold'], suppressed: false }
      ]
    },
    {
      label: '18-64',
      cells: [
        { value: 1234.5, flags: [], suppressed: true },
        { value: null, flags: ['threshold', 'zeros'], suppressed: false }
      ]
    }
  ],
  total_rows: 5,
  total_columns: 2
};

describe('the comment rules', () => {
  it('follow the server: against the automatic result, and always to ask for changes', () => {
    expect(commentRequired('approve', 'pass')).toBeNull();
    expect(commentRequired('approve', 'review')).toBeNull();
    expect(commentRequired('approve', 'fail')).toContain('failed');
    expect(commentRequired('reject', 'pass')).toContain('passed');
    expect(commentRequired('reject', 'fail')).toBeNull();
    expect(commentRequired('changes', 'fail')).toContain('what to change');
  });

  it('check a review before it is sent', () => {
    expect(checkReview('approve', 'pass', '  ')).toEqual({ ok: true, value: { decision: 'approve', comment: null } });
    expect(checkReview('approve', 'fail', ' ')).toMatchObject({ ok: false, error: expect.stringContaining('safe') });
    expect(checkReview('approve', 'fail', ' Published ')).toEqual({
      ok: true,
      value: { decision: 'approve', comment: 'Published' }
    });
    expect(checkReview('changes', 'review', '')).toMatchObject({ ok: false });
  });

  it('need a comment to return or reject a request', () => {
    expect(checkConclusion('approve', '')).toEqual({ ok: true, value: { outcome: 'approve', comment: null } });
    expect(checkConclusion('return', ' ')).toMatchObject({ ok: false, error: expect.stringContaining('returned') });
    expect(checkConclusion('reject', '')).toMatchObject({ ok: false, error: expect.stringContaining('rejected') });
    expect(checkConclusion('reject', ' No ')).toEqual({ ok: true, value: { outcome: 'reject', comment: 'No' } });
  });
});

describe('checkedTable', () => {
  it('highlights exactly the flagged cells, with their rules', () => {
    const node = checkedTable(TABLE);
    const flagged = Array.from(node.querySelectorAll('td.wb-flagged'));
    expect(flagged).toHaveLength(2);
    expect(node.dataset.flagged).toBe('2');
    expect(flagged[0].textContent).toBe('3');
    expect(flagged[0].getAttribute('title')).toBe('Fails: threshold');
    expect(flagged[1].classList.contains('wb-rule-zeros')).toBe(true);
    expect(node.querySelector('td.wb-suppressed')?.textContent).toBe('1,234.5');
    expect(Array.from(node.querySelectorAll('thead th')).map(th => th.textContent)).toEqual(['age_band', '1-3', '4+']);
    expect(Array.from(node.querySelectorAll('tbody th')).map(th => th.textContent)).toEqual(['0-17', '18-64']);
  });

  it('says when the table is larger than shown', () => {
    expect(checkedTable(TABLE).textContent).toContain('Showing 2 of 5 rows');
    expect(checkedTable({ ...TABLE, total_rows: 2 }).textContent).not.toContain('Showing');
  });

  it('sets labels as text, never as markup', () => {
    const node = checkedTable({ ...TABLE, rows: [{ label: '<img src=x onerror=alert(1)>', cells: [] }] });
    expect(node.querySelector('img')).toBeNull();
  });
});

describe('aids, reviews, queue and release', () => {
  it('puts the checker aids in one line', () => {
    const text = aidsText({
      cells: 4,
      numeric_cells: 3,
      min: 0,
      min_excluding_zero: 3,
      max: 1234.5,
      sum: 1249.5,
      share_divisible_by_5: 0.5,
      flagged: { threshold: 2, dominance: 0 }
    });
    expect(text).toBe(
      'min 0 · min excluding zero 3 · max 1,234.5 · sum 1,249.5 · share divisible by 5 50% · flagged cells: threshold 2'
    );
    expect(
      aidsText({
        cells: 0,
        numeric_cells: 0,
        min: null,
        min_excluding_zero: null,
        max: null,
        sum: null,
        share_divisible_by_5: null,
        flagged: {}
      })
    ).toContain('min – ');
    expect(formatNumber(null)).toBe('–');
  });

  it('says how many reviews are hidden while reviews are blind', () => {
    const output = {
      reviews_in: 1,
      reviews: [{ output_id: 1, round: 1, reviewer: 'me', decision: 'approve', comment: 'Fine', created_at: '' }]
    } as OutputUnderReview;
    const list = reviewsList(output, 2);
    expect(list.querySelectorAll('li')).toHaveLength(2);
    expect(list.textContent).toContain('me: Approved — Fine');
    expect(list.textContent).toContain('1 of 2 reviews in');
    expect(reviewsList({ ...output, reviews_in: 2 }, 2).textContent).not.toContain('hidden');
  });

  it('lists the queue and opens a request', () => {
    const rows: QueueRow[] = [
      {
        id: 7,
        project_id: 'p',
        title: 'Admissions',
        status: 'partially_reviewed',
        submitted_at: '2026-11-01T10:00:00',
        outputs: 1,
        reviews_in: 1,
        reviews_needed: 2,
        awaiting_me: 1,
        blocked: 2
      }
    ];
    const opened: number[] = [];
    const table = queueTable(rows, id => opened.push(id));
    const row = table.querySelector('tr[data-request="7"]') as HTMLElement;
    expect(row.querySelector('.wb-status')?.textContent).toBe('Partially reviewed');
    expect(row.textContent).toContain('1 November 2026');
    expect(row.textContent).not.toMatch(/\d{4}-\d{2}-\d{2}/);
    expect(table.querySelector('.wb-blocked-count')?.textContent).toBe('2');
    (table.querySelector('button.wb-open-request') as HTMLButtonElement).click();
    expect(opened).toEqual([7]);
    expect(queueTable([], () => undefined).textContent).toContain('No output requests');
  });

  it('shows the package, its files and whether it is intact', () => {
    const release: Release = {
      request_id: 7,
      status: 'released',
      package: '/ws/releases/p/request-7',
      manifest_sha256: 'ab'.repeat(32),
      released_by: 'chris',
      released_at: '2026-11-01T14:05:09.123456+00:00',
      problems: [],
      manifest: {
        request: { id: 7, title: 'A', approved_by: 'eve', released_by: 'chris', released_at: '' },
        project: 'p',
        datasets: [{ id: 'd', version: '2026-10-31 09:00:00.000001' }],
        outputs: [],
        files: { 'results.json': { sha256: 'cd'.repeat(32), bytes: 1200 } },
        reviews: 2
      }
    };
    const node = releaseView(release);
    expect(node.querySelector('.wb-package')?.textContent).toBe('/ws/releases/p/request-7');
    expect(node.querySelector('table.wb-manifest')?.textContent).toContain('results.json');
    const facts = node.querySelector('dl.wb-facts')?.textContent ?? '';
    expect(facts).toContain('1 November 2026, 2:05pm'); // released at, not an ISO timestamp
    expect(facts).toContain('d (version 31 October 2026, 9:00am)');
    expect(facts).not.toMatch(/\d{4}-\d{2}-\d{2}|\.\d{6}/);
    expect(node.querySelector('.wb-ok')).not.toBeNull();
    expect(
      releaseView({ ...release, problems: ['x.csv is missing'] }).querySelector('.wb-error')?.textContent
    ).toContain('x.csv is missing');
  });

  it('summarises a fetched manifest like a release answer', () => {
    const found = asRelease({
      request_id: 7,
      status: 'released',
      package: '/p',
      manifest_sha256: 'x',
      released_by: 'c',
      released_at: '',
      problems: [],
      manifest: {
        request: { id: 7 },
        project: { id: 'p' },
        datasets: [{ id: 'd', version: '2', rows: 9 }],
        reviews: [{}, {}],
        files: {},
        outputs: []
      }
    });
    expect(found.manifest).toMatchObject({ project: 'p', datasets: [{ id: 'd', version: '2' }], reviews: 2 });
    expect(asRelease({ ...found, manifest: null }).manifest).toBeNull();
  });
});

describe('filePreviews', () => {
  it('shows text as text, images as images, and other types by name', () => {
    const node = filePreviews([
      { name: 'notes.md', text: '<script>alert(1)</script>', truncated: true, image: null },
      { name: 'plot.svg', text: null, truncated: false, image: 'data:image/svg+xml;base64,PHN2Zy8+' },
      { name: 'bad.png', text: null, truncated: false, image: 'javascript:alert(1)' },
      { name: 'model.rds', text: null, truncated: false, image: null }
    ]);
    expect(node.querySelector('script')).toBeNull();
    expect(node.querySelector('[data-file="notes.md"] pre')?.textContent).toBe('<script>alert(1)</script>');
    expect(node.querySelector('[data-file="notes.md"]')?.textContent).toContain('first 20,000 characters');
    expect(node.querySelectorAll('img')).toHaveLength(1);
    expect(node.querySelector('[data-file="bad.png"]')?.textContent).toContain('no preview');
    expect(node.querySelector('[data-file="model.rds"]')?.textContent).toContain('no preview');
  });
});

describe('released fields', () => {
  it('shows every field a package holds for an output, as text', () => {
    const node = releasedFields({
      uid: 'p-alpha_output_2',
      command: 'sdc.ols(formula=\'cost ~ x - I("<b>hidden</b>")\', data=data)',
      properties: { method: 'ols', formula: 'cost ~ x' },
      files: ['p-alpha_output_2.csv'],
      table: { file: 'p-alpha_output_2.csv', csv: ',coef\nx,1.5\n' },
      comments: ['<img src=x>']
    });
    expect(node?.querySelector('b')).toBeNull();
    expect(node?.querySelector('img')).toBeNull();
    expect(node?.querySelector('code')?.textContent).toContain('I("<b>hidden</b>")');
    expect(node?.querySelector('details pre')?.textContent).toContain('"comments"');
    expect(node?.querySelector('.wb-released-csv')?.textContent).toBe('p-alpha_output_2.csv:\n,coef\nx,1.5\n');
    expect(releasedFields(undefined)).toBeNull();
  });

  it('shows the request-level fields and the text screen', () => {
    expect(releasedRequest({ request: { title: 'Admissions' } })?.textContent).toContain('"title": "Admissions"');
    expect(textCheck([])?.textContent).toContain('no value in the released text looks like an identifier');
    expect(textCheck(["name: '943… (10 characters)' looks like an NHS number"])?.className).toContain('wb-error');
    expect(textCheck(undefined)).toBeNull();
  });
});

const COMPUTED: Provenance = {
  class: 'computed',
  headline: 'Computed by the workbench from ons.lfs, version 30 June 2025',
  note: null,
  source: 'ons.lfs',
  source_kind: 'dataset',
  version: '2025-06-30',
  sha256: 'ab'.repeat(32),
  spec: { method: 'crosstab', index: 'region', where: { age: { '>=': 16 } } },
  lineage: null,
  declared: null,
  datasets: [{ id: 'ons.lfs', title: 'Labour Force Survey', version: '2025-06-30' }]
};

const SUPPLIED: Provenance = {
  class: 'analyst-supplied',
  headline: 'Analyst-supplied frame',
  note: "the numbers were computed in the analyst's kernel",
  source: null,
  source_kind: null,
  version: null,
  sha256: null,
  spec: null,
  lineage: ['ons.lfs', 'dhsc.hes_apc'],
  declared: ['ons.lfs'],
  datasets: [
    { id: 'ons.lfs', title: 'Labour Force Survey', version: '2025-06-30' },
    { id: 'dhsc.hes_apc', title: null, version: null }
  ]
};

const RELEASED: ReleasedTable = {
  columns: ['1-3', '4+'],
  index_names: ['age_band'],
  column_names: ['length_of_stay'],
  rows: [
    {
      label: '0-17',
      cells: [
        { value: 12, changed: false },
        { value: null, changed: true }
      ]
    },
    {
      label: '18-64',
      cells: [
        { value: null, changed: true },
        { value: null, changed: true }
      ]
    }
  ],
  total_rows: 5,
  total_columns: 2
};

describe('provenanceView', () => {
  it('says a computed output came from its source and version, with the checksum and the spec', () => {
    const node = provenanceView(COMPUTED) as HTMLElement;
    expect(node.dataset.provenance).toBe('computed');
    expect(node.querySelector('.wb-provenance-headline')?.textContent).toBe(
      'Computed Computed by the workbench from ons.lfs, version 30 June 2025'
    );
    expect(node.querySelector('.wb-provenance-datasets')?.textContent).toBe('ons.lfs (version 30 June 2025)');
    expect(node.querySelector('.wb-provenance-source')?.textContent).toBe('ons.lfs (dataset, version 30 June 2025)');
    expect(node.textContent).toContain('ab'.repeat(32));
    expect(JSON.parse(node.querySelector('.wb-provenance-spec')?.textContent ?? '')).toEqual(COMPUTED.spec);
    expect(node.querySelector('.wb-provenance-lineage')).toBeNull();
  });

  it('says an analyst-supplied frame is one, with the tracked lineage and the declaration', () => {
    const node = provenanceView(SUPPLIED) as HTMLElement;
    expect(node.classList.contains('wb-provenance-analyst-supplied')).toBe(true);
    expect(node.querySelector('b')?.textContent).toBe('Analyst-supplied frame');
    expect(node.querySelector('.wb-provenance-lineage')?.textContent).toBe('ons.lfs, dhsc.hes_apc');
    expect(node.querySelector('.wb-provenance-declared')?.textContent).toBe('ons.lfs');
    expect(node.querySelector('.wb-provenance-datasets')?.textContent).toBe(
      'ons.lfs (version 30 June 2025), dhsc.hes_apc (version unknown)'
    );
    expect(node.querySelector('.wb-provenance-spec')).toBeNull();
    expect(node.textContent).toContain("analyst's kernel");
  });

  it('renders nothing for an output without provenance, and text as text', () => {
    expect(provenanceView(undefined)).toBeNull();
    const node = provenanceView({ ...SUPPLIED, lineage: ['<img src=x onerror=alert(1)>'] }) as HTMLElement;
    expect(node.querySelector('img')).toBeNull();
  });
});

describe('the released table beside the checked one', () => {
  it('leaves suppressed cells blank, as the released file does, and counts the changed cells', () => {
    const node = releasedTable(RELEASED);
    expect(node.dataset.changed).toBe('3');
    expect(node.querySelectorAll('td.wb-blank')).toHaveLength(3);
    expect(node.querySelector('td.wb-cell')?.textContent).toBe('12');
    expect(Array.from(node.querySelectorAll('td.wb-blank')).map(td => td.textContent)).toEqual(['', '', '']);
    expect(node.querySelector('td.wb-blank')?.getAttribute('title')).toBeNull(); // said in the legend, not on hover
    expect(node.querySelector('.wb-note')?.textContent).toContain('Showing 2 of 5 rows');
  });

  it('marks a value mitigation changed (rounded) apart from the blanks', () => {
    const rounded: ReleasedTable = {
      ...RELEASED,
      rows: [
        {
          label: '0-17',
          cells: [
            { value: 10, changed: true },
            { value: null, changed: true }
          ]
        }
      ]
    };
    const node = releasedTable(rounded);
    expect(node.querySelector('td.wb-changed')?.textContent).toBe('10');
    expect(node.querySelectorAll('td.wb-blank')).toHaveLength(1);
    const legend = releasedLegend(rounded);
    expect(Array.from(legend.querySelectorAll('li')).map(li => li.dataset.legend)).toEqual(['blank', 'changed']);
    expect(legend.textContent).toContain('Blank: suppressed, left empty in the released file');
  });

  it('says so when the table is released exactly as counted', () => {
    const exact: ReleasedTable = { ...RELEASED, rows: [{ label: '0-17', cells: [{ value: 12, changed: false }] }] };
    expect(releasedLegend(exact).textContent).toContain('no cell is blank or changed');
  });

  it('puts the released table first, with a legend, and the full counts beside it labelled not released', () => {
    const node = tablesSideBySide(RELEASED, TABLE);
    const panes = node.querySelectorAll('.wb-table-pane');
    expect(panes).toHaveLength(2);
    expect(panes[0].querySelector('h5')?.textContent).toBe('As it will be released');
    expect(panes[0].querySelector('table.wb-safe-table')).not.toBeNull();
    expect(panes[0].querySelector('.wb-released-legend')).not.toBeNull();
    expect(panes[1].querySelector('h5')?.textContent).toBe('Full counts, for checking: not released');
    expect(panes[1].querySelector('table.wb-checked-table td.wb-flagged')).not.toBeNull();
    const legend = panes[1].querySelector('.wb-checked-legend') as HTMLElement;
    expect(Array.from(legend.querySelectorAll('li')).map(li => (li as HTMLElement).dataset.legend)).toEqual([
      'threshold',
      'zeros',
      'suppressed'
    ]);
    expect(legend.textContent).toContain(`Fails a rule: ${RULE_LABELS.threshold}`);
    expect(legend.querySelector('.wb-swatch.wb-rule-zeros')).not.toBeNull(); // the colour beside its meaning
  });

  it('shows the full counts alone, still labelled and with a legend, when no released table is given', () => {
    const node = tablesSideBySide(null, TABLE);
    expect(node.querySelectorAll('.wb-table-pane')).toHaveLength(1);
    expect(node.querySelector('.wb-not-released')?.textContent).toBe('not released');
    expect(node.querySelector('.wb-checked-legend')).not.toBeNull();
  });

  it('names a rule it has no words for by its name, and says when no cell fails', () => {
    const odd: CheckedTable = {
      ...TABLE,
      rows: [{ label: 'a', cells: [{ value: 1, flags: ['new_rule'], suppressed: false }] }]
    };
    expect(checkedLegend(odd).textContent).toContain('Fails a rule: new_rule');
    const clean: CheckedTable = {
      ...TABLE,
      rows: [{ label: 'a', cells: [{ value: 9, flags: [], suppressed: false }] }]
    };
    expect(checkedLegend(clean).textContent).toBe('No cell fails a rule.');
  });
});

const HISTORY: HistoryRow[] = [
  {
    id: 7,
    project_id: 'm1-economic-inactivity',
    title: 'Inactivity by region',
    status: 'released',
    submitted_at: '2026-12-01T09:00:00+00:00',
    concluded_by: 'nadia.rahman',
    concluded_at: '2026-12-02T10:15:00+00:00',
    released_by: 'mark.davies',
    released_at: '2027-03-31T16:05:30.123456+00:00'
  },
  {
    id: 5,
    project_id: 'm1-economic-inactivity',
    title: 'Older request',
    status: 'rejected',
    submitted_at: '2026-11-01T09:00:00+00:00',
    concluded_by: 'mark.davies',
    concluded_at: '2026-11-03T08:00:00+00:00',
    released_by: null,
    released_at: null
  }
];

describe('the Released and History tabs', () => {
  it('writes dates as GOV.UK does, and statuses in words', () => {
    expect(dateText('2027-03-31T16:05:30.123456+00:00')).toBe('31 March 2027, 16:05');
    expect(dateText(null)).toBe('–');
    expect(dateText('not a date')).toBe('not a date');
    expect(statusText('partially_reviewed')).toBe('Partially reviewed');
  });

  it('lists only the released requests under Released, each opening its request', () => {
    const opened: number[] = [];
    const node = releasedTableOfRequests(HISTORY, id => opened.push(id));
    const rows = node.querySelectorAll('tbody tr');
    expect(rows).toHaveLength(1);
    expect(rows[0].textContent).toContain('mark.davies');
    expect(rows[0].textContent).toContain('31 March 2027, 16:05');
    (rows[0].querySelector('button.wb-open-request') as HTMLButtonElement).click();
    expect(opened).toEqual([7]);
    expect(releasedTableOfRequests([HISTORY[1]], () => undefined).textContent).toContain('No request');
  });

  it('lists every concluded request in History with its outcome, decider and date', () => {
    const node = historyTable(HISTORY, () => undefined);
    const rows = Array.from(node.querySelectorAll('tbody tr')) as HTMLElement[];
    expect(rows.map(r => r.dataset.status)).toEqual(['released', 'rejected']);
    expect(rows[1].querySelector('.wb-decided-by')?.textContent).toBe('mark.davies');
    expect(rows[1].textContent).toContain('Rejected');
    expect(rows[1].textContent).toContain('3 November 2026, 08:00');
    expect(historyTable([], () => undefined).textContent).toContain('No request');
  });
});

describe('confirmation before what cannot be undone', () => {
  it('asks before a release, says it cannot be undone, and names the button Release', () => {
    const question = releaseConfirmation(7, 'Inactivity by region', 2);
    expect(question.title).toBe('Are you sure you want to release request 7?');
    expect(question.body).toContain('2 outputs');
    expect(question.body).toContain('You cannot undo a release.');
    expect(question).toMatchObject({ accept: 'Release', warn: true });
    expect(releaseConfirmation(7, 'T', 1).body).toContain('1 output ');
  });

  it('asks before a review of an output is sent, as it cannot be changed', () => {
    expect(decisionConfirmation(12, 'approve')).toMatchObject({
      title: 'Are you sure you want to approve output 12?',
      accept: 'Approve',
      warn: false
    });
    expect(decisionConfirmation(12, 'changes').title).toBe('Are you sure you want to ask for changes to output 12?');
    expect(decisionConfirmation(12, 'reject')).toMatchObject({ accept: 'Reject', warn: true });
  });

  it('asks before approving, rejecting or returning a request', () => {
    expect(conclusionConfirmation(3, 'approve')).toMatchObject({ accept: 'Approve', warn: false });
    expect(conclusionConfirmation(3, 'reject')).toMatchObject({ accept: 'Reject', warn: true });
    expect(conclusionConfirmation(3, 'return').title).toContain('return request 3 to the analyst');
  });
});

describe('blockedList', () => {
  const blocked = [
    { output: 3, dataset: 'ons.lfs', reason: 'the grant was revoked' },
    { output: 4, dataset: 'dhsc.hes_apc', reason: 'the grant expired' }
  ];

  it('shows every blocked output prominently, or those of one output', () => {
    const all = blockedList(blocked) as HTMLElement;
    expect(all.getAttribute('role')).toBe('alert');
    expect(all.querySelectorAll('li')).toHaveLength(2);
    expect(all.textContent).toContain('Output 3: ons.lfs — the grant was revoked');
    const one = blockedList(blocked, 4) as HTMLElement;
    expect(one.querySelectorAll('li')).toHaveLength(1);
    expect(one.textContent).toContain('dhsc.hes_apc — the grant expired');
  });

  it('renders nothing when the list is absent or empty, or holds nothing for the output', () => {
    expect(blockedList(undefined)).toBeNull();
    expect(blockedList([])).toBeNull();
    expect(blockedList(blocked, 9)).toBeNull();
  });
});
