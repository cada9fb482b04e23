/** What the panels use of @jupyterlab/apputils, for units that load a panel but never open a dialog. */
export const Dialog = {
  cancelButton: (options: { label: string }) => ({ ...options, accept: false }),
  okButton: (options: { label: string }) => ({ ...options, accept: true }),
  warnButton: (options: { label: string }) => ({ ...options, accept: true })
};

export function showDialog(): Promise<{ button: { accept: boolean } }> {
  return Promise.resolve({ button: { accept: false } });
}
