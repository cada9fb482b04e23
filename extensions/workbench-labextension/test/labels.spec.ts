import {
  cellLabel,
  checkLabel,
  checkSummary,
  codeLabel,
  decisionLabel,
  dataCell,
  formatDate,
  formatNumber,
  header,
  humaniseDates
} from '../src/labels';
import { entryFacts, missionsText } from '../src/render';
import { CatalogueEntry } from '../src/api';
import { usageCell } from '../src/usage-view';

describe('codes in words', () => {
  it('labels frequencies, classifications, access rights, gateways and roles', () => {
    expect(codeLabel('freq:monthly')).toBe('Monthly');
    expect(codeLabel('freq:annual')).toBe('Yearly');
    expect(codeLabel('freq:fortnightlyish')).toBe('Fortnightlyish');
    expect(codeLabel('INTERNAL')).toBe('Internal');
    expect(codeLabel('TOP_SECRET')).toBe('Top secret');
    expect(codeLabel('NOT_APPLICABLE')).toBe('Not applicable');
    expect(codeLabel('OFFICIAL_SENSITIVE')).toBe('Official-sensitive');
    expect(codeLabel('dea-2017-research')).toBe('Research power (Digital Economy Act 2017)');
    expect(codeLabel('nhs-act-2006-s251')).toBe('Section 251 support (NHS Act 2006)');
    expect(codeLabel('data_owner')).toBe('Data owner');
    expect(codeLabel('output_checker')).toBe('Output checker');
    expect(codeLabel('partially_reviewed')).toBe('Partially reviewed');
    expect(codeLabel(null)).toBe('');
  });

  it('heads tables in words', () => {
    expect(header('project_id')).toBe('Project');
    expect(header('epsilon_spent')).toBe('ε spent');
    expect(header('grant_id')).toBe('Grant');
    expect(header('created_by')).toBe('Created by');
    expect(header('last_query')).toBe('Last query');
  });
});

describe('numbers and dates', () => {
  it('writes numbers with separators and never in scientific notation', () => {
    expect(formatNumber(345272)).toBe('345,272');
    expect(formatNumber(88650.3)).toBe('88,650');
    expect(formatNumber(8.865e4)).toBe('88,650');
    expect(formatNumber(1.5)).toBe('1.5');
    expect(formatNumber(0.01234)).toBe('0.0123');
    expect(formatNumber(1e21)).not.toContain('e');
    expect(formatNumber(NaN)).toBe('—');
    expect(formatNumber(null)).toBe('—');
  });

  it('writes dates, timestamps and months the GOV.UK way, and nothing for NaT', () => {
    expect(formatDate('2027-03-31')).toBe('31 March 2027');
    expect(formatDate('2026-12-06T22:36:42.566088')).toBe('6 December 2026');
    expect(formatDate('2026-12-06T22:36:42.566088', true)).toBe('6 December 2026, 10:36pm');
    expect(formatDate('2026-12-06T00:00:00', true)).toBe('6 December 2026');
    expect(formatDate('2026-12')).toBe('December 2026');
    expect(formatDate('NaT')).toBe('');
    expect(formatDate('NaT', false, '—')).toBe('—');
    expect(humaniseDates('Synthetic twin: ε = 0.25, made 2026-12-06 22:37 UTC.')).toBe(
      'Synthetic twin: ε = 0.25, made 6 December 2026, 10:37pm UTC.'
    );
  });

  it('shows data and report cells without raw values', () => {
    expect(dataCell('1993-03-22T00:00:00')).toBe('22 March 1993');
    expect(dataCell(248.9683459060135)).toBe('249');
    expect(dataCell('NaT')).toBe('—');
    expect(dataCell(null)).toBe('—');
    expect(dataCell(false)).toBe('No');
    expect(dataCell('State Pension')).toBe('State Pension');
    expect(cellLabel('created_at', '2026-12-06T22:36:42.566088')).toBe('6 December 2026, 10:36pm');
    expect(cellLabel('last_query', '2026-12-06T22:36:42.696783')).toBe('6 December 2026, 10:36pm');
    expect(cellLabel('month', '2026-12')).toBe('December 2026');
    expect(cellLabel('rows', 345272)).toBe('345,272');
    expect(cellLabel('status', 'pass')).toBe('Pass');
    expect(cellLabel('columns', ['age', 'sex'])).toBe('age, sex');
    expect(cellLabel('expires', null)).toBe('—');
    expect(usageCell('epsilon_spent', 0.5)).toBe('0.5');
    expect(usageCell('provenance', 'analyst-supplied')).toBe('Supplied by the analyst');
  });
});

describe('an entry with raw codes', () => {
  const entry = {
    id: 'dwp.benefit_claims',
    title: 'Benefit claims',
    description: '',
    summary: null,
    department: { slug: 'dwp', name: 'Department for Work and Pensions' },
    owner: { username: 'olu.owner', name: 'Olu Owner' },
    legal_gateways: ['dea-2017-public-service-delivery', 'uk-gdpr-public-task'],
    missions: [1, 3, 5],
    access_rights: 'INTERNAL',
    security_classification: 'TOP_SECRET',
    row_count: 345272,
    temporal_coverage: { start: '2019-04-01', end: '2027-03-31' },
    spatial_coverage: 'England',
    update_frequency: 'freq:monthly',
    has_data: true,
    schema: [],
    twin_preview: null,
    twin_note: null,
    record: {},
    warnings: [],
    person_index: null,
    index_review: false,
    versions: [],
    storage: null
  } as CatalogueEntry;

  it('lists every fact in words', () => {
    const facts = entryFacts(entry);
    const fact = (name: string) => facts.querySelector(`[data-fact="${name}"]`)?.textContent;
    expect(fact('Updated')).toBe('Monthly');
    expect(fact('Access rights')).toBe('Internal');
    expect(fact('Classification')).toBe('Top secret');
    expect(fact('Rows')).toBe('345,272');
    expect(fact('Coverage')).toBe('1 April 2019 to 31 March 2027, England');
    expect(fact('Missions')).toBe('Missions 1, 3 and 5');
    expect(fact('Legal gateways')).toBe(
      'Public service delivery power (Digital Economy Act 2017); Public task (UK GDPR)'
    );
    expect(facts.textContent).not.toMatch(/freq:|_|INTERNAL|TOP_SECRET|dea-2017/);
    expect(missionsText([2])).toBe('Mission 2');
    expect(missionsText([])).toBe('None');
  });
});

describe('decisions and checks in words', () => {
  it('labels a checker decision and an automatic check', () => {
    expect(decisionLabel('approve')).toBe('Approved');
    expect(decisionLabel('changes')).toBe('Changes asked for');
    expect(decisionLabel('reject')).toBe('Rejected');
    expect(decisionLabel(null)).toBe('');
    expect(checkLabel('pass')).toBe('Passes');
    expect(checkLabel('fail')).toBe('Fails');
    expect(checkLabel('review')).toBe('Needs review');
    expect(codeLabel('partially_reviewed')).toBe('Partially reviewed');
    expect(codeLabel('pending')).toBe('Pending');
  });

  it('starts a check summary with the check in words, not its code', () => {
    expect(checkSummary('review; threshold: 3 cells; review: negative values')).toBe(
      'Needs review — threshold: 3 cells; needs review: negative values'
    );
    expect(checkSummary('fail; threshold: 2 cells')).toBe('Fails — threshold: 2 cells');
    expect(checkSummary('pass')).toBe('Passes');
    expect(checkSummary('reviewed by hand')).toBe('reviewed by hand');
    expect(checkSummary(null)).toBe('');
  });
});
