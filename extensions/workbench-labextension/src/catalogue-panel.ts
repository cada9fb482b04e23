/**
 * The Catalogue side panel: search with filters, results a page at a time, an entry's detail with the code
 * to load it and the "Request access" form. It only shows what the REST API answers; every decision is the
 * server's.
 */

import { Dialog, showDialog } from '@jupyterlab/apputils';
import { Widget } from '@lumino/widgets';

import { AccessRequest, CatalogueEntry, Facet, Project, SearchQuery, WorkbenchApi } from './api';
import { loadCode, twinCode } from './code';
import {
  checkRequestForm,
  codeLabel,
  columnsWithoutIdentifiers,
  debounce,
  facetOptions,
  heldGrant,
  initialColumns,
  pendingTwin,
  requestableProjects
} from './form';
import { hasNext, hasPrevious, nextOffset, Page, pageLabel, previousOffset } from './paging';
import { personIndexView, reviewQueueView } from './person-index';
import { CatalogueSettings, DEFAULT_SETTINGS } from './settings';
import { entryFacts, entryWarnings, errorText, formPassed, h, resultItem, schemaTable, twinPreview } from './render';

export const CLASSIFICATIONS = ['OFFICIAL', 'SECRET', 'TOP_SECRET', 'NOT_APPLICABLE'];

function select(name: string, label: string, options: [string, string][]): HTMLSelectElement {
  const element = h('select', { name, 'aria-label': label, title: label }) as HTMLSelectElement;
  for (const [value, text] of options) {
    element.append(h('option', { value }, text));
  }
  return element;
}

/** Put code into the active notebook as a new cell; resolve to null, or to why it could not. */
export type InsertCode = (code: string) => Promise<string | null>;

/** The catalogue browser: search, filters, results, entry detail and the access request form. */
export class CataloguePanel extends Widget {
  private readonly searchBox: HTMLInputElement;
  private readonly department: HTMLSelectElement;
  private readonly theme: HTMLSelectElement;
  private readonly mission: HTMLSelectElement;
  private readonly classification: HTMLSelectElement;
  private readonly statusLine: HTMLElement;
  private readonly didYouMean: HTMLElement;
  private readonly results: HTMLElement;
  private readonly pager: HTMLElement;
  private readonly previous: HTMLButtonElement;
  private readonly next: HTMLButtonElement;
  private readonly detail: HTMLElement;
  private sequence = 0;
  private offset = 0;
  private page: Page | null = null;
  private settings: CatalogueSettings = DEFAULT_SETTINGS;
  private facetsShown = false;

  constructor(
    private readonly api: WorkbenchApi,
    private readonly onRequested: () => void = () => undefined,
    private readonly insertCode: InsertCode = async () => 'There is no notebook to insert into.'
  ) {
    super();
    this.id = 'workbench-catalogue';
    this.addClass('wb-panel');
    this.title.caption = 'Workbench catalogue';
    this.searchBox = h('input', {
      type: 'search',
      class: 'wb-search',
      placeholder: 'Search the catalogue',
      'aria-label': 'Search the catalogue'
    }) as HTMLInputElement;
    this.department = select('department', 'Department', [['', 'Any department']]);
    this.theme = select('theme', 'Theme', [['', 'Any theme']]);
    this.mission = select('mission', 'Mission', [
      ['', 'Any mission'],
      ...[1, 2, 3, 4, 5].map(m => [String(m), `Mission ${m}`] as [string, string])
    ]);
    this.classification = select('classification', 'Classification', [
      ['', 'Any classification'],
      ...CLASSIFICATIONS.map(c => [c, codeLabel(c)] as [string, string])
    ]);
    this.statusLine = h('div', { class: 'wb-status-line', role: 'status' });
    this.didYouMean = h('p', { class: 'wb-did-you-mean', hidden: '' });
    this.results = h('ul', { class: 'wb-results' });
    this.previous = h(
      'button',
      { type: 'button', class: 'wb-previous jp-mod-styled', title: 'Previous page' },
      '‹ Previous'
    ) as HTMLButtonElement;
    this.next = h(
      'button',
      { type: 'button', class: 'wb-next jp-mod-styled', title: 'Next page' },
      'Next ›'
    ) as HTMLButtonElement;
    this.pager = h('nav', { class: 'wb-pager', 'aria-label': 'Result pages', hidden: '' }, this.previous, this.next);
    this.detail = h('section', { class: 'wb-detail', hidden: '' });
    this.node.append(
      h('div', { class: 'wb-header' }, h('h2', {}, 'Catalogue'), this.searchBox),
      h('div', { class: 'wb-filters' }, this.department, this.mission, this.theme, this.classification),
      this.statusLine,
      this.didYouMean,
      this.results,
      this.pager,
      this.detail
    );
    const later = debounce(
      () => void this.search(),
      () => this.settings.searchDelay
    );
    const fromTheTop = (then: () => void) => () => {
      this.offset = 0;
      then();
    };
    this.searchBox.addEventListener('input', fromTheTop(later));
    for (const choice of [this.department, this.theme, this.mission, this.classification]) {
      choice.addEventListener(
        'change',
        fromTheTop(() => void this.search())
      );
    }
    this.previous.addEventListener('click', () => this.turn(this.page && previousOffset(this.page)));
    this.next.addEventListener('click', () => this.turn(this.page && nextOffset(this.page)));
    void this.search();
  }

