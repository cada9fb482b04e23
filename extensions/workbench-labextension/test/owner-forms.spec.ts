import { AccessRequest, SchemaColumn } from '../src/api';
import {
  codeLabel,
  columnsWithoutIdentifiers,
  facetOptions,
  formatDate,
  heldGrant,
  initialColumns,
  othersRequests,
  pendingTwin
} from '../src/form';
import { sectionTable, usageCell } from '../src/usage-view';

const column = (name: string, role: string): SchemaColumn =>
  ({ name, role, type: 'string', completeness: 1, categories: null, description: '' }) as SchemaColumn;
const schema = [column('nhs_number', 'direct_identifier'), column('age', 'quasi_identifier'), column('los', 'other')];
const request = (id: number, project: string, dataset: string, status: AccessRequest['status']): AccessRequest => ({
  id,
  project_id: project,
  dataset_id: dataset,
  requested_by: 'ann',
  columns: ['age'],
  justification: 'why',
  status,
  requested_at: '2026-12-01T10:00:00',
  decided_by: null,
  decided_at: null,
  reason: null,
  grant_id: null,
  expires: null
});

describe('request-access defaults minimise', () => {
  it('ticks no column at first, and "all but identifiers" leaves direct identifiers out', () => {
    expect(initialColumns(schema)).toEqual([]);
    expect(columnsWithoutIdentifiers(schema)).toEqual(['age', 'los']);
  });

  it('finds a grant or a pending request the project already has for the dataset', () => {
    const requests = [request(1, 'p1', 'd.x', 'approved'), request(2, 'p2', 'd.x', 'pending')];
    expect(heldGrant(requests, 'p1', 'd.x')?.id).toBe(1);
    expect(heldGrant(requests, 'p2', 'd.x')).toBeNull();
    expect(heldGrant(requests, 'p1', 'd.y')).toBeNull();
    expect(pendingTwin(requests, 'p2', 'd.x')?.id).toBe(2);
    expect(pendingTwin(requests, 'p1', 'd.x')).toBeNull();
  });

  it("leaves an admin's own requests out of those waiting for their decision", () => {
    const waiting = [request(1, 'p', 'd', 'pending'), request(2, 'p', 'd', 'pending')];
    expect(othersRequests(waiting, [request(2, 'p', 'd', 'pending')]).map(r => r.id)).toEqual([1]);
  });
});

describe('labels for codes, dates and facets', () => {
  it('writes classifications in words', () => {
    expect(codeLabel('TOP_SECRET')).toBe('Top secret');
    expect(codeLabel('NOT_APPLICABLE')).toBe('Not applicable');
    expect(codeLabel('OFFICIAL')).toBe('Official');
    expect(codeLabel('SOME_NEW_CODE')).toBe('Some new code');
    expect(codeLabel(null)).toBe('');
  });

  it('writes dates the GOV.UK way', () => {
    expect(formatDate('2027-03-31')).toBe('31 March 2027');
    expect(formatDate('2026-01-05T10:11:12.123456')).toBe('5 January 2026');
    expect(formatDate(null)).toBe('');
    expect(formatDate('soon')).toBe('soon');
    expect(formatDate('2027-13-01')).toBe('2027-13-01');
  });

  it('shows each filter value with its count', () => {
    const facets = [
      { label: 'TOP_SECRET', value: 'TOP_SECRET', count: 1234 },
      { label: 'DHSC', value: 'dhsc', count: 5 }
    ];
    expect(facetOptions(facets, codeLabel)).toEqual([
      ['TOP_SECRET', 'Top secret (1,234)'],
      ['dhsc', 'Dhsc (5)']
    ]);
    expect(facetOptions(facets)[1]).toEqual(['dhsc', 'DHSC (5)']);
    expect(facetOptions(undefined)).toEqual([]);
  });
});

describe('the usage report at 250 px', () => {
  it('puts the key grant columns first and writes expiry dates in words', () => {
    const [columns, rows] = sectionTable('grants', [
      { title: 'T', purpose: 'P', project_id: 'p1', expires: '2027-03-31', state: 'current', grant_id: 4 }
    ]);
    expect(columns.slice(0, 4)).toEqual(['project_id', 'state', 'expires', 'grant_id']);
    expect(columns).toHaveLength(6);
    expect(usageCell('expires', rows[0].expires)).toBe('31 March 2027');
  });
});
