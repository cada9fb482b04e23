/**
 * The "Usage and audit" side panel: an owner's usage report of a dataset (grants, loads, derived data, the
 * outputs made from it with their provenance class, releases, privacy budget spent), the way into the Output
 * checking widget, and, for admins, verification of the audit log's hash chain. The server decides who sees what; a refusal is shown as its message.
 */

import { Widget } from '@lumino/widgets';

import { WorkbenchApi } from './api';
import { errorText, h } from './render';
import { auditText, checkDatasetId, myDatasetsList, usageView } from './usage-view';

export class UsagePanel extends Widget {
  private readonly datasetBox: HTMLInputElement;
  private readonly report: HTMLElement;
  private readonly audit: HTMLElement;
  private readonly owned: HTMLElement;

  constructor(
    private readonly api: WorkbenchApi,
    openChecking: () => void
  ) {
    super();
    this.id = 'workbench-usage';
    this.addClass('wb-panel');
    this.title.caption = 'Output checking, usage and audit';
    const checking = h(
      'button',
      { type: 'button', class: 'wb-open-checking jp-mod-styled jp-mod-accept' },
      'Open output checking'
    );
    checking.addEventListener('click', openChecking);
    this.datasetBox = h('input', {
      name: 'dataset',
      placeholder: 'Dataset id, e.g. dhsc.hes_apc',
      'aria-label': 'Dataset id'
    }) as HTMLInputElement;
    const show = h('button', { type: 'submit', class: 'wb-show-usage jp-mod-styled' }, 'Show usage');
    this.owned = h('div', { class: 'wb-my-datasets' });
    this.report = h('div', { class: 'wb-usage-result', role: 'status' });
    const form = h('form', { class: 'wb-usage-form' }, this.datasetBox, show) as HTMLFormElement;
    form.addEventListener('submit', event => {
      event.preventDefault();
      void this.showUsage(this.datasetBox.value);
    });
    const verify = h('button', { type: 'button', class: 'wb-verify-audit jp-mod-styled' }, 'Verify the audit log');
    verify.addEventListener('click', () => void this.verify());
    this.audit = h('div', { class: 'wb-audit-result', role: 'status' });
    this.node.append(
      h('div', { class: 'wb-header' }, h('h2', {}, 'Checking, usage and audit')),
      h(
        'section',
        {},
        h('h3', {}, 'Output checking'),
        h('p', { class: 'wb-note' }, 'Output checkers review and release requests in the main area.'),
        checking
      ),
      h('section', {}, h('h3', {}, 'Usage of my data'), this.owned, form, this.report),
      h('section', {}, h('h3', {}, 'Audit (admins)'), verify, this.audit)
    );
    void this.listMine();
  }

  /** "My datasets": the datasets I own or decide for as a delegate (hidden when there is none). */
  async listMine(): Promise<void> {
    try {
      const datasets = await this.api.myDatasets();
      if (!datasets.length) {
        this.owned.replaceChildren();
        return;
      }
      this.owned.replaceChildren(
        h('h4', {}, 'My datasets'),
        myDatasetsList(datasets, id => void this.showUsage(id))
      );
    } catch (error) {
      this.owned.replaceChildren(h('p', { class: 'wb-error' }, errorText(error)));
    }
  }

  async showUsage(text: string): Promise<void> {
    const check = checkDatasetId(text);
    if (!check.ok) {
      this.report.replaceChildren(h('p', { class: 'wb-error' }, check.error));
      return;
    }
    this.datasetBox.value = check.id;
    this.report.replaceChildren(h('p', { class: 'wb-note' }, 'Loading…'));
    try {
      this.report.replaceChildren(usageView(await this.api.usage(check.id)));
    } catch (error) {
      this.report.replaceChildren(h('p', { class: 'wb-error' }, errorText(error)));
    }
  }

  async verify(): Promise<void> {
    this.audit.replaceChildren(h('p', { class: 'wb-note' }, 'Checking every event…'));
    try {
      const check = await this.api.verifyAudit();
      this.audit.replaceChildren(h('p', { class: check.ok ? 'wb-ok' : 'wb-error' }, auditText(check)));
    } catch (error) {
      this.audit.replaceChildren(h('p', { class: 'wb-error' }, errorText(error)));
    }
  }
}