  query(): SearchQuery {
    return {
      q: this.searchBox.value,
      department: this.department.value,
      theme: this.theme.value,
      mission: this.mission.value ? Number(this.mission.value) : null,
      classification: this.classification.value,
      limit: this.settings.pageSize,
      offset: this.offset,
      facets: !this.facetsShown
    };
  }

  /** Apply changed settings live: the delay from the next keystroke, a new page size from the first page. */
  configure(settings: CatalogueSettings): void {
    const resize = settings.pageSize !== this.settings.pageSize;
    this.settings = settings;
    if (resize) {
      this.offset = 0;
      void this.search();
    }
  }

  private turn(offset: number | null): void {
    if (offset !== null && offset !== this.offset) {
      this.offset = offset;
      void this.search();
    }
  }

  /**
   * Search with the current box, filters and page; answers to superseded searches are dropped. Once a page is
   * shown, the results list carries `data-query` and `data-offset` of what it shows, so that tests (and the
   * browser latency measurement) can tell this search's rendering from an earlier one's.
   */
  async search(): Promise<void> {
    const mine = ++this.sequence;
    const query = this.query();
    this.statusLine.textContent = 'Searching…';
    this.results.setAttribute('aria-busy', 'true');
    try {
      const found = await this.api.search(query);
      if (mine !== this.sequence) {
        return;
      }
      if (found.facets) {
        this.showFacets(found.facets);
      }
      this.page = { offset: found.offset, limit: found.limit, total: found.total, shown: found.results.length };
      this.results.replaceChildren(...found.results.map(r => resultItem(r, id => void this.open(id))));
      this.results.dataset.query = query.q ?? '';
      this.results.dataset.offset = String(found.offset);
      this.statusLine.textContent = pageLabel(this.page);
      this.statusLine.classList.remove('wb-error');
      this.suggest(found.suggestion);
      this.pager.hidden = !(hasPrevious(this.page) || hasNext(this.page));
      this.previous.disabled = !hasPrevious(this.page);
      this.next.disabled = !hasNext(this.page);
    } catch (error) {
      if (mine === this.sequence) {
        this.page = null;
        this.results.replaceChildren();
        delete this.results.dataset.query;
        this.pager.hidden = true;
        this.statusLine.textContent = errorText(error);
        this.statusLine.classList.add('wb-error');
        this.suggest(null);
      }
    } finally {
      if (mine === this.sequence) {
        this.results.removeAttribute('aria-busy');
      }
    }
  }

  /** The filter menus with what each can take and how many entries have it (the whole catalogue's counts). */
  private showFacets(facets: Record<string, Facet[]>): void {
    const fill = (menu: HTMLSelectElement, any: string, options: [string, string][]) => {
      const chosen = menu.value;
      menu.replaceChildren(h('option', { value: '' }, any), ...options.map(([v, t]) => h('option', { value: v }, t)));
      menu.value = options.some(([v]) => v === chosen) ? chosen : '';
    };
    fill(this.department, 'Any department', facetOptions(facets.department));
    fill(this.theme, 'Any theme', facetOptions(facets.theme));
    fill(this.mission, 'Any mission', facetOptions(facets.mission));
    fill(this.classification, 'Any classification', facetOptions(facets.security_classification, codeLabel));
    this.facetsShown = true;
  }

  /** "Did you mean hospital?" as a link that searches for it, or nothing. */
  private suggest(suggestion: string | null): void {
    if (!suggestion) {
      this.didYouMean.hidden = true;
      this.didYouMean.replaceChildren();
      return;
    }
    const link = h('a', { href: '#', class: 'wb-suggestion' }, suggestion);
    link.addEventListener('click', event => {
      event.preventDefault();
      this.searchBox.value = suggestion;
      this.offset = 0;
      void this.search();
      this.searchBox.focus();
    });
    this.didYouMean.replaceChildren('Did you mean ', link, '?');
    this.didYouMean.hidden = false;
  }

