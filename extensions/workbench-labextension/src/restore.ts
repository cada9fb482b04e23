/**
 * What JupyterLab remembers of the Workbench panels across a reload: which side panel was open (each side panel
 * under its id) and whether the Output checking widget was open in the main area (through its tracker, reopened
 * by its command).
 */

import type { ILayoutRestorer } from '@jupyterlab/application';
import type { WidgetTracker } from '@jupyterlab/apputils';
import type { Widget } from '@lumino/widgets';

/** The tracker namespace of the Output checking widget, and the one name it is restored under (it is unique). */
export const CHECKING_NAMESPACE = 'workbench-output-checking';

export function restorePanels(
  restorer: Pick<ILayoutRestorer, 'add' | 'restore'>,
  sidePanels: Widget[],
  checking: WidgetTracker,
  openChecking: string
): Promise<unknown> {
  for (const panel of sidePanels) {
    restorer.add(panel, panel.id);
  }
  return restorer.restore(checking, { command: openChecking, name: () => CHECKING_NAMESPACE });
}
