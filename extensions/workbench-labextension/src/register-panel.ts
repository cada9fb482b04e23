/**
 * The "Register a dataset" side panel, for data owners: choose a CSV or Parquet file or folder in the lab's file
 * browser (or its context menu's "Register as dataset…"), or a database URL with a table or query; draft the
 * entry from the data; complete the YAML; choose copy or in place; register. A refusal is shown beside the field
 * at fault and, for the entry's own fields, listed under it with their lines; after success the entry and its
 * versions are shown. The server decides who may register and what is valid.
 */

import { Widget } from '@lumino/widgets';

import { ApiError, CatalogueEntry, Problem, RegisterMode, WorkbenchApi } from './api';
import { errorText, h } from './render';
import {
  checkRegisterForm,
  checkSource,
  FormField,
  fieldOf,
  problemsList,
  problemsOf,
  RegisterForm,
  registeredView
} from './register-view';

const FIELDS: FormField[] = ['path', 'url', 'table', 'query', 'mode', 'entry'];

export class RegisterPanel extends Widget {
  private readonly inputs: Record<'path' | 'url' | 'table' | 'query', HTMLInputElement | HTMLTextAreaElement>;
  private readonly entryBox: HTMLTextAreaElement;
  private readonly fileFields: HTMLElement;
  private readonly databaseFields: HTMLElement;
  private readonly errors = new Map<FormField, HTMLElement>();
  private readonly problems: HTMLElement;
  private readonly status: HTMLElement;
  private readonly result: HTMLElement;
  private kind: RegisterForm['kind'] = 'file';

  constructor(
    private readonly api: WorkbenchApi,
    private readonly registered: (entry: CatalogueEntry) => void = () => undefined
  ) {
    super();
    this.id = 'workbench-register';
    this.addClass('wb-panel');
    this.addClass('wb-register');
    this.title.caption = 'Register a dataset (data owners)';
    const input = (name: string, label: string, placeholder: string) =>
      h('input', { name, placeholder, 'aria-label': label, spellcheck: 'false' }) as HTMLInputElement;
    this.inputs = {
      path: input('path', 'File or folder in the lab', 'e.g. data/admissions.csv or data/parts'),
      url: input('url', 'Database URL', 'postgresql://host:5432/database'),
      table: input('table', 'Table', 'schema.table'),
      query: h('textarea', {
        name: 'query',
        rows: '3',
        placeholder: 'or one SELECT …',
        'aria-label': 'Query',
        spellcheck: 'false'
      }) as HTMLTextAreaElement
    };
    for (const field of FIELDS) {
      this.errors.set(field, h('p', { class: 'wb-field-error', 'data-for': field, hidden: '' }));
    }
    const kinds = h('fieldset', { class: 'wb-source-kind' }, h('legend', {}, 'The data'));
    for (const [value, label] of [
      ['file', 'A file or folder in the lab'],
      ['database', 'A database table or query']
    ]) {
      const radio = h('input', { type: 'radio', name: 'kind', value }) as HTMLInputElement;
      radio.checked = value === 'file';
      radio.addEventListener('change', () => this.showKind(value as RegisterForm['kind']));
      kinds.append(h('label', {}, radio, ` ${label}`));
    }
    this.fileFields = h(
      'div',
      { class: 'wb-file-fields' },
      h('label', {}, 'File or folder (as the file browser names it)', this.inputs.path),
      this.errors.get('path')!,
      h(
        'p',
        { class: 'wb-note' },
        'Or right-click a CSV or Parquet file, or a folder, in the file browser: Register as dataset….'
      )
    );
    this.databaseFields = h(
      'div',
      { class: 'wb-database-fields', hidden: '' },
      h('label', {}, 'Database URL', this.inputs.url),
      this.errors.get('url')!,
      h('label', {}, 'Table', this.inputs.table),
      this.errors.get('table')!,
      h('label', {}, 'or query', this.inputs.query),
      this.errors.get('query')!
    );
    const draft = h('button', { type: 'button', class: 'wb-draft jp-mod-styled' }, 'Draft from the data');
    draft.addEventListener('click', () => void this.draft());
    this.entryBox = h('textarea', {
      name: 'entry',
      rows: '18',
      spellcheck: 'false',
      'aria-label': 'Entry (YAML)',
      placeholder: 'Draft the entry from the data, then complete every <TO COMPLETE: …> field.'
    }) as HTMLTextAreaElement;
    this.problems = h('div', { class: 'wb-problems-area' });
    const modes = h('fieldset', { class: 'wb-mode' }, h('legend', {}, 'Keep the data'));
    for (const [value, label] of [
      ['copy', 'Copy it into the workbench'],
      ['in-place', 'In place (read from the source when used)']
    ]) {
      const radio = h('input', { type: 'radio', name: 'mode', value }) as HTMLInputElement;
      radio.checked = value === 'copy';
      modes.append(h('label', {}, radio, ` ${label}`));
    }
    modes.append(this.errors.get('mode')!);
    const register = h(
      'button',
      { type: 'submit', class: 'wb-register-button jp-mod-styled jp-mod-accept' },
      'Register'
    );
    this.status = h('p', { class: 'wb-register-status', role: 'status' });
    this.result = h('div', { class: 'wb-register-result' });
    const form = h(
      'form',
      { class: 'wb-register-form' },
      kinds,
      this.fileFields,
      this.databaseFields,
      draft,
      h('label', {}, 'Entry (UK metadata model, YAML)', this.entryBox),
      this.errors.get('entry')!,
      this.problems,
      modes,
      register,
      this.status
    ) as HTMLFormElement;
    form.addEventListener('submit', event => {
      event.preventDefault();
      void this.register();
    });
    this.node.append(h('div', { class: 'wb-header' }, h('h2', {}, 'Register a dataset')), form, this.result);
  }

