/**
 * The Workbench JupyterLab extension over the workbench's REST API: a Catalogue side panel, an Access requests
 * side panel, a "Checking, usage and audit" side panel, a My outputs side panel, and the Output checking main-area
 * widget, with command palette entries to open each. Opening output checking as someone who is not an output
 * checker opens My outputs instead.
 */

import { ILabShell, ILayoutRestorer, JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { ICommandPalette, MainAreaWidget, WidgetTracker } from '@jupyterlab/apputils';
import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { LabIcon } from '@jupyterlab/ui-components';
import { Widget } from '@lumino/widgets';

import { API_PREFIX, ApiError, Transport, WorkbenchApi } from './api';
import { CataloguePanel, InsertCode } from './catalogue-panel';
import { OutputCheckingWidget } from './checking-panel';
import { watchEpsilonSliders } from './dp-slider';
import { MyOutputsPanel } from './my-outputs-panel';
import { browserStore, PanelWidths } from './panel-width';
import { RegisterPanel } from './register-panel';
import { registrable } from './register-view';
import { RequestsPanel } from './requests-panel';
import { CHECKING_NAMESPACE, restorePanels } from './restore';
import { catalogueSettings } from './settings';
import { UsagePanel } from './usage-panel';

const catalogueIcon = new LabIcon({
  name: 'workbench:catalogue',
  svgstr:
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24"><g class="jp-icon3" fill="#616161">' +
    '<path d="M4 4h13a3 3 0 0 1 3 3v13H7a3 3 0 0 1-3-3zm2 2v11a1 1 0 0 0 1 1h11V7a1 1 0 0 0-1-1z"/>' +
    '<path d="M8 8h8v2H8zm0 4h6v2H8z"/></g></svg>'
});

const requestsIcon = new LabIcon({
  name: 'workbench:requests',
  svgstr:
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24"><g class="jp-icon3" fill="#616161">' +
    '<path d="M12 2a5 5 0 0 1 5 5v3h1a2 2 0 0 1 2 2v8a2 2 0 0 1-2 2H6a2 2 0 0 1-2-2v-8a2 2 0 0 1 2-2h1V7a5 5 0 0 1 5-5zm0 2a3 3 0 0 0-3 3v3h6V7a3 3 0 0 0-3-3z"/>' +
    '</g></svg>'
});

const checkingIcon = new LabIcon({
  name: 'workbench:checking',
  svgstr:
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24"><g class="jp-icon3" fill="#616161">' +
    '<path d="M4 3h12l4 4v14H4zm2 2v14h12V8h-3V5zm2.3 7.3 1.4-1.4 2.3 2.3 4.3-4.3 1.4 1.4-5.7 5.7z"/>' +
    '</g></svg>'
});

const myOutputsIcon = new LabIcon({
  name: 'workbench:my-outputs',
  svgstr:
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24"><g class="jp-icon3" fill="#616161">' +
    '<path d="M11 3h2v9.6l3.3-3.3 1.4 1.4-5.7 5.7-5.7-5.7 1.4-1.4 3.3 3.3zM4 18h16v2H4z"/>' +
    '</g></svg>'
});

const registerIcon = new LabIcon({
  name: 'workbench:register',
  svgstr:
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24"><g class="jp-icon3" fill="#616161">' +
    '<path d="M12 3c4.4 0 8 1.3 8 3v12c0 1.7-3.6 3-8 3s-8-1.3-8-3V6c0-1.7 3.6-3 8-3zm6 5.3C16.5 9 14.4 9.4 12 9.4S7.5 9 6 8.3V12c.5.5 2.6 1.2 6 1.2s5.5-.7 6-1.2zm-6-3.3C8.4 5 6.3 5.7 6 6c.3.3 2.4 1 6 1s5.7-.7 6-1c-.3-.3-2.4-1-6-1zm-1 10h2v2h2v2h-2v2h-2v-2H9v-2h2z"/>' +
    '</g></svg>'
});

/** One item of the file browser's selection, as its model gives it (path relative to the lab's folder). */
interface BrowserItem {
  path: string;
  name: string;
  type: string;
}

/** The file browser's single selected item, duck-typed (no dependency on the file browser package). */
export function selectedBrowserItem(shell: ILabShell): BrowserItem | null {
  for (const widget of shell.widgets('left')) {
    const browser = widget as unknown as { selectedItems?: () => Iterable<BrowserItem> };
    if (widget.id === 'filebrowser' && typeof browser.selectedItems === 'function') {
      const items = [...browser.selectedItems()];
      return items.length === 1 ? items[0] : null;
    }
  }
  return null;
}

/** The API over JupyterLab's authenticated connection (token, cookie and XSRF handled by it). */
export function labTransport(settings: ServerConnection.ISettings): Transport {
  const root = URLExt.join(settings.baseUrl, API_PREFIX);
  return (path, init) => ServerConnection.makeRequest(`${root}/${path}`, init, settings);
}

/** The part of a notebook panel this extension touches (duck-typed, so no dependency on the notebook packages). */
interface NotebookLike {
  content: { activeCell: { model: { sharedModel: { setSource(source: string): void } } } | null };
}

function isNotebook(widget: unknown): widget is NotebookLike {
  const content = (widget as { content?: { activeCell?: unknown } } | null)?.content;
  return !!content && 'activeCell' in content && (widget as Widget).hasClass?.('jp-NotebookPanel');
}

/** Insert code as a new cell below the active cell of the notebook in the main area. */
export function notebookInserter(app: JupyterFrontEnd, shell: ILabShell): InsertCode {
  return async code => {
    const widget = shell.currentWidget;
    if (!isNotebook(widget)) {
      return 'Open a notebook (and click into it) first, then insert.';
    }
    await app.commands.execute('notebook:insert-cell-below');
    const cell = widget.content.activeCell;
    if (!cell) {
      return 'The notebook has no active cell to insert below.';
    }
    cell.model.sharedModel.setSource(code);
    return null;
  };
}

const COMMANDS = {
  catalogue: 'workbench:open-catalogue',
  requests: 'workbench:open-requests',
  checking: 'workbench:open-output-checking',
  usage: 'workbench:open-usage',
  myOutputs: 'workbench:open-my-outputs',
  audit: 'workbench:verify-audit',
  register: 'workbench:register-dataset'
};

const plugin: JupyterFrontEndPlugin<void> = {
  id: 'workbench-labextension:plugin',
  description: 'Workbench catalogue browser, access requests, output checking, usage and audit.',
  autoStart: true,
  requires: [ILabShell],
  optional: [ICommandPalette, ILayoutRestorer, ISettingRegistry],
  activate: (
    app: JupyterFrontEnd,
    shell: ILabShell,
    palette: ICommandPalette | null,
    restorer: ILayoutRestorer | null,
    settingRegistry: ISettingRegistry | null
  ) => {
    const api = new WorkbenchApi(labTransport(app.serviceManager.serverSettings));
    const requests = new RequestsPanel(api);
    requests.title.icon = requestsIcon;
    const catalogue = new CataloguePanel(api, () => void requests.refresh(), notebookInserter(app, shell));
    catalogue.title.icon = catalogueIcon;
    shell.add(catalogue, 'left', { rank: 150 });
    shell.add(requests, 'left', { rank: 151 });

    app.commands.addCommand(COMMANDS.catalogue, {
      label: 'Workbench: Open the catalogue',
      execute: () => shell.activateById(catalogue.id)
    });
    app.commands.addCommand(COMMANDS.requests, {
      label: 'Workbench: Access requests (mine and to decide)',
      execute: () => {
        shell.activateById(requests.id);
        return requests.refresh();
      }
    });
    const tracker = new WidgetTracker<MainAreaWidget<OutputCheckingWidget>>({ namespace: CHECKING_NAMESPACE });
    let checking: MainAreaWidget<OutputCheckingWidget> | null = null;
    const myOutputs = new MyOutputsPanel(api);
    myOutputs.title.icon = myOutputsIcon;
    shell.add(myOutputs, 'left', { rank: 153 });
    const openMyOutputs = () => {
      shell.activateById(myOutputs.id);
      return myOutputs.refresh();
    };
    const openChecking = async () => {
      if (!checking || checking.isDisposed) {
        try {
          await api.reviewQueue(); // only output checkers have a queue: anyone else follows their own outputs
        } catch (error) {
          if (error instanceof ApiError && error.status === 403) {
            return openMyOutputs();
          }
        }
      }
      if (!checking || checking.isDisposed) {
        checking = new MainAreaWidget({ content: new OutputCheckingWidget(api) });
        checking.id = 'workbench-output-checking-area';
        checking.title.label = 'Output checking';
        checking.title.icon = checkingIcon;
        checking.title.closable = true;
        void tracker.add(checking);
      }
      if (!checking.isAttached) {
        shell.add(checking, 'main');
      } else {
        await checking.content.refresh();
      }
      shell.activateById(checking.id);
    };
    const usage = new UsagePanel(api, () => void openChecking());
    usage.title.icon = checkingIcon;
    shell.add(usage, 'left', { rank: 152 });
    app.commands.addCommand(COMMANDS.checking, {
      label: 'Workbench: Output checking (queue, review, release)',
      icon: checkingIcon,
      execute: openChecking
    });
    app.commands.addCommand(COMMANDS.myOutputs, {
      label: 'Workbench: My outputs (requests, reviews, releases)',
      execute: openMyOutputs
    });
    app.commands.addCommand(COMMANDS.usage, {
      label: 'Workbench: Usage of my data (owners)',
      execute: () => shell.activateById(usage.id)
    });
    app.commands.addCommand(COMMANDS.audit, {
      label: 'Workbench: Verify the audit log (admins)',
      execute: () => {
        shell.activateById(usage.id);
        return usage.verify();
      }
    });
    const register = new RegisterPanel(api, () => void usage.listMine());
    register.title.icon = registerIcon;
    shell.add(register, 'left', { rank: 154 });
    app.commands.addCommand(COMMANDS.register, {
      label: args => (args.fromBrowser ? 'Register as dataset…' : 'Workbench: Register a dataset (data owners)'),
      icon: registerIcon,
      isVisible: args => {
        if (!args.fromBrowser) {
          return true;
        }
        const item = selectedBrowserItem(shell);
        return item !== null && registrable(item);
      },
      execute: args => {
        const item = args.fromBrowser ? selectedBrowserItem(shell) : null;
        if (item) {
          register.choose(item.path);
        }
        shell.activateById(register.id);
      }
    });
    app.contextMenu.addItem({
      command: COMMANDS.register,
      args: { fromBrowser: true },
      selector: '.jp-DirListing-item[data-isdir]',
      rank: 20
    });
    for (const command of Object.values(COMMANDS)) {
      palette?.addItem({ command, category: 'Workbench' });
    }
    watchEpsilonSliders(document.body); // the DP accuracy explorer's slider announces ε, not its logarithm
    const widths = new PanelWidths([catalogue, requests, usage, myOutputs, register], browserStore());
    shell.layoutModified.connect(() => widths.layoutChanged());
    void app.restored.then(() => widths.layoutChanged(true));
    if (restorer) {
      void restorePanels(restorer, [catalogue, requests, usage, myOutputs, register], tracker, COMMANDS.checking);
    }
    if (settingRegistry) {
      void settingRegistry
        .load(plugin.id)
        .then(settings => {
          const apply = () => catalogue.configure(catalogueSettings(settings.composite));
          apply();
          settings.changed.connect(apply);
        })
        .catch(reason => console.error('Workbench: cannot read the settings, using the defaults.', reason));
    }
  }
};

export default plugin;
