/**
 * Python a notebook needs to use a catalogue entry: load the governed data for a project, or its synthetic
 * twin to write code before access is granted. Inserted into the active notebook by the Catalogue panel.
 */

/** A Python name for a dataset's frame: `dhsc.hes_apc` → `hes_apc` (`df` when nothing usable is left). */
export function frameName(datasetId: string): string {
  const tail = datasetId.split('.').pop() ?? '';
  const name = tail.replace(/[^A-Za-z0-9_]/g, '_').replace(/^[^A-Za-z]+/, '');
  return name || 'df';
}

function pythonString(text: string): string {
  return JSON.stringify(text); // ids are plain ASCII names; JSON string syntax is valid Python here
}

const PREAMBLE = 'import workbench as wb\n\nws = wb.connect()\n';

/** Load the dataset for a project: the project's grant decides the columns; identifiers come pseudonymised. */
export function loadCode(datasetId: string, projectId: string | null): string {
  const project = projectId ?? 'YOUR-PROJECT';
  return (
    PREAMBLE +
    `${frameName(datasetId)} = ws.project(${pythonString(project)}).load(${pythonString(datasetId)})  ` +
    '# columns as granted; loads are audited\n' +
    `${frameName(datasetId)}.head()`
  );
}

/** Open the dataset's synthetic twin: same columns and types, no real row, no grant needed. */
export function twinCode(datasetId: string): string {
  return (
    PREAMBLE +
    `${frameName(datasetId)}_twin = ws.catalogue.twin(${pythonString(datasetId)})\n${frameName(datasetId)}_twin.head()`
  );
}
