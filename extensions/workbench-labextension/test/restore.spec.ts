import type { WidgetTracker } from '@jupyterlab/apputils';
import { Widget } from '@lumino/widgets';

import { CHECKING_NAMESPACE, restorePanels } from '../src/restore';

/** A layout restorer that records what it is asked to remember. */
function recordingRestorer() {
  const added: [Widget, string][] = [];
  const restored: { tracker: unknown; command: string; name: string }[] = [];
  return {
    added,
    restored,
    add: (widget: Widget, name: string) => void added.push([widget, name]),
    restore: async (tracker: unknown, options: { command: string; name: (widget: Widget) => string }) => {
      restored.push({ tracker, command: options.command, name: options.name(new Widget()) });
    }
  };
}

function panel(id: string): Widget {
  const widget = new Widget();
  widget.id = id;
  return widget;
}

describe('restorePanels', () => {
  it('remembers every side panel under its id and reopens output checking by its command', async () => {
    const restorer = recordingRestorer();
    const panels = ['workbench-catalogue', 'workbench-requests', 'workbench-usage'].map(panel);
    const tracker = { namespace: CHECKING_NAMESPACE } as unknown as WidgetTracker;
    await restorePanels(restorer as never, panels, tracker, 'workbench:open-output-checking');
    expect(restorer.added.map(([widget, name]) => [widget, name])).toEqual(panels.map(p => [p, p.id]));
    expect(restorer.restored).toEqual([
      { tracker, command: 'workbench:open-output-checking', name: CHECKING_NAMESPACE }
    ]);
  });
});
