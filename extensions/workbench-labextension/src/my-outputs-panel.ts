/**
 * The My outputs side panel: an analyst follows the output requests of their projects (where each is, the
 * checkers' reviews once the project may see them, the conclusion) and collects what was released — the whole
 * package as a zip, or any of its files. The server decides who may download; a refusal is shown as its message.
 */

import { Widget } from '@lumino/widgets';

import { DownloadedFile, MyOutputRequest, OutputReview, WorkbenchApi } from './api';
import { errorText, h } from './render';

/** What each status means to the analyst who made the request. */
export const STATUS_LABELS: Record<string, string> = {
  draft: 'Draft',
  submitted: 'Submitted',
  partially_reviewed: 'Being checked',
  reviewed: 'Checked, awaiting a conclusion',
  approved: 'Approved, awaiting release',
  returned: 'Returned for changes',
  rejected: 'Rejected',
  withdrawn: 'Withdrawn',
  released: 'Released'
};

const DECISIONS: Record<string, string> = {
  approve: 'approved',
  changes: 'asked for changes',
  reject: 'rejected'
};

const KINDS: Record<string, string> = {
  table: 'table',
  regression: 'regression',
  dp: 'differentially private result',
  figure: 'figure',
  file: 'file'
};

const CHECKS: Record<string, string> = { pass: 'passes', fail: 'fails', review: 'needs review' };

export function statusLabel(status: string): string {
  return STATUS_LABELS[status] ?? status.replace(/_/g, ' ');
}

/** An ISO timestamp as GOV.UK writes dates: "31 March 2027"; empty or unreadable → "". */
export function formatDate(value: string | null | undefined): string {
  if (!value) {
    return '';
  }
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) {
    return '';
  }
  return date.toLocaleDateString('en-GB', { day: 'numeric', month: 'long', year: 'numeric', timeZone: 'UTC' });
}

/** 345272 → "337 KB"; under a kilobyte in bytes ("812 bytes"); null → "". */
export function formatBytes(bytes: number | null | undefined): string {
  if (bytes === null || bytes === undefined) {
    return '';
  }
  if (bytes < 1024) {
    return `${bytes.toLocaleString('en-GB')} ${bytes === 1 ? 'byte' : 'bytes'}`;
  }
  if (bytes < 1024 * 1024) {
    return `${Math.round(bytes / 1024).toLocaleString('en-GB')} KB`;
  }
  return `${(bytes / (1024 * 1024)).toLocaleString('en-GB', { maximumFractionDigits: 1 })} MB`;
}

/** One review as a sentence: "chris.checker approved output 1: Age band level". */
export function reviewText(review: OutputReview): string {
  const decision = DECISIONS[review.decision] ?? review.decision;
  return `${review.reviewer} ${decision} output ${review.output_id}${review.comment ? `: ${review.comment}` : ''}`;
}

/** What the request's state asks of the analyst next (or says what happens next). */
export function nextStep(request: MyOutputRequest): string {
  switch (request.status) {
    case 'draft':
      return 'Not sent yet: submit it for checking when its context is complete.';
    case 'submitted':
    case 'partially_reviewed':
      return 'Output checkers outside the project are reviewing it; their reviews show here once they are all in.';
    case 'reviewed':
      return 'Every output has its reviews; a checker concludes the request next.';
    case 'approved':
      return 'Approved: a checker releases it next, and the package will be here to download.';
    case 'returned':
      return 'Returned: change what the checkers asked for, then submit it again.';
    case 'released':
      return 'Released: download the package, or any of its files.';
    default:
      return '';
  }
}

type Download = (requestId: number, file?: string) => Promise<void>;

