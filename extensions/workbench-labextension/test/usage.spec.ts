import { UsageReport, WorkbenchApi } from '../src/api';
import { auditText, checkDatasetId, myDatasetsList, usageView } from '../src/usage-view';

describe('checkDatasetId', () => {
  it('takes a catalogue id and refuses anything else', () => {
    expect(checkDatasetId(' dhsc.hes_apc ')).toEqual({ ok: true, id: 'dhsc.hes_apc' });
    expect(checkDatasetId('')).toMatchObject({ ok: false });
    expect(checkDatasetId('../secrets')).toMatchObject({
      ok: false,
      error: expect.stringContaining('not a dataset id')
    });
    expect(checkDatasetId('DHSC.X')).toMatchObject({ ok: false });
  });
});

describe('usageView', () => {
  const report: UsageReport = {
    dataset_id: 'dhsc.hes_apc',
    owner: 'olu.owner',
    grants: [{ project_id: 'p', columns: ['a', 'b'], state: 'current' }],
    loads: [],
    derived: [],
    releases: [],
    privacy: [{ project_id: 'p', epsilon_spent: 0.5, budget: 2 }],
    outputs: [
      { project_id: 'p', output_id: 1, name: 'by region', provenance: 'computed', source: 'dhsc.hes_apc' },
      { project_id: 'p', output_id: 2, name: 'by sex', provenance: 'analyst-supplied', source: null }
    ],
    blocked: [{ project_id: 'p', username: 'ann', action: 'data.read_saved', reason: 'grant revoked' }]
  };

  it('shows each section, saying so when it is empty', () => {
    const node = usageView(report);
    expect(node.querySelector('h4')?.textContent).toBe('Usage of dhsc.hes_apc');
    expect(node.querySelector('table.wb-usage-grants')?.textContent).toContain('a, b');
    expect(node.querySelector('[data-section="loads"]')?.textContent).toContain('Nobody has loaded it');
    expect(node.querySelector('table.wb-usage-privacy')?.textContent).toContain('0.5');
    expect(node.querySelector('table.wb-usage-blocked')?.textContent).toContain('grant revoked');
  });

  it('lists the outputs made from the dataset with their provenance class', () => {
    const rows = usageView(report).querySelectorAll('table.wb-usage-outputs tbody tr');
    expect(rows).toHaveLength(2);
    expect(rows[0].textContent).toContain('Computed');
    expect(rows[1].textContent).toContain('Supplied by the analyst');
    expect(usageView({ ...report, outputs: [] }).querySelector('[data-section="outputs"]')?.textContent).toContain(
      'No output has been made from it'
    );
  });

  it('lists the versions of the data first, the current one marked, and loads by version', () => {
    const node = usageView({
      ...report,
      versions: [
        { version: 1, current: false, registered_at: '2026-11-02T09:00:00+00:00', rows: 100, loads: 3 },
        { version: 2, current: true, registered_at: '2026-12-07T09:00:00+00:00', rows: 120, loads: 1 }
      ],
      loads: [{ project_id: 'p', month: '2026-12', version: 2, loads: 1, rows: 120, people: 1 }]
    });
    expect(node.querySelector('h5')?.textContent).toBe('Versions of its data');
    const rows = node.querySelectorAll('table.wb-usage-versions tbody tr');
    expect(rows).toHaveLength(2);
    expect(rows[1].textContent).toContain('120');
    expect(node.querySelector('table.wb-usage-loads thead')?.textContent?.toLowerCase()).toContain('version');
    expect(usageView(report).querySelector('[data-section="versions"]')?.textContent).toContain(
      'No data has been registered for it'
    );
  });
});

describe('auditText', () => {
  it('says whether the chain is whole and where it broke', () => {
    expect(auditText({ ok: true, events: 1234, first_broken: null, reason: '' })).toContain('1,234 events');
    expect(
      auditText({ ok: false, events: 10, first_broken: 7, reason: 'its content does not match its hash' })
    ).toContain('event 7: its content');
  });
});

describe('the API calls of output checking, usage and audit', () => {
  it('sends decisions, conclusions and releases as JSON to their routes', async () => {
    const sent: { path: string; init: RequestInit }[] = [];
    const api = new WorkbenchApi(async (path, init) => {
      sent.push({ path, init });
      return { ok: true, status: 200, statusText: 'OK', json: async () => ({ requests: [] }) } as Response;
    });
    await api.reviewQueue();
    await api.reviewOutput(7, 3, 'changes', 'Merge the bands');
    await api.conclude(7, 'approve', null);
    await api.release(7);
    await api.manifest(7);
    await api.usage('dhsc.hes_apc');
    await api.verifyAudit();
    expect(sent.map(s => `${s.init.method ?? 'GET'} ${s.path}`)).toEqual([
      'GET review/queue',
      'POST review/requests/7/outputs/3/decision',
      'POST review/requests/7/conclusion',
      'POST review/requests/7/release',
      'GET review/requests/7/manifest',
      'GET owner/usage/dhsc.hes_apc',
      'GET admin/audit/verify'
    ]);
    expect(JSON.parse(sent[1].init.body as string)).toEqual({ decision: 'changes', comment: 'Merge the bands' });
  });

  it('turns a refusal into its message', async () => {
    const api = new WorkbenchApi(
      async () =>
        ({
          ok: false,
          status: 403,
          statusText: 'Forbidden',
          json: async () => ({ message: 'only output checkers review output requests', field: null })
        }) as Response
    );
    await expect(api.reviewQueue()).rejects.toMatchObject({
      status: 403,
      message: 'only output checkers review output requests'
    });
  });
});

describe('My datasets', () => {
  it('lists owned and delegated datasets, marking the delegated ones, and opens one on click', () => {
    const opened: string[] = [];
    const list = myDatasetsList(
      [
        { id: 'dhsc.hes_apc', title: 'Hospital episodes', role: 'owner' },
        { id: 'dwp.benefit_claims', title: 'Benefit claims', role: 'delegate' },
        { id: 'ons.lfs', title: 'Labour Force Survey', role: 'owner' }
      ],
      id => opened.push(id)
    );
    const items = Array.from(list.querySelectorAll('li'));
    expect(items.map(li => li.dataset.role)).toEqual(['owner', 'delegate', 'owner']);
    expect(items[1].textContent).toBe('Benefit claimsDelegate');
    expect(items[0].querySelector('.wb-delegate-tag')).toBeNull();
    (items[1].querySelector('button') as HTMLButtonElement).click();
    expect(opened).toEqual(['dwp.benefit_claims']);
  });
});