  /** Show one entry in full, with the request form. */
  async open(datasetId: string): Promise<void> {
    this.detail.hidden = false;
    this.detail.replaceChildren(h('p', { class: 'wb-note' }, `Opening ${datasetId}…`));
    try {
      const [entry, projects, requests] = await Promise.all([
        this.api.entry(datasetId),
        this.api.projects(),
        this.api.myRequests().catch(() => [] as AccessRequest[])
      ]);
      this.showEntry(entry, projects, requests);
    } catch (error) {
      this.detail.replaceChildren(h('p', { class: 'wb-error' }, errorText(error)));
    }
  }

  private showEntry(entry: CatalogueEntry, projects: Project[], requests: AccessRequest[] = []): void {
    const close = h('button', { class: 'wb-close', title: 'Back to the results', type: 'button' }, '×');
    close.addEventListener('click', () => {
      this.detail.hidden = true;
      this.detail.replaceChildren();
    });
    const form = entry.has_data ? this.requestForm(entry, projects, requests) : null;
    const mine = requestableProjects(projects);
    const insertNote = h('div', { class: 'wb-insert-result', role: 'status' });
    const insertButton = (label: string, className: string, code: () => string) => {
      const button = h('button', { type: 'button', class: `${className} jp-mod-styled` }, label);
      button.addEventListener('click', () => {
        void this.insertCode(code()).then(problem => {
          insertNote.textContent = problem ?? 'Inserted below the active cell.';
          insertNote.className = `wb-insert-result ${problem ? 'wb-error' : 'wb-ok'}`;
        });
      });
      return button;
    };
    const chosenProject = () => {
      const selected = form?.querySelector('select[name="project"]') as HTMLSelectElement | null;
      return selected?.value || (mine.length ? mine[0].id : null);
    };
    const actions = entry.has_data
      ? h(
          'div',
          { class: 'wb-buttons' },
          insertButton('Insert load code', 'wb-insert-load', () => loadCode(entry.id, chosenProject())),
          insertButton('Insert twin code', 'wb-insert-twin', () => twinCode(entry.id))
        )
      : null;
    this.detail.replaceChildren(
      h('div', { class: 'wb-detail-head' }, h('h3', {}, entry.title), close),
      h('code', { class: 'wb-entry-id' }, entry.id),
      actions ?? '',
      insertNote,
      entryWarnings(entry),
      h('p', { class: 'wb-description' }, entry.description),
      entryFacts(entry),
      personIndexView(entry.person_index),
      this.indexReview(entry),
      h('h4', {}, 'Schema'),
      h('div', { class: 'wb-scroll' }, schemaTable(entry.schema)),
      h('h4', {}, 'Preview'),
      twinPreview(entry),
      h('h4', {}, 'Request access'),
      form ?? h('p', { class: 'wb-note' }, 'No data to request.')
    );
    this.detail.scrollIntoView?.({ block: 'start' });
  }

  /** For admins and linkers: the dataset's clerical review queue, loaded on demand, each pair decided in place. */
  private indexReview(entry: CatalogueEntry): HTMLElement | string {
    if (!entry.index_review) {
      return '';
    }
    const queue = h('div', { class: 'wb-index-review-queue' });
    const show = h(
      'button',
      { type: 'button', class: 'wb-show-review jp-mod-styled' },
      'Show the pairs to review'
    ) as HTMLButtonElement;
    show.addEventListener('click', () => {
      show.disabled = true;
      queue.replaceChildren(h('p', { class: 'wb-note', role: 'status' }, 'Loading the review queue…'));
      this.api
        .indexReview(entry.id)
        .then(review =>
          queue.replaceChildren(
            reviewQueueView(review.pairs, (pair, decision, note) =>
              this.api
                .decideIndexPair(entry.id, { row: pair.row, candidate: pair.candidate, decision, note: note || null })
                .then(
                  made =>
                    `Decided ${decision === 'match' ? 'a match' : 'not a match'} (decision ${made.id}); the next index update applies it.`
                )
            )
          )
        )
        .catch(error => queue.replaceChildren(h('p', { class: 'wb-error', role: 'status' }, errorText(error))))
        .finally(() => (show.disabled = false));
    });
    return h(
      'div',
      { class: 'wb-index-review' },
      h('h5', {}, 'Clerical review'),
      h(
        'p',
        { class: 'wb-note' },
        'Decide each uncertain pair a match or not; the next update of the person index applies your decisions.'
      ),
      show,
      queue
    );
  }

