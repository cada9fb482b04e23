/**
 * The Output checking main-area widget: the queue, then one request with its context (and, prominently, any
 * output a lapsed grant blocks) and, per output, first where its numbers came from (computed by the workbench
 * or an analyst-supplied frame), then the table as it will be released beside the unmitigated one with flagged
 * cells highlighted, its checks and checker aids, the reviews I may see and my decision
 * (approve / request changes / reject, with a comment); then conclude, release and the package. Every
 * decision is the server's: a refusal is shown as its message.
 */

import { Dialog, showDialog } from '@jupyterlab/apputils';
import { Widget } from '@lumino/widgets';

import {
  BlockedOutput,
  Outcome,
  OutputUnderReview,
  Release,
  RequestUnderReview,
  ReviewDecision,
  WorkbenchApi
} from './api';
import { checkLabel, checkSummary, codeLabel } from './labels';
import { packageDownload } from './my-outputs-panel';
import { errorText, h } from './render';
import {
  aidsText,
  asRelease,
  blockedList,
  checkConclusion,
  checkReview,
  Confirmation,
  conclusionConfirmation,
  DECISION_LABELS,
  decisionConfirmation,
  filePreviews,
  OUTCOME_LABELS,
  provenanceView,
  historyTable,
  queueTable,
  releaseConfirmation,
  releasedFields,
  releasedRequest,
  releasedTableOfRequests,
  releaseView,
  reviewsList,
  tablesSideBySide,
  textCheck
} from './review';

/** A status line that says what happened (or what was refused). */
function say(line: HTMLElement, text: string, ok: boolean): void {
  line.textContent = text;
  line.classList.remove('wb-error', 'wb-ok');
  line.classList.add(ok ? 'wb-ok' : 'wb-error');
}

/** Ask before an action that cannot be undone; true when the checker confirms. */
async function confirmed(question: Confirmation): Promise<boolean> {
  const result = await showDialog({
    title: question.title,
    body: question.body,
    buttons: [
      Dialog.cancelButton({ label: 'Cancel' }),
      question.warn ? Dialog.warnButton({ label: question.accept }) : Dialog.okButton({ label: question.accept })
    ]
  });
  return result.button.accept;
}

type Tab = 'queue' | 'released' | 'history';
const TABS: Record<Tab, string> = { queue: 'Queue', released: 'Released', history: 'History' };

const CONTEXT_LABELS: Record<string, string> = {
  shown: 'What is shown',
  population: 'Population',
  purpose: 'Purpose',
  differences: 'Differences from earlier releases'
};

export class OutputCheckingWidget extends Widget {
  private readonly statusLine: HTMLElement;
  private readonly queue: HTMLElement;
  private readonly released: HTMLElement;
  private readonly history: HTMLElement;
  private readonly tabs: Record<Tab, HTMLElement>;
  private readonly detail: HTMLElement;
  private current: number | null = null;

  constructor(private readonly api: WorkbenchApi) {
    super();
    this.id = 'workbench-output-checking';
    this.addClass('wb-panel');
    this.addClass('wb-checking');
    this.title.label = 'Output checking';
    this.title.caption = 'Workbench output checking';
    this.title.closable = true;
    const refresh = h('button', { type: 'button', class: 'wb-refresh jp-mod-styled' }, 'Refresh');
    refresh.addEventListener('click', () => void this.refresh());
    this.statusLine = h('div', { class: 'wb-status-line', role: 'status' });
    this.queue = h('section', { class: 'wb-queue-section wb-tab-panel', id: 'wb-checking-queue', role: 'tabpanel' });
    this.released = h('section', {
      class: 'wb-released-section wb-tab-panel',
      id: 'wb-checking-released',
      role: 'tabpanel',
      hidden: ''
    });
    this.history = h('section', {
      class: 'wb-history-section wb-tab-panel',
      id: 'wb-checking-history',
      role: 'tabpanel',
      hidden: ''
    });
    this.tabs = { queue: this.queue, released: this.released, history: this.history };
    const tabList = h('div', { class: 'wb-tabs', role: 'tablist', 'aria-label': 'Requests' });
    for (const [tab, label] of Object.entries(TABS) as [Tab, string][]) {
      const button = h(
        'button',
        {
          type: 'button',
          role: 'tab',
          class: `wb-tab wb-tab-${tab} jp-mod-styled`,
          'data-tab': tab,
          'aria-controls': this.tabs[tab].id,
          'aria-selected': String(tab === 'queue')
        },
        label
      );
      button.addEventListener('click', () => this.showTab(tab));
      tabList.append(button);
    }
    this.detail = h('section', { class: 'wb-review-detail', hidden: '' });
    this.node.append(
      h('div', { class: 'wb-header wb-row' }, h('h2', {}, 'Output checking'), refresh),
      this.statusLine,
      tabList,
      this.queue,
      this.released,
      this.history,
      this.detail
    );
    void this.refresh();
  }

