import { Project } from '../src/api';
import { checkDecision, checkRequestForm, debounce, requestableProjects } from '../src/form';

function project(id: string, my_role: string | null, status = 'active'): Project {
  return { id, title: id, mission: 1, status, lead: 'x', legal_gateway: 'g', start_date: '', end_date: '', my_role };
}

describe('requestableProjects', () => {
  it('keeps open projects where the person leads or analyses', () => {
    const projects = [
      project('lead-active', 'lead'),
      project('analyst-proposed', 'analyst', 'proposed'),
      project('reviewer', 'reviewer'),
      project('not-member', null),
      project('closed', 'analyst', 'closed'),
      project('suspended', 'lead', 'suspended')
    ];
    expect(requestableProjects(projects).map(p => p.id)).toEqual(['lead-active', 'analyst-proposed']);
  });
});

describe('checkRequestForm', () => {
  const base = {
    projectId: 'p1',
    datasetId: 'd.x',
    allColumns: ['a', 'b', 'c'],
    chosen: ['a', 'b', 'c'],
    justification: ' Why '
  };

  it('asks for every column as null and trims the justification', () => {
    expect(checkRequestForm(base)).toEqual({
      ok: true,
      request: { project_id: 'p1', dataset_id: 'd.x', columns: null, justification: 'Why' }
    });
  });

  it('lists some columns in schema order', () => {
    const check = checkRequestForm({ ...base, chosen: ['c', 'a'] });
    expect(check.ok && check.request.columns).toEqual(['a', 'c']);
  });

  it('names every missing field at once', () => {
    const check = checkRequestForm({ ...base, projectId: '', chosen: [], justification: '  ' });
    expect(check.ok).toBe(false);
    expect(!check.ok && Object.keys(check.errors).sort()).toEqual(['columns', 'justification', 'project_id']);
  });

  it('refuses columns the dataset does not have', () => {
    const check = checkRequestForm({ ...base, chosen: ['a', 'zz'] });
    expect(!check.ok && check.errors.columns).toContain('zz');
  });
});

describe('debounce', () => {
  it('calls once with the last arguments after the pause', () => {
    jest.useFakeTimers();
    const seen: number[] = [];
    const later = debounce((n: number) => seen.push(n), 100);
    later(1);
    later(2);
    jest.advanceTimersByTime(99);
    expect(seen).toEqual([]);
    later(3);
    jest.advanceTimersByTime(100);
    expect(seen).toEqual([3]);
    jest.useRealTimers();
  });
});

describe('checkDecision', () => {
  const base = {
    decision: 'approve' as const,
    requested: ['a', 'b'],
    chosen: ['a', 'b'],
    expires: '',
    conditions: ' c ',
    reason: ''
  };

  it('approves as requested with null columns and expiry', () => {
    expect(checkDecision(base)).toEqual({
      ok: true,
      decision: {
        decision: 'approve',
        columns: null,
        identifiers: [],
        linkage: [],
        expires: null,
        conditions: 'c',
        reason: null
      }
    });
  });

  it('approves fewer columns until a date', () => {
    const check = checkDecision({ ...base, chosen: ['b'], expires: '2027-01-31' });
    expect(check.ok && check.decision).toMatchObject({ columns: ['b'], expires: '2027-01-31' });
  });

  it('needs a column to approve and a reason to refuse', () => {
    expect(checkDecision({ ...base, chosen: [] })).toMatchObject({
      ok: false,
      errors: { columns: expect.any(String) }
    });
    expect(checkDecision({ ...base, decision: 'refuse' })).toMatchObject({
      ok: false,
      errors: { reason: expect.any(String) }
    });
    expect(checkDecision({ ...base, decision: 'refuse', reason: ' No ' })).toEqual({
      ok: true,
      decision: { decision: 'refuse', reason: 'No' }
    });
  });

  it('refuses an expiry that is not a date', () => {
    expect(checkDecision({ ...base, expires: 'soon' })).toMatchObject({
      ok: false,
      errors: { expires: expect.any(String) }
    });
  });

  const roles = { a: 'direct_identifier', b: 'quasi_identifier' };

  it('sends ticked direct identifiers and linkage columns in the requested order', () => {
    const check = checkDecision({ ...base, roles, identifiers: ['a'], linkage: ['b', 'a'] });
    expect(check.ok && check.decision).toMatchObject({ identifiers: ['a'], linkage: ['a', 'b'] });
  });

  it('offers identifiers only for requested direct identifiers that are granted', () => {
    expect(checkDecision({ ...base, roles, identifiers: ['b'] })).toMatchObject({
      ok: false,
      errors: { identifiers: expect.stringContaining('b') }
    });
    expect(checkDecision({ ...base, roles, identifiers: ['z'] })).toMatchObject({
      ok: false,
      errors: { identifiers: expect.stringContaining('z') }
    });
    expect(checkDecision({ ...base, roles, chosen: ['b'], identifiers: ['a'] })).toMatchObject({
      ok: false,
      errors: { identifiers: expect.stringContaining('grant') }
    });
  });

  it('allows linkage only on requested columns, granted or not', () => {
    expect(checkDecision({ ...base, chosen: ['b'], linkage: ['a'] })).toMatchObject({
      ok: true,
      decision: { columns: ['b'], linkage: ['a'] }
    });
    expect(checkDecision({ ...base, linkage: ['c'] })).toMatchObject({
      ok: false,
      errors: { linkage: expect.stringContaining('c') }
    });
  });
});
