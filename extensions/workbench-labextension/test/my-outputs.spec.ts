import { dispositionName, MyOutputRequest, Transport, WorkbenchApi } from '../src/api';
import {
  formatBytes,
  formatDate,
  nextStep,
  packageDownload,
  requestCard,
  reviewText,
  statusLabel
} from '../src/my-outputs-panel';

const released: MyOutputRequest = {
  id: 7,
  project_id: 'p-alpha',
  title: 'Admissions',
  status: 'released',
  context: { shown: 'Admissions by age band' },
  created_by: 'ann.analyst',
  created_at: '2027-03-01T09:00:00.123456+00:00',
  submitted_at: '2027-03-02T09:00:00+00:00',
  concluded_by: 'eve.checker',
  concluded_at: '2027-03-30T09:00:00+00:00',
  conclusion: null,
  released_by: 'eve.checker',
  released_at: '2027-03-31T10:00:00+00:00',
  outputs: [{ id: 1, name: 'by age and stay', kind: 'table', status: 'pass', round: 1 }],
  reviews: [
    {
      output_id: 1,
      round: 1,
      reviewer: 'chris.checker',
      decision: 'approve',
      comment: 'As published',
      created_at: '2027-03-03T00:00:00+00:00'
    }
  ],
  files: [
    { name: 'manifest.json', bytes: 4321, sha256: 'a' },
    { name: 'p-alpha_1.csv', bytes: 812, sha256: 'b' }
  ]
};

describe('formatting', () => {
  it('writes dates, sizes, statuses and reviews for people', () => {
    expect(formatDate('2027-03-31T10:00:00.123456+00:00')).toBe('31 March 2027');
    expect(formatDate(null)).toBe('');
    expect(formatDate('NaT')).toBe('');
    expect(formatBytes(812)).toBe('812 bytes');
    expect(formatBytes(1)).toBe('1 byte');
    expect(formatBytes(345272)).toBe('337 KB');
    expect(formatBytes(5 * 1024 * 1024)).toBe('5 MB');
    expect(statusLabel('partially_reviewed')).toBe('Being checked');
    expect(statusLabel('something_new')).toBe('something new');
    expect(reviewText(released.reviews[0])).toBe('chris.checker approved output 1: As published');
    expect(nextStep({ ...released, status: 'returned' })).toContain('submit it again');
  });
});

describe('requestCard', () => {
  it('shows a released request with its package and files to download', async () => {
    const asked: (string | undefined)[] = [];
    const card = requestCard(released, async (_id, file) => {
      asked.push(file);
    });
    expect(card.querySelector('.wb-status')!.textContent).toBe('Released');
    expect(card.textContent).toContain('released 31 March 2027');
    expect(card.querySelector('.wb-my-reviews')!.textContent).toContain('chris.checker approved output 1');
    const links = Array.from(card.querySelectorAll('a.wb-file-link')).map(a => a.textContent);
    expect(links).toEqual(['manifest.json', 'p-alpha_1.csv']);
    expect(card.textContent).toContain('(812 bytes)');
    (card.querySelector('button.wb-download-package') as HTMLButtonElement).click();
    (card.querySelectorAll('a.wb-file-link')[1] as HTMLAnchorElement).click();
    expect(asked).toEqual([undefined, 'p-alpha_1.csv']);
  });

  it('offers no download before release, and shows a refused download as its message', async () => {
    const draft = requestCard({ ...released, status: 'submitted', files: [], reviews: [] }, async () => undefined);
    expect(draft.querySelector('.wb-download-package')).toBeNull();
    expect(draft.querySelector('.wb-my-reviews')).toBeNull();
    const card = requestCard(released, async () => {
      throw new Error('refused');
    });
    (card.querySelector('button.wb-download-package') as HTMLButtonElement).click();
    await new Promise(resolve => setTimeout(resolve, 0));
    expect(card.querySelector('.wb-download-result')!.classList.contains('wb-error')).toBe(true);
  });
});

describe('WorkbenchApi downloads', () => {
  it('asks for the package path with the file name encoded, and names the file from the server', async () => {
    const paths: string[] = [];
    const transport: Transport = async path => {
      paths.push(path);
      return {
        ok: true,
        status: 200,
        headers: { get: () => 'attachment; filename="p-alpha-request-7.zip"' },
        blob: async () => new Blob(['zip'])
      } as unknown as Response;
    };
    const api = new WorkbenchApi(transport);
    expect((await api.download(7)).name).toBe('p-alpha-request-7.zip');
    await api.download(7, '../a b.csv');
    expect(paths).toEqual(['output-requests/7/package', 'output-requests/7/package/..%2Fa%20b.csv']);
    expect(dispositionName(null, 'x.csv')).toBe('x.csv');
  });

  it('turns a refusal into the server message', async () => {
    const transport: Transport = async () =>
      ({
        ok: false,
        status: 403,
        statusText: 'Forbidden',
        json: async () => ({ message: 'goes only to the project', field: null })
      }) as Response;
    await expect(new WorkbenchApi(transport).download(7)).rejects.toMatchObject({
      status: 403,
      message: 'goes only to the project'
    });
  });
});

describe('packageDownload', () => {
  it("shows a refused download in the checker's release view as the server's message", async () => {
    const transport: Transport = async () =>
      ({
        ok: false,
        status: 409,
        statusText: 'Conflict',
        json: async () => ({ message: 'no longer matches its manifest', field: null })
      }) as Response;
    const view = packageDownload(7, new WorkbenchApi(transport));
    (view.querySelector('button.wb-download-package') as HTMLButtonElement).click();
    await new Promise(resolve => setTimeout(resolve, 0));
    expect(view.querySelector('.wb-download-result')!.textContent).toBe('no longer matches its manifest');
  });
});