  /** Show one of Queue, Released and History. */
  showTab(tab: Tab): void {
    for (const [name, panel] of Object.entries(this.tabs) as [Tab, HTMLElement][]) {
      panel.hidden = name !== tab;
      this.node.querySelector(`.wb-tab[data-tab='${name}']`)?.setAttribute('aria-selected', String(name === tab));
    }
  }

  async refresh(): Promise<void> {
    await Promise.all([this.loadQueue(), this.loadHistory()]);
    if (this.current !== null) {
      await this.open(this.current);
    }
  }

  /** Concluded requests: the Released tab keeps the released ones, History all of them. */
  async loadHistory(): Promise<void> {
    try {
      const rows = await this.api.reviewHistory();
      this.released.replaceChildren(releasedTableOfRequests(rows, id => void this.open(id)));
      this.history.replaceChildren(historyTable(rows, id => void this.open(id)));
    } catch (error) {
      this.released.replaceChildren(h('p', { class: 'wb-error' }, errorText(error)));
      this.history.replaceChildren(h('p', { class: 'wb-error' }, errorText(error)));
    }
  }

  async loadQueue(): Promise<void> {
    try {
      const rows = await this.api.reviewQueue();
      this.queue.replaceChildren(queueTable(rows, id => void this.open(id)));
    } catch (error) {
      this.queue.replaceChildren(h('p', { class: 'wb-error' }, errorText(error)));
    }
  }

  /** Show one request (the server audits that a checker opened it). */
  async open(requestId: number): Promise<void> {
    this.current = requestId;
    this.detail.hidden = false;
    try {
      const detail = await this.api.reviewRequest(requestId);
      let release: Release | null = null;
      if (detail.request.status === 'released') {
        release = asRelease(await this.api.manifest(requestId));
      }
      this.showDetail(detail, release);
    } catch (error) {
      this.detail.replaceChildren(h('p', { class: 'wb-error' }, errorText(error)));
    }
  }

  private showDetail(detail: RequestUnderReview, release: Release | null): void {
    const request = detail.request;
    const context = h('dl', { class: 'wb-facts wb-context' });
    for (const [key, value] of Object.entries(request.context)) {
      context.append(h('dt', {}, CONTEXT_LABELS[key] ?? key), h('dd', { 'data-context': key }, value));
    }
    const project = detail.project;
    this.detail.replaceChildren(
      h(
        'h3',
        { class: 'wb-request-title' },
        `${request.title} `,
        h('small', {}, `request ${request.id}`),
        ' ',
        h('span', { class: `wb-status wb-status-${request.status}` }, codeLabel(request.status))
      ),
      h(
        'p',
        { class: 'wb-result-meta' },
        `Project ${project.id}: ${project.title} (lead ${project.lead}, ${codeLabel(project.legal_gateway)}). ${project.purpose}`
      ),
      blockedList(detail.blocked) ?? '',
      context,
      textCheck(detail.text_check) ?? '',
      releasedRequest(detail.released) ?? '',
      request.conclusion
        ? h('p', { class: 'wb-conclusion' }, `Conclusion by ${request.concluded_by}: ${request.conclusion}`)
        : '',
      ...detail.outputs.map(output => this.outputCard(request.id, output, detail.reviews_required, detail.blocked)),
      this.conclusionSection(detail, release)
    );
  }

