/**
 * The Access requests side panel: the requests waiting for my decision (owners, delegates, admins), with the
 * columns to grant, and where my own requests are. Every decision is the server's: a refusal is shown as its
 * message.
 */

import { Dialog, showDialog } from '@jupyterlab/apputils';
import { Widget } from '@lumino/widgets';

import { AccessRequest, ApiError, WorkbenchApi } from './api';
import { checkDecision, formatDate, othersRequests } from './form';
import { errorText, formPassed, h, recordsTable, requestsTable } from './render';

/** Access requests: those waiting for my decision (owners, delegates, admins) and where mine are. */
export class RequestsPanel extends Widget {
  private readonly waiting: HTMLElement;
  private readonly body: HTMLElement;
  private readonly history: HTMLElement;

  constructor(private readonly api: WorkbenchApi) {
    super();
    this.id = 'workbench-requests';
    this.addClass('wb-panel');
    this.title.caption = 'Access requests';
    const refresh = h('button', { type: 'button', class: 'wb-refresh', title: 'Refresh' }, 'Refresh');
    refresh.addEventListener('click', () => void this.refresh());
    this.waiting = h('section', { class: 'wb-to-decide', hidden: '' });
    this.body = h('div', { class: 'wb-requests-body' });
    this.history = h('details', { class: 'wb-decision-history', hidden: '' });
    this.node.append(
      h('div', { class: 'wb-header' }, h('h2', {}, 'Access requests'), refresh),
      this.waiting,
      this.history,
      h('h3', {}, 'My requests'),
      this.body
    );
    void this.refresh();
  }

  async refresh(): Promise<void> {
    await Promise.all([this.refreshMine(), this.refreshWaiting(), this.refreshHistory()]);
  }

  private async refreshMine(): Promise<void> {
    try {
      this.body.replaceChildren(requestsTable(await this.api.myRequests()));
    } catch (error) {
      this.body.replaceChildren(h('p', { class: 'wb-error' }, errorText(error)));
    }
  }

  /** Owners see what waits for them; for anyone else the server refuses (403) and the section stays hidden. */
  private async refreshWaiting(): Promise<void> {
    let waiting: AccessRequest[];
    let elsewhere = 0;
    try {
      const [pending, mine] = await Promise.all([
        this.api.toDecide(),
        this.api.myRequests().catch(() => [] as AccessRequest[])
      ]);
      // my own requests, and my projects', are decided by someone else (separation of duties)
      waiting = othersRequests(pending, mine);
      elsewhere = pending.length - waiting.length;
    } catch (error) {
      const refused = error instanceof ApiError && error.status === 403;
      this.waiting.hidden = refused;
      this.waiting.replaceChildren(refused ? '' : h('p', { class: 'wb-error' }, errorText(error)));
      return;
    }
    this.waiting.hidden = false;
    this.waiting.replaceChildren(
      h('h3', {}, 'Waiting for my decision'),
      waiting.length
        ? h(
            'div',
            {},
            ...(await Promise.all(
              waiting.map(async r => this.decisionCard(r, await this.columnRoles(r.dataset_id), await this.heldBy(r)))
            ))
          )
        : h('p', { class: 'wb-note' }, 'Nothing waits for your decision.'),
      elsewhere
        ? h(
            'p',
            { class: 'wb-note wb-decided-elsewhere' },
            `${elsewhere.toLocaleString('en-GB')} request${elsewhere === 1 ? '' : 's'} from you or your projects ${elsewhere === 1 ? 'waits' : 'wait'} for another owner, delegate or admin: see My requests.`
          )
        : ''
    );
  }