  /** Start from a file or folder of the file browser (its path relative to the lab's folder). */
  choose(path: string): void {
    this.showKind('file');
    (this.node.querySelector("input[name='kind'][value='file']") as HTMLInputElement).checked = true;
    this.inputs.path.value = path;
    this.clear();
    this.status.textContent = `Chosen: ${path}. Draft the entry from it, or paste one.`;
  }

  private showKind(kind: RegisterForm['kind']): void {
    this.kind = kind;
    this.fileFields.hidden = kind !== 'file';
    this.databaseFields.hidden = kind !== 'database';
  }

  private form(): RegisterForm {
    const mode = (this.node.querySelector("input[name='mode']:checked") as HTMLInputElement | null)?.value;
    return {
      kind: this.kind,
      path: this.inputs.path.value,
      url: this.inputs.url.value,
      table: this.inputs.table.value,
      query: this.inputs.query.value,
      entry: this.entryBox.value,
      mode: (mode ?? 'copy') as RegisterMode
    };
  }

  /** Problems under the entry; a click on one with a line selects that line in the YAML. */
  private showProblems(list: HTMLElement): void {
    for (const item of Array.from(list.querySelectorAll<HTMLElement>('li[data-line]'))) {
      item.classList.add('wb-link');
      item.addEventListener('click', () => this.selectLine(Number(item.dataset.line)));
    }
    this.problems.replaceChildren(list);
  }

  private selectLine(line: number): void {
    const lines = this.entryBox.value.split('\n');
    const start = lines.slice(0, line - 1).reduce((n, text) => n + text.length + 1, 0);
    this.entryBox.focus();
    this.entryBox.setSelectionRange(start, start + (lines[line - 1]?.length ?? 0));
  }

  private clear(): void {
    for (const element of this.errors.values()) {
      element.textContent = '';
      element.hidden = true;
    }
    for (const field of FIELDS) {
      this.fieldElement(field)?.removeAttribute('aria-invalid');
    }
    this.problems.replaceChildren();
    this.status.textContent = '';
    this.status.classList.remove('wb-error', 'wb-ok');
  }

  private fieldElement(field: FormField): HTMLElement | null {
    if (field === 'entry') {
      return this.entryBox;
    }
    return field === 'mode' ? null : this.inputs[field];
  }

  private showErrors(errors: Partial<Record<FormField, string>>): void {
    for (const [field, message] of Object.entries(errors) as [FormField, string][]) {
      const element = this.errors.get(field)!;
      element.textContent = message;
      element.hidden = false;
      this.fieldElement(field)?.setAttribute('aria-invalid', 'true');
    }
  }

  /** A refusal beside its fields: the source's and the mode's next to them, the entry's listed under it. */
  private showRefusal(error: unknown): void {
    const byField: Partial<Record<FormField, string>> = {};
    const entryProblems: Problem[] = [];
    for (const problem of problemsOf(error)) {
      const field = fieldOf(problem, this.kind);
      if (field === 'entry') {
        entryProblems.push(problem);
      } else {
        byField[field] = byField[field] ? `${byField[field]} ${problem.message}` : problem.message;
      }
    }
    this.showErrors(byField);
    if (entryProblems.length) {
      this.entryBox.setAttribute('aria-invalid', 'true');
      this.showProblems(problemsList(entryProblems, this.entryBox.value, 'Problems to fix in the entry'));
    }
    this.status.textContent =
      error instanceof ApiError && error.status === 403 ? errorText(error) : 'Not registered: ' + errorText(error);
    this.status.classList.add('wb-error');
  }

  async draft(): Promise<void> {
    this.clear();
    const check = checkSource(this.form());
    if (!check.ok) {
      this.showErrors(check.errors);
      return;
    }
    this.status.textContent = 'Reading the data…';
    try {
      const draft = await this.api.draft(check.source);
      this.entryBox.value = draft.yaml;
      this.status.textContent = `Drafted from ${draft.source}. Complete the entry, then register.`;
      this.status.classList.add('wb-ok');
      if (draft.problems.length) {
        this.showProblems(problemsList(draft.problems, draft.yaml, 'To complete before registering'));
      }
    } catch (error) {
      this.status.textContent = '';
      this.showRefusal(error);
    }
  }

  async register(): Promise<void> {
    this.clear();
    const check = checkRegisterForm(this.form());
    if (!check.ok) {
      this.showErrors(check.errors);
      return;
    }
    this.status.textContent = check.body.mode === 'copy' ? 'Copying and checking the data…' : 'Checking the data…';
    this.result.replaceChildren();
    try {
      const entry = await this.api.register(check.body);
      this.status.textContent = `Registered ${entry.id}.`;
      this.status.classList.add('wb-ok');
      this.result.replaceChildren(registeredView(entry));
      this.registered(entry);
    } catch (error) {
      this.showRefusal(error);
    }
  }
}