  private outputCard(
    requestId: number,
    output: OutputUnderReview,
    needed: number,
    blocked: BlockedOutput[] | undefined
  ): HTMLElement {
    const outcome = h('div', { class: 'wb-decision-result', role: 'status' });
    let form: HTMLElement;
    if (output.can_review) {
      const comment = h('textarea', {
        rows: '2',
        name: 'comment',
        class: 'wb-comment',
        placeholder: 'Comment (needed to ask for changes, and against the automatic result)',
        'aria-label': `Comment on output ${output.id}`
      }) as HTMLTextAreaElement;
      const buttons = (Object.keys(DECISION_LABELS) as ReviewDecision[]).map(decision => {
        const button = h(
          'button',
          { type: 'button', class: `wb-decide wb-decide-${decision} jp-mod-styled`, 'data-decision': decision },
          DECISION_LABELS[decision]
        );
        button.addEventListener('click', () => {
          const check = checkReview(decision, output.status, comment.value);
          if (!check.ok) {
            say(outcome, check.error, false);
            return;
          }
          buttons.forEach(b => b.setAttribute('disabled', ''));
          confirmed(decisionConfirmation(output.id, decision))
            .then(yes => {
              if (!yes) {
                say(outcome, `Your review of output ${output.id} is not sent: you cancelled.`, true);
                buttons.forEach(b => b.removeAttribute('disabled'));
                return;
              }
              return this.api
                .reviewOutput(requestId, output.id, check.value.decision, check.value.comment)
                .then(after => {
                  say(
                    this.statusLine,
                    `Your review of output ${output.id} is in; request ${requestId} is ${after.status.replace(/_/g, ' ')}.`,
                    true
                  );
                  return this.refresh();
                });
            })
            .catch(error => {
              say(outcome, errorText(error), false);
              buttons.forEach(b => b.removeAttribute('disabled'));
            });
        });
        return button;
      });
      form = h('div', { class: 'wb-review-form' }, comment, h('div', { class: 'wb-buttons' }, ...buttons), outcome);
    } else {
      form = h('p', { class: 'wb-note wb-why-not' }, `You cannot review this output now: ${output.why_not}.`);
    }
    return h(
      'article',
      { class: 'wb-output', 'data-output': String(output.id) },
      h(
        'h4',
        {},
        `Output ${output.id}: ${output.name} `,
        h('small', {}, `${output.kind}, ${output.method}, by ${output.author}`),
        ' ',
        h('span', { class: `wb-check wb-check-${output.status}` }, checkLabel(output.status))
      ),
      blockedList(blocked, output.id),
      provenanceView(output.provenance),
      h('p', { class: 'wb-summary' }, checkSummary(output.summary)),
      output.exception ? h('p', { class: 'wb-exception' }, `Exception requested: ${output.exception}`) : null,
      ...output.comments.map(c => h('p', { class: 'wb-comment-note' }, `Analyst's comment: ${c}`)),
      output.table ? tablesSideBySide(output.released_table, output.table) : null,
      output.files.length ? h('p', {}, `Files: ${output.files.join(', ')}`) : null,
      output.previews?.length ? filePreviews(output.previews) : null,
      output.aids ? h('p', { class: 'wb-aids' }, aidsText(output.aids)) : null,
      output.warnings.length
        ? h('ul', { class: 'wb-warnings' }, ...output.warnings.map(w => h('li', { class: 'wb-error' }, `⚠ ${w}`)))
        : null,
      h('details', { class: 'wb-explain' }, h('summary', {}, 'Checks in full'), h('pre', {}, output.explain)),
      textCheck(output.text_check),
      releasedFields(output.released),
      h(
        'p',
        { class: 'wb-lineage wb-note' },
        `From ${output.sources.join(', ') || 'no catalogue dataset'}${output.derived_from.length ? `; derived from ${output.derived_from.join(', ')}` : ''}. Round ${output.round}.`
      ),
      reviewsList(output, needed),
      form
    );
  }

  private conclusionSection(detail: RequestUnderReview, release: Release | null): HTMLElement {
    const request = detail.request;
    const outcome = h('div', { class: 'wb-conclude-result', role: 'status' });
    const section = h('section', { class: 'wb-conclude' }, h('h3', {}, 'Conclusion and release'));
    if (request.status === 'reviewed') {
      const comment = h('textarea', {
        rows: '2',
        class: 'wb-conclude-comment',
        placeholder: 'Comment for the analyst (needed to return or reject)',
        'aria-label': 'Conclusion comment'
      }) as HTMLTextAreaElement;
      const buttons = (Object.keys(OUTCOME_LABELS) as Outcome[]).map(choice => {
        const button = h(
          'button',
          { type: 'button', class: `wb-conclude-${choice} jp-mod-styled`, 'data-outcome': choice },
          OUTCOME_LABELS[choice]
        );
        button.addEventListener('click', () => {
          const check = checkConclusion(choice, comment.value);
          if (!check.ok) {
            say(outcome, check.error, false);
            return;
          }
          confirmed(conclusionConfirmation(request.id, choice))
            .then(yes => {
              if (!yes) {
                say(outcome, `Request ${request.id} is not concluded: you cancelled.`, true);
                return;
              }
              return this.api.conclude(request.id, check.value.outcome, check.value.comment).then(after => {
                say(this.statusLine, `Request ${request.id} is ${after.status}.`, true);
                return this.refresh();
              });
            })
            .catch(error => say(outcome, errorText(error), false));
        });
        return button;
      });
      section.append(comment, h('div', { class: 'wb-buttons' }, ...buttons));
    } else if (request.status === 'approved') {
      const button = h('button', { type: 'button', class: 'wb-release-button jp-mod-styled jp-mod-accept' }, 'Release');
      button.addEventListener('click', () => {
        button.setAttribute('disabled', '');
        confirmed(releaseConfirmation(request.id, request.title, detail.outputs.length))
          .then(yes => {
            if (!yes) {
              say(outcome, `Request ${request.id} is not released: you cancelled. It stays approved.`, true);
              button.removeAttribute('disabled');
              return;
            }
            outcome.textContent = 'Writing the package…';
            return this.api.release(request.id).then(released => {
              say(this.statusLine, `Request ${request.id} released to ${released.package}.`, true);
              return this.refresh(); // shown again as released, with the package read back from its manifest
            });
          })
          .catch(error => {
            say(outcome, errorText(error), false);
            button.removeAttribute('disabled');
          });
      });
      section.append(h('p', {}, 'Approved: every review approved. Releasing writes the checksummed package.'), button);
    } else if (release) {
      section.append(releaseView(release), packageDownload(request.id, this.api));
    } else {
      section.append(
        h(
          'p',
          { class: 'wb-note' },
          `The request is ${request.status.replace(/_/g, ' ')}: it is concluded once every output has its ${detail.reviews_required} reviews.`
        )
      );
    }
    section.append(outcome);
    return section;
  }
}