  /** The decided requests on my datasets, newest first: who decided what, when and why. */
  private async refreshHistory(): Promise<void> {
    let all: AccessRequest[];
    try {
      all = await this.api.toDecide('all');
    } catch {
      this.history.hidden = true;
      return;
    }
    const decided = all
      .filter(r => r.status !== 'pending')
      .sort((a, b) => (b.decided_at ?? '').localeCompare(a.decided_at ?? ''));
    const rows = decided.map(r => ({
      Request: r.id,
      Dataset: r.dataset_id,
      Project: r.project_id,
      Decision: r.status.charAt(0).toUpperCase() + r.status.slice(1),
      By: r.decided_by ?? '',
      On: formatDate(r.decided_at),
      Expires: formatDate(r.expires),
      Reason: r.reason ?? ''
    }));
    this.history.hidden = false;
    this.history.replaceChildren(
      h('summary', {}, `History of decisions (${decided.length.toLocaleString('en-GB')})`),
      rows.length
        ? h(
            'div',
            { class: 'wb-scroll' },
            recordsTable(
              ['Request', 'Decision', 'Dataset', 'Project', 'By', 'On', 'Expires', 'Reason'],
              rows,
              'wb-history-table'
            )
          )
        : h('p', { class: 'wb-note' }, 'No request on your datasets has been decided yet.')
    );
  }

  /** The current grant of the request's project for its dataset, from the dataset's usage report (or null). */
  private async heldBy(request: AccessRequest): Promise<Record<string, unknown> | null> {
    try {
      const usage = await this.api.usage(request.dataset_id);
      return (
        usage.grants.find(
          g => g.project_id === request.project_id && (g.state === undefined || g.state === 'current')
        ) ?? null
      );
    } catch {
      return null;
    }
  }

  private roles = new Map<string, Promise<Record<string, string>>>();

  /** The disclosure role of each column of a dataset (from its catalogue entry; empty if it cannot be read). */
  private columnRoles(datasetId: string): Promise<Record<string, string>> {
    let found = this.roles.get(datasetId);
    if (!found) {
      found = this.api
        .entry(datasetId)
        .then(entry => Object.fromEntries(entry.schema.map(c => [c.name, c.role])))
        .catch(() => ({}));
      this.roles.set(datasetId, found);
    }
    return found;
  }

