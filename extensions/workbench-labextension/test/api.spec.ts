import { ApiError, searchParams, Transport, WorkbenchApi } from '../src/api';

type Sent = { path: string; init: RequestInit };

function fake(status: number, body: unknown, sent: Sent[] = []): Transport {
  return async (path, init) => {
    sent.push({ path, init });
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    return {
      ok: status >= 200 && status < 300,
      status,
      statusText: 'Status',
      json: async () => JSON.parse(text)
    } as Response;
  };
}

describe('searchParams', () => {
  it('leaves out empty values and keeps a stable order', () => {
    expect(searchParams({ q: ' hospital ', department: '', mission: 5, classification: 'OFFICIAL' })).toBe(
      '?q=hospital&mission=5&classification=OFFICIAL'
    );
  });
  it('is empty when nothing is given', () => {
    expect(searchParams({ q: '  ', mission: null })).toBe('');
  });
  it('sends a page offset only past the first page', () => {
    expect(searchParams({ q: 'x', limit: 50, offset: 0 })).toBe('?q=x&limit=50');
    expect(searchParams({ q: 'x', limit: 50, offset: 100 })).toBe('?q=x&limit=50&offset=100');
  });
  it('encodes what the user typed', () => {
    expect(searchParams({ q: 'a&b=c' })).toBe('?q=a%26b%3Dc');
  });
});

describe('WorkbenchApi', () => {
  it('searches and returns the page with the total', async () => {
    const sent: Sent[] = [];
    const api = new WorkbenchApi(
      fake(200, { results: [{ id: 'dhsc.hes_apc' }], total: 61, offset: 50, limit: 50 }, sent)
    );
    const page = await api.search({ q: 'hospital', limit: 50, offset: 50 });
    expect(page.results.map(r => r.id)).toEqual(['dhsc.hes_apc']);
    expect([page.total, page.offset, page.limit]).toEqual([61, 50, 50]);
    expect(sent[0].path).toBe('catalogue?q=hospital&limit=50&offset=50');
  });

  it('escapes dataset ids in paths', async () => {
    const sent: Sent[] = [];
    await new WorkbenchApi(fake(200, {}, sent)).entry('../x');
    expect(sent[0].path).toBe('catalogue/..%2Fx');
  });

  it('posts access requests as JSON', async () => {
    const sent: Sent[] = [];
    const api = new WorkbenchApi(fake(201, { id: 7, status: 'pending' }, sent));
    const request = { project_id: 'p', dataset_id: 'd.x', columns: null, justification: 'Why' };
    const made = await api.requestAccess(request);
    expect(made.id).toBe(7);
    expect(sent[0].path).toBe('requests');
    expect(sent[0].init.method).toBe('POST');
    expect(JSON.parse(sent[0].init.body as string)).toEqual(request);
  });

  it("turns refusals into ApiErrors carrying the server's message and field", async () => {
    const api = new WorkbenchApi(fake(403, { message: 'ann may not request dhsc.x: not a member', field: null }));
    await expect(api.myRequests()).rejects.toMatchObject({
      name: 'ApiError',
      status: 403,
      message: 'ann may not request dhsc.x: not a member',
      field: null
    });
    const invalid = new WorkbenchApi(fake(400, { message: 'columns: give a list', field: 'columns' }));
    await expect(invalid.projects()).rejects.toMatchObject({ status: 400, field: 'columns' });
  });

  it('keeps the status line when the error body is not JSON', async () => {
    const api = new WorkbenchApi(fake(502, '<html>Bad gateway</html>'));
    const error = await api.projects().catch(e => e);
    expect(error).toBeInstanceOf(ApiError);
    expect(error.message).toContain('502');
  });

  it('reports an unreachable server', async () => {
    const api = new WorkbenchApi(async () => {
      throw new Error('connection refused');
    });
    await expect(api.search({})).rejects.toMatchObject({
      status: 0,
      message: expect.stringContaining('connection refused')
    });
  });
});

describe('owner decisions', () => {
  it('lists requests to decide and posts a decision', async () => {
    const sent: Sent[] = [];
    const api = new WorkbenchApi(fake(200, { requests: [{ id: 3 }] }, sent));
    expect((await api.toDecide()).map(r => r.id)).toEqual([3]);
    const decider = new WorkbenchApi(fake(200, { id: 3, status: 'approved' }, sent));
    await decider.decide(3, { decision: 'approve', columns: ['a'] });
    expect(sent[1].path).toBe('requests/3/decision');
    expect(JSON.parse(sent[1].init.body as string)).toEqual({ decision: 'approve', columns: ['a'] });
  });
});
