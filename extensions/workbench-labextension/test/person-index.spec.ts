import { ApiError, PersonIndexQuality, ReviewPair } from '../src/api';
import {
  agreementText,
  indexFacts,
  pairFieldsView,
  personIndexView,
  reviewQueueView,
  reviewText
} from '../src/person-index';
import { usageView } from '../src/usage-view';

const RECORD: PersonIndexQuality = {
  dataset_id: 'ons.survey',
  indexed: true,
  fields: { given_name: 'first_name', surname: 'surname', dob: 'dob', postcode: 'postcode' },
  relinked: false,
  records: 1234,
  compared: 60,
  linked: 58,
  review: 1,
  coverage: 1,
  match_rate: 0.9666,
  estimated_precision: 0.99309,
  estimated_recall: null,
  review_held: 1,
  review_decided: 2,
  review_pending: 1,
  measured: { precision: 0.98, recall: 0.955, f1: 0.96734, true_pairs: 200, linked_pairs: 195, correct_pairs: 191 },
  warnings: ['conflicting identities: 1 person(s) in the index were linked from records with different NHS numbers'],
  update: 7,
  updates: 3,
  updated_by: 'lin.linker',
  updated_at: '2026-12-07T14:05:00+00:00',
  version: 'v1a2b3c4d5e6f'
};

describe('personIndexView', () => {
  it('shows every figure in words, with formatted numbers and dates', () => {
    const node = personIndexView(RECORD) as HTMLElement;
    const fact = (key: string) => node.querySelector(`[data-index-fact="${key}"]`)?.textContent;
    expect(node.getAttribute('aria-label')).toBe('Person index quality of ons.survey');
    expect(fact('coverage')).toBe('100% of 1,234 records have a person id');
    expect(fact('match_rate')).toBe('96.7% of the records compared matched a person already in the index');
    expect(fact('estimated_precision')).toBe("99.3% (the linkage model's estimate)");
    expect(fact('estimated_recall')).toContain('Not estimated');
    expect(fact('measured_precision')).toBe('98.0% (191 of 195 linked pairs right, against known truth)');
    expect(fact('measured_recall')).toBe('95.5% (191 of 200 true pairs found)');
    expect(fact('measured_f1')).toBe('0.967');
    expect(fact('review')).toBe(
      '1 uncertain pair held for clerical review; 2 decided and applied, 1 decided, waiting for the next index update'
    );
    expect(fact('fields')).toBe('given name, surname, date of birth and postcode');
    expect(fact('updated')).toBe(
      '7 December 2026, 2:05pm by lin.linker, index version v1a2b3c4d5e6f (3 updates so far)'
    );
    expect(node.querySelector('.wb-index-warnings')?.textContent).toContain('⚠ conflicting identities');
    const summary = node.querySelector('details.wb-index-meanings summary');
    expect(summary?.textContent).toBe('What these figures mean');
    expect(node.textContent).not.toMatch(/wbp_|undefined|NaN|e-\d/);
  });

  it('leaves out measured figures without truth, and shows nothing without a record', () => {
    const keys = indexFacts({ ...RECORD, measured: undefined }).map(([key]) => key);
    expect(keys).not.toContain('measured_precision');
    expect(personIndexView(null)).toBe('');
    expect(personIndexView(undefined)).toBe('');
  });

  it('says when a dataset is not linked yet, with the reason', () => {
    const node = personIndexView({
      dataset_id: 'dhsc.x',
      indexed: false,
      person_level: true,
      warnings: ['not yet linked to the person index']
    }) as HTMLElement;
    expect(node.querySelector('[data-fact="not_indexed"]')?.textContent).toContain(
      'not linked to the person index yet'
    );
    expect(node.querySelector('dl.wb-index-facts')).toBeNull();
  });

  it('words an empty review queue', () => {
    expect(reviewText({ ...RECORD, review_held: 0, review_decided: 0, review_pending: 0 })).toBe(
      'No uncertain pair held for clerical review'
    );
  });
});

describe('usageView with a person-index record', () => {
  it('adds the record after the usage sections', () => {
    const node = usageView({
      dataset_id: 'ons.survey',
      owner: 'olu.owner',
      grants: [],
      loads: [],
      derived: [],
      releases: [],
      privacy: [],
      person_index: RECORD
    });
    expect(node.querySelector('section.wb-person-index h5')?.textContent).toBe('Person index');
    expect(node.querySelector('[data-index-fact="coverage"]')?.textContent).toContain('100%');
  });
});