  private requestForm(entry: CatalogueEntry, projects: Project[], requests: AccessRequest[]): HTMLElement {
    const mine = requestableProjects(projects);
    if (mine.length === 0) {
      return h(
        'p',
        { class: 'wb-note' },
        'You are not a lead or analyst of an open project, so you cannot request data. A project lead can ask an admin to add you.'
      );
    }
    const project = select('project', 'Project', [
      ['', 'Choose a project…'],
      ...mine.map(p => [p.id, `${p.title} (${p.id})`] as [string, string])
    ]);
    // No project is pre-set: the analyst chooses the one that needs the data (a preset one may already hold it).
    project.value = '';
    const ticked = initialColumns(entry.schema);
    const boxes = entry.schema.map(column => {
      const box = h('input', { type: 'checkbox', name: 'column', value: column.name }) as HTMLInputElement;
      box.checked = ticked.includes(column.name);
      return { column, box };
    });
    const allButIdentifiers = h(
      'button',
      { type: 'button', class: 'wb-tick-non-identifiers jp-mod-styled' },
      'Tick all but direct identifiers'
    );
    allButIdentifiers.addEventListener('click', () => {
      const wanted = columnsWithoutIdentifiers(entry.schema);
      boxes.forEach(b => (b.box.checked = wanted.includes(b.column.name)));
    });
    const held = h('p', { class: 'wb-warning wb-held-grant', role: 'status', hidden: '' });
    const warnHeld = () => {
      const grant = heldGrant(requests, project.value, entry.id);
      const pending = pendingTwin(requests, project.value, entry.id);
      held.hidden = !(grant || pending);
      held.textContent = grant
        ? `${project.value} already holds a grant for this dataset (request ${grant.id}). Request again only to change the columns.`
        : pending
          ? `${project.value} already has request ${pending.id} waiting for this dataset.`
          : '';
    };
    project.addEventListener('change', warnHeld);
    const columns = h(
      'fieldset',
      { class: 'wb-columns' },
      h('legend', {}, 'Columns (tick only what the project needs)'),
      allButIdentifiers,
      ...boxes.map(({ column, box }) =>
        h('label', { class: `wb-column wb-role-${column.role}`, title: codeLabel(column.role) }, box, ` ${column.name}`)
      )
    );
    const justification = h('textarea', {
      name: 'justification',
      rows: '3',
      placeholder: 'Why does the project need this dataset and these columns?',
      'aria-label': 'Justification'
    }) as HTMLTextAreaElement;
    const submit = h('button', { type: 'submit', class: 'wb-submit jp-mod-styled jp-mod-accept' }, 'Request access');
    const outcome = h('div', { class: 'wb-request-result', role: 'status' });
    const form = h(
      'form',
      { class: 'wb-request-form' },
      h('label', {}, 'Project ', project),
      held,
      columns,
      h('label', {}, 'Justification', justification),
      submit,
      outcome
    ) as HTMLFormElement;
    form.addEventListener('submit', event => {
      event.preventDefault();
      const check = checkRequestForm({
        projectId: project.value,
        datasetId: entry.id,
        allColumns: entry.schema.map(c => c.name),
        chosen: boxes.filter(b => b.box.checked).map(b => b.column.name),
        justification: justification.value
      });
      if (!formPassed(outcome, check)) {
        return;
      }
      const grant = heldGrant(requests, project.value, entry.id);
      const pending = pendingTwin(requests, project.value, entry.id);
      if (grant || pending) {
        void showDialog({
          title: 'Send a second request?',
          body: grant
            ? `${project.value} already holds a grant for ${entry.title} (request ${grant.id}). Send another request anyway?`
            : `${project.value} already has request ${pending?.id} waiting for ${entry.title}. Send another request anyway?`,
          buttons: [Dialog.cancelButton({ label: 'Cancel' }), Dialog.warnButton({ label: 'Send anyway' })]
        }).then(result => {
          if (result.button.accept) {
            send(check.request);
          }
        });
        return;
      }
      send(check.request);
    });
    const send = (request: Parameters<WorkbenchApi['requestAccess']>[0]) => {
      submit.setAttribute('disabled', '');
      outcome.textContent = 'Sending…';
      this.api
        .requestAccess(request)
        .then(request => {
          outcome.textContent = `Request ${request.id} sent. Status: ${codeLabel(request.status)}. ${entry.owner.name ?? entry.owner.username ?? 'The owner'} decides; see My requests.`;
          outcome.classList.add('wb-ok');
          requests.push(request);
          this.onRequested();
        })
        .catch(error => {
          outcome.textContent = errorText(error);
          outcome.classList.add('wb-error');
        })
        .finally(() => submit.removeAttribute('disabled'));
    };
    return form;
  }
}