  private decisionCard(
    request: AccessRequest,
    roles: Record<string, string>,
    held: Record<string, unknown> | null = null
  ): HTMLElement {
    const tick = (name: string, value: string, checked: boolean, label: string) => {
      const box = h('input', { type: 'checkbox', name, value, 'aria-label': label, title: label }) as HTMLInputElement;
      box.checked = checked;
      return box;
    };
    const rows = request.columns.map(column => ({
      column,
      grant: tick('column', column, true, `Grant ${column}`),
      identifier:
        roles[column] === 'direct_identifier'
          ? tick('identifier', column, false, `Grant ${column} as a direct identifier`)
          : null,
      linkage: tick('linkage', column, false, `Let the linkage read ${column} for the project`)
    }));
    const boxes = rows.map(r => r.grant);
    const expires = h('input', {
      type: 'date',
      name: 'expires',
      'aria-label': 'Expires',
      'aria-describedby': `wb-expires-${request.id}`,
      title: 'Empty: the project end'
    }) as HTMLInputElement;
    const expiresLabel = h(
      'span',
      { class: 'wb-expires-label', id: `wb-expires-${request.id}` },
      'Until the project ends'
    );
    expires.addEventListener('input', () => {
      expiresLabel.textContent = expires.value ? `Until ${formatDate(expires.value)}` : 'Until the project ends';
    });
    const conditions = h('input', {
      name: 'conditions',
      placeholder: 'Conditions (optional)',
      'aria-label': 'Conditions'
    }) as HTMLInputElement;
    const reason = h('input', {
      name: 'reason',
      placeholder: 'Reason (needed to refuse)',
      'aria-label': 'Reason'
    }) as HTMLInputElement;
    const approve = h('button', { type: 'button', class: 'wb-approve jp-mod-styled jp-mod-accept' }, 'Approve');
    const refuse = h('button', { type: 'button', class: 'wb-refuse jp-mod-styled jp-mod-warn' }, 'Refuse');
    const outcome = h('div', { class: 'wb-decision-result', role: 'status' });
    const decide = (decision: 'approve' | 'refuse') => {
      const check = checkDecision({
        decision,
        requested: request.columns,
        chosen: boxes.filter(b => b.checked).map(b => b.value),
        identifiers: rows.filter(r => r.identifier?.checked).map(r => r.column),
        linkage: rows.filter(r => r.linkage.checked).map(r => r.column),
        roles,
        expires: expires.value,
        conditions: conditions.value,
        reason: reason.value
      });
      if (!formPassed(outcome, check)) {
        return;
      }
      const verb = decision === 'approve' ? 'Approve' : 'Refuse';
      void showDialog({
        title: `${verb} request ${request.id}?`,
        body:
          decision === 'approve'
            ? `Grant ${request.project_id} ${check.decision.columns ? check.decision.columns.length : request.columns.length} column(s) of ${request.dataset_id} ${expires.value ? `until ${formatDate(expires.value)}` : 'until the project ends'}.${held ? ' The project already holds a grant for this dataset.' : ''}`
            : `Refuse ${request.project_id}'s request for ${request.dataset_id}. The requester sees your reason.`,
        buttons: [
          Dialog.cancelButton({ label: 'Cancel' }),
          decision === 'approve' ? Dialog.okButton({ label: verb }) : Dialog.warnButton({ label: verb })
        ]
      }).then(result => {
        if (result.button.accept) {
          send(check.decision);
        }
      });
    };
    const send = (body: Parameters<WorkbenchApi['decide']>[1]) => {
      outcome.textContent = 'Sending…';
      this.api
        .decide(request.id, body)
        .then(decided => {
          outcome.textContent =
            decided.status === 'approved'
              ? `Approved: grant ${decided.grant_id} until ${formatDate(decided.expires)}.`
              : `Refused: ${decided.reason}`;
          outcome.classList.add('wb-ok');
          card.querySelectorAll('button, input').forEach(e => e.setAttribute('disabled', ''));
          void this.refreshMine();
          void this.refreshHistory();
        })
        .catch(error => {
          outcome.textContent = errorText(error);
          outcome.classList.add('wb-error');
        });
    };
    approve.addEventListener('click', () => decide('approve'));
    refuse.addEventListener('click', () => decide('refuse'));
    const card = h(
      'div',
      { class: 'wb-decision', 'data-request': String(request.id) },
      h('div', { class: 'wb-result-title' }, `${request.dataset_id} for ${request.project_id}`),
      h(
        'div',
        { class: 'wb-result-meta' },
        `Request ${request.id} by ${request.requested_by}, ${formatDate(request.requested_at)}`
      ),
      held
        ? h(
            'p',
            { class: 'wb-warning wb-held-grant' },
            `${request.project_id} already holds a grant for this dataset (grant ${String(held.grant_id ?? '')})${held.expires ? `, until ${formatDate(String(held.expires))}` : ''}. Approving adds a second grant.`
          )
        : '',
      h('p', { class: 'wb-justification' }, request.justification),
      h(
        'table',
        { class: 'wb-table wb-grant-columns' },
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            h('th', {}, 'Column'),
            h('th', { title: 'Granted to the project' }, 'Grant'),
            h(
              'th',
              { title: 'Direct identifiers are granted only when ticked here (and the legal gateway allows it)' },
              'Ident.'
            ),
            h(
              'th',
              {
                title:
                  'For linkage only: the linkage may read it for the project, which never receives it unless granted'
              },
              'Link'
            )
          )
        ),
        h(
          'tbody',
          {},
          ...rows.map(r =>
            h(
              'tr',
              { 'data-column': r.column },
              h(
                'td',
                {},
                h(
                  'span',
                  {
                    class: `wb-column wb-role-${roles[r.column] ?? 'unknown'}`,
                    title: (roles[r.column] ?? '').replace(/_/g, ' ')
                  },
                  r.column
                )
              ),
              h('td', {}, r.grant),
              h('td', {}, r.identifier ?? ''),
              h('td', {}, r.linkage)
            )
          )
        )
      ),
      rows.some(r => r.identifier)
        ? h(
            'p',
            { class: 'wb-note' },
            'Direct identifiers are granted only when "Ident." is ticked too; "Link" lets the linkage read a column the project does not receive.'
          )
        : '',
      h('label', { class: 'wb-expires' }, 'Expires ', expires, expiresLabel),
      conditions,
      reason,
      h('div', { class: 'wb-buttons' }, approve, refuse),
      outcome
    );
    return card;
  }
}