describe('reviewQueueView', () => {
  const pairs: ReviewPair[] = [
    {
      kind: 'person',
      row: 17,
      candidate: 'wbp_0123456789abcdef',
      match_weight: 2.1,
      match_probability: 0.81,
      accepted: true,
      fields: [
        { field: 'given_name', record: 'ann', candidate: 'ann', agreement: 'same' },
        { field: 'surname', record: 'lee', candidate: 'leigh', agreement: 'differs' },
        { field: 'dob', record: '19700101', candidate: '19700101', agreement: 'same' },
        { field: 'nhs_number', record: null, candidate: '9100000001', agreement: 'missing' }
      ]
    },
    {
      kind: 'record',
      row: 3,
      candidate: '1240',
      match_weight: 0.4,
      match_probability: 0.4,
      accepted: false,
      fields: null
    }
  ];

  it('shows the fields side by side, differences marked in words', () => {
    const table = pairFieldsView(pairs[0]);
    expect(table.tagName).toBe('TABLE');
    expect(table.querySelector('caption')?.textContent).toBe(
      'Identifying fields of Row 17 and person wbp_0123456789abcdef of the index, normalised'
    );
    expect(Array.from(table.querySelectorAll('thead th')).map(th => th.textContent)).toEqual([
      'Field',
      'Row 17',
      'Index person'
    ]);
    const row = (field: string) => table.querySelector(`tr[data-field="${field}"]`) as HTMLElement;
    const cells = (field: string) => Array.from(row(field).children).map(c => c.textContent);
    expect(cells('surname')).toEqual(['Surname differs', 'lee', 'leigh']);
    expect(row('surname').classList.contains('wb-agree-differs')).toBe(true);
    expect(cells('given_name')).toEqual(['Given name same', 'ann', 'ann']);
    expect(cells('nhs_number')).toEqual(['NHS number missing on one side', 'not recorded', '9100000001']);
    expect(row('nhs_number').querySelector('td')?.classList.contains('wb-field-none')).toBe(true);
    expect(row('surname').querySelector('th')?.getAttribute('scope')).toBe('row');
    expect(agreementText(pairs[0].fields ?? [])).toBe(
      'Differs: surname. Same: given name and date of birth. Missing on one side: NHS number.'
    );
    const other = pairFieldsView({ ...pairs[1], fields: [] });
    expect(other.querySelectorAll('thead th')[2].textContent).toBe('Row 1,240');
    expect(pairFieldsView(pairs[1]).textContent).toContain('cannot be shown');
  });

  it('lists each pair in words with labelled buttons, and says how a decision went', async () => {
    const made: [number, string, string][] = [];
    const node = reviewQueueView(pairs, async (pair, decision, note) => {
      made.push([pair.row, decision, note]);
      return 'Decided a match';
    });
    const rows = node.querySelectorAll('li.wb-review-card');
    expect(rows).toHaveLength(2);
    expect(rows[0].querySelector('.wb-review-pair')?.textContent).toBe(
      'Row 17 and person wbp_0123456789abcdef of the index'
    );
    expect(rows[0].querySelector('.wb-review-odds')?.textContent).toBe('81.0% likely one person; the index links them');
    expect(rows[1].textContent).toContain('Rows 3 and 1,240 of this dataset');
    expect(rows[1].textContent).toContain('the index keeps them apart');
    const match = rows[0].querySelector('button[data-decision="match"]') as HTMLButtonElement;
    expect(match.getAttribute('aria-label')).toBe('Match: Row 17 and person wbp_0123456789abcdef of the index');
    const summary = rows[0].querySelector(`#${match.getAttribute('aria-describedby')}`);
    expect(summary?.textContent).toContain('Differs: surname.');
    expect(rows[0].querySelector('table.wb-review-fields tr[data-agreement="differs"]')).not.toBeNull();
    (rows[0].querySelector('input[name="note"]') as HTMLInputElement).value = ' same person ';
    match.click();
    await new Promise(resolve => setTimeout(resolve, 0));
    expect(made).toEqual([[17, 'match', 'same person']]);
    expect(rows[0].querySelector('.wb-review-outcome')?.textContent).toBe('Decided a match');
    expect(match.disabled).toBe(true);
  });

  it('shows a refusal and lets the linker try again', async () => {
    const node = reviewQueueView(pairs, async () => {
      throw new ApiError('pair: not in the clerical review queue', 404);
    });
    const button = node.querySelector('li button[data-decision="non-match"]') as HTMLButtonElement;
    button.click();
    await new Promise(resolve => setTimeout(resolve, 0));
    const outcome = node.querySelector('.wb-review-outcome');
    expect(outcome?.textContent).toContain('not in the clerical review queue');
    expect(outcome?.classList.contains('wb-error')).toBe(true);
    expect(button.disabled).toBe(false);
  });

  it('says when nothing awaits a decision', () => {
    expect(reviewQueueView([], async () => '').textContent).toBe('No uncertain pair awaits a decision.');
  });
});