/** One request as a card: title, status, outputs, reviews I may see, conclusion, and the package once released. */
export function requestCard(request: MyOutputRequest, download: Download): HTMLElement {
  const outcome = h('p', { class: 'wb-download-result', role: 'status' });
  const save = (file?: string) => {
    outcome.textContent = '';
    outcome.classList.remove('wb-error');
    download(request.id, file).catch(error => {
      outcome.textContent = errorText(error);
      outcome.classList.add('wb-error');
    });
  };
  const when =
    request.status === 'released'
      ? `released ${formatDate(request.released_at)}`
      : request.submitted_at
        ? `submitted ${formatDate(request.submitted_at)}`
        : `created ${formatDate(request.created_at)}`;
  let released: HTMLElement | null = null;
  if (request.status === 'released') {
    const zip = h(
      'button',
      { type: 'button', class: 'wb-download-package jp-mod-styled jp-mod-accept' },
      'Download package (zip)'
    );
    zip.addEventListener('click', () => save());
    released = h(
      'section',
      { class: 'wb-package-files' },
      h('p', { class: 'wb-note' }, `Released by ${request.released_by ?? 'an output checker'}.`),
      zip,
      h(
        'ul',
        { class: 'wb-files' },
        ...request.files.map(file => {
          const link = h(
            'a',
            { href: '#', class: 'wb-file-link', 'data-file': file.name, title: `Download ${file.name}` },
            file.name
          );
          link.addEventListener('click', event => {
            event.preventDefault();
            save(file.name);
          });
          return h('li', {}, link, file.bytes === null ? '' : ` (${formatBytes(file.bytes)})`);
        })
      )
    );
  }
  return h(
    'article',
    { class: 'wb-my-output', 'data-request': String(request.id), 'data-status': request.status },
    h('div', { class: 'wb-result-title' }, request.title),
    h(
      'div',
      { class: 'wb-result-meta' },
      h('span', { class: `wb-status wb-status-${request.status}` }, statusLabel(request.status)),
      ` Request ${request.id}, ${request.project_id}, ${when}`
    ),
    h('p', { class: 'wb-note wb-next-step' }, nextStep(request)),
    h(
      'ul',
      { class: 'wb-my-output-list' },
      ...request.outputs.map(o =>
        h(
          'li',
          { 'data-output': String(o.id) },
          `${o.name} (${KINDS[o.kind] ?? o.kind}; automatic check ${CHECKS[o.status] ?? o.status})`
        )
      )
    ),
    request.reviews.length
      ? h(
          'details',
          { class: 'wb-my-reviews' },
          h('summary', {}, `Checkers' reviews (${request.reviews.length})`),
          h('ul', {}, ...request.reviews.map(r => h('li', {}, reviewText(r))))
        )
      : null,
    request.conclusion
      ? h('p', { class: 'wb-conclusion' }, `Conclusion by ${request.concluded_by}: ${request.conclusion}`)
      : null,
    released,
    outcome
  );
}

/** Save a downloaded file in the browser (an object URL clicked with the download attribute). */
export function saveFile(file: DownloadedFile): void {
  const url = URL.createObjectURL(file.blob);
  const anchor = h('a', { href: url, download: file.name, hidden: '' });
  document.body.append(anchor);
  anchor.click();
  anchor.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

/** A "Download package (zip)" button for a released request, with its outcome line (the checker's release view). */
export function packageDownload(requestId: number, api: WorkbenchApi): HTMLElement {
  const outcome = h('p', { class: 'wb-download-result', role: 'status' });
  const button = h(
    'button',
    { type: 'button', class: 'wb-download-package jp-mod-styled', 'data-request': String(requestId) },
    'Download package (zip)'
  );
  button.addEventListener('click', () => {
    outcome.textContent = '';
    outcome.classList.remove('wb-error');
    api
      .download(requestId)
      .then(saveFile)
      .catch(error => {
        outcome.textContent = errorText(error);
        outcome.classList.add('wb-error');
      });
  });
  return h('div', { class: 'wb-package-download' }, button, outcome);
}

export class MyOutputsPanel extends Widget {
  private readonly body: HTMLElement;

  constructor(private readonly api: WorkbenchApi) {
    super();
    this.id = 'workbench-my-outputs';
    this.addClass('wb-panel');
    this.addClass('wb-my-outputs');
    this.title.caption = 'My outputs';
    const refresh = h('button', { type: 'button', class: 'wb-refresh jp-mod-styled', title: 'Refresh' }, 'Refresh');
    refresh.addEventListener('click', () => void this.refresh());
    this.body = h('div', { class: 'wb-my-outputs-body' });
    this.node.append(
      h('div', { class: 'wb-header' }, h('h2', {}, 'My outputs'), refresh),
      h(
        'p',
        { class: 'wb-note' },
        "Your projects' output requests: where each is, the checkers' reviews, and what was released."
      ),
      this.body
    );
    void this.refresh();
  }

  async refresh(): Promise<void> {
    try {
      const requests = await this.api.myOutputRequests();
      this.body.replaceChildren(
        requests.length
          ? h('div', { class: 'wb-my-output-cards' }, ...requests.map(r => requestCard(r, this.download)))
          : h(
              'p',
              { class: 'wb-note' },
              'Your projects have no output requests yet. Record outputs in a notebook and submit them for checking; they will show here.'
            )
      );
    } catch (error) {
      this.body.replaceChildren(h('p', { class: 'wb-error' }, errorText(error)));
    }
  }

  private readonly download: Download = async (requestId, file) => {
    saveFile(await this.api.download(requestId, file));
  };
}
