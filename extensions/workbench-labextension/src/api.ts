/**
 * The client of the workbench's REST API (docs/openapi.yaml): typed calls, and the server's refusals
 * turned into `ApiError`s that carry its message (which says what to do next) and the field at fault.
 *
 * The transport is injected so that the panels use JupyterLab's authenticated `ServerConnection` and the
 * unit tests a fake.
 */

export const API_PREFIX = 'workbench/api';

/** Send one request: path under the API prefix, fetch options; resolve to the raw Response. */
export type Transport = (path: string, init: RequestInit) => Promise<Response>;

export interface SearchResult {
  id: string;
  title: string;
  department: string;
  owner: string | null;
  missions: number[];
  themes: string[];
  access_rights: string;
  security_classification: string;
  rows: number | null;
  summary: string;
  score: number;
}

export interface SchemaColumn {
  name: string;
  type: string;
  role: string;
  completeness: number | null;
  categories: string[] | null;
  description: string;
}

export interface CatalogueEntry {
  id: string;
  title: string;
  description: string;
  summary: string | null;
  department: { slug: string; name: string | null };
  owner: { username: string | null; name: string | null };
  legal_gateways: string[];
  missions: number[];
  access_rights: string;
  security_classification: string;
  row_count: number | null;
  temporal_coverage: Record<string, string> | null;
  spatial_coverage: string | null;
  update_frequency: string | null;
  has_data: boolean;
  schema: SchemaColumn[];
  twin_preview: { columns: string[]; rows: Record<string, unknown>[] } | null;
  twin_note: string | null;
  /** The full UK metadata model record. */
  record: Record<string, unknown>;
  /** What the catalogue noticed without refusing the entry (e.g. a record key registered with role "other"). */
  warnings: string[];
  /** Every version of its data, oldest first (the last is current). */
  versions: EntryVersion[];
  /** Where its data is held (copied into the vault or read in place at its source); null without data. */
  storage: EntryStorage | null;
  /** The dataset's person-index quality record: for its owner, delegates, admins and linkers only (else null). */
  person_index: PersonIndexQuality | null;
  /** Whether the viewer may decide the dataset's clerical review pairs (admins and linkers). */
  index_review: boolean;
}

/** Where an entry's data is held: copied into the vault, or read in place at a source named without any login. */
export interface EntryStorage {
  mode: 'copy' | 'in-place';
  kind?: 'csv' | 'parquet' | 'table' | 'query';
  location?: string;
  table?: string | null;
  /** The source in words, e.g. "CSV file data/admissions.csv" or "table s.adm at postgresql://host:5432/db". */
  source?: string;
}

/** One field at fault in a refused entry or form (e.g. "columns[2].type", "title", "path"). */
export interface Problem {
  field: string;
  message: string;
}

/** Where the data to register is: a file or folder relative to the lab's folder, or a database table or query. */
export interface LabSource {
  path?: string | null;
  url?: string | null;
  table?: string | null;
  query?: string | null;
}

export type RegisterMode = 'copy' | 'in-place';

export interface RegisterBody extends LabSource {
  /** The entry as the owner edited it (UK metadata model YAML). */
  entry: string;
  mode: RegisterMode;
}

/** A drafted entry: its YAML, the source as the lab names it, and the fields still to complete. */
export interface Draft {
  yaml: string;
  source: string;
  problems: Problem[];
}

/** An uncertain pair of a person-index update: a record of the dataset and a person of the index or a record. */
export interface ReviewPair {
  kind: 'person' | 'record';
  row: number;
  candidate: string;
  match_weight: number;
  match_probability: number;
  accepted: boolean;
  /** The identifying fields compared, side by side; null when the dataset's file changed since its last update. */
  fields: ReviewField[] | null;
}

/** One identifying field of a review pair, normalised: the record's value, the candidate's, and how they agree. */
export interface ReviewField {
  field: string;
  record: string | null;
  candidate: string | null;
  agreement: 'same' | 'differs' | 'missing';
}

export interface IndexReview {
  dataset_id: string;
  pairs: ReviewPair[];
}

/** A clerical decision on a review pair, as sent. */
export interface IndexDecisionBody {
  row: number;
  candidate: string;
  decision: 'match' | 'non-match';
  note?: string | null;
}

/** A clerical decision as recorded: pending until the next index update applies it. */
export interface IndexDecision {
  id: number;
  dataset_id: string;
  kind: 'person' | 'record';
  row: number;
  candidate: string;
  decision: 'match' | 'non-match';
  note: string | null;
  decided_by: string;
  decided_at: string;
  status: string;
}

/** Precision and recall of the person index measured against known truth (pairs of records). */
export interface IndexMeasurement {
  precision: number | null;
  recall: number | null;
  f1: number | null;
  true_pairs: number;
  linked_pairs: number;
  correct_pairs: number;
}

/**
 * A dataset's person-index coverage and quality record (its latest index update): numbers only, never an
 * identifying value or an index id. A dataset never linked has `indexed: false` and only says why in `warnings`.
 */
export interface PersonIndexQuality {
  dataset_id: string;
  indexed: boolean;
  warnings: string[];
  /** Not yet linked: whether the dataset is about people at all. */
  person_level?: boolean;
  /** Index field → the dataset's column read for it. */
  fields?: Record<string, string>;
  relinked?: boolean;
  records?: number;
  compared?: number;
  unchanged?: number;
  linked?: number;
  new_persons?: number;
  unlinked?: number;
  review?: number;
  /** Share of records with a person id. */
  coverage?: number;
  /** Share of compared records that matched a person already in the index. */
  match_rate?: number | null;
  estimated_precision?: number | null;
  estimated_recall?: number | null;
  expected?: { true_positives: number; false_positives: number; false_negatives: number } | null;
  review_band?: number[];
  /** Uncertain pairs held for clerical review. */
  review_held?: number;
  measured?: IndexMeasurement;
  /** Clerical review decisions applied to the dataset, awaiting the next update, applied by the latest update. */
  review_decided?: number;
  review_pending?: number;
  decisions_applied?: number;
  update?: number;
  updates?: number;
  updated_by?: string;
  updated_at?: string;
  /** The index version the latest update made. */
  version?: string;
}

export interface Project {
  id: string;
  title: string;
  mission: number;
  status: string;
  lead: string;
  legal_gateway: string;
  start_date: string;
  end_date: string;
  my_role: string | null;
}

export interface AccessRequest {
  id: number;
  project_id: string;
  dataset_id: string;
  requested_by: string;
  columns: string[];
  justification: string;
  status: 'pending' | 'approved' | 'refused' | 'withdrawn';
  requested_at: string;
  decided_by: string | null;
  decided_at: string | null;
  reason: string | null;
  grant_id: number | null;
  expires: string | null;
}

export interface SearchQuery {
  q?: string;
  department?: string;
  mission?: number | null;
  theme?: string;
  classification?: string;
  access?: string;
  limit?: number;
  offset?: number;
  /** Also answer what each filter can take, with counts. */
  facets?: boolean;
}

/** One value a filter can take: the label to show, the value to send, and how many entries have it. */
export interface Facet {
  label: string;
  value: string | number;
  count: number;
}

/** One page of a search: the results, and the number of all matches (for "Showing 51–100 of 1,234"). */
export interface SearchPage {
  results: SearchResult[];
  total: number;
  offset: number;
  limit: number;
  /** "Did you mean …": the text with a word no entry holds replaced by the nearest catalogue word, or null. */
  suggestion: string | null;
  /** Only when asked for (`facets: true`): department, mission, theme, security_classification, access_rights. */
  facets?: Record<string, Facet[]>;
}

/** A catalogue entry the signed-in person owns. */
export interface OwnedDataset {
  id: string;
  title: string;
  /** How I hold it: its owner, or a delegate who decides its requests for the owner. */
  role: 'owner' | 'delegate';
}

export interface NewRequest {
  project_id: string;
  dataset_id: string;
  columns: string[] | null;
  justification: string;
}

/** One version of a dataset's data, as its catalogue entry lists it: each registration with data makes one. */
export interface EntryVersion {
  number: number;
  registeredAt: string;
  registeredBy: string;
  rows: number | null;
  /** SHA-256 of the file the vault stores (copied data). */
  checksum: string | null;
  /** The source's snapshot marker (data read in place). */
  marker: string | null;
  mode: 'copy' | 'in-place';
  current: boolean;
}

export interface Decision {
  decision: 'approve' | 'refuse';
  columns?: string[] | null;
  identifiers?: string[];
  linkage?: string[];
  expires?: string | null;
  conditions?: string;
  reason?: string | null;
  /** Pin the grant to this version of the data (null or absent: whichever is current). */
  version?: number | null;
}

/** A row of the output-checking queue. */
export interface QueueRow {
  id: number;
  project_id: string;
  title: string;
  status: string;
  submitted_at: string | null;
  outputs: number;
  reviews_in: number;
  reviews_needed: number;
  awaiting_me: number;
  /** Outputs a dataset of whose lineage has no current grant: nobody may review them until it is renewed. */
  blocked: number;
}

/** A concluded request (approved, returned, rejected or released) in a checker's history, with who decided when. */
export interface HistoryRow {
  id: number;
  project_id: string;
  title: string;
  status: string;
  submitted_at: string | null;
  concluded_by: string | null;
  concluded_at: string | null;
  released_by: string | null;
  released_at: string | null;
}

/** One cell of a checked table: its value, the rules that flag it, and whether mitigation suppressed it. */
export interface CheckedCell {
  value: number | string | boolean | null;
  flags: string[];
  suppressed: boolean;
}

/** The unmitigated table of an output, cell by cell (at most 60 rows × 30 columns). */
export interface CheckedTable {
  columns: string[];
  index_names: (string | null)[];
  column_names: (string | null)[];
  rows: { label: string; cells: CheckedCell[] }[];
  total_rows: number;
  total_columns: number;
}

/** One cell of the table as it will be released: its value, and whether mitigation changed it. */
export interface ReleasedCell {
  value: number | string | boolean | null;
  changed: boolean;
}

/** The table as it will be released (after mitigation), in the shape of the checked table. */
export interface ReleasedTable {
  columns: string[];
  index_names: (string | null)[];
  column_names: (string | null)[];
  rows: { label: string; cells: ReleasedCell[] }[];
  total_rows: number;
  total_columns: number;
}

/** A catalogue dataset behind an output, with its version (null when it is no longer in the catalogue). */
export interface DatasetVersion {
  id: string;
  title: string | null;
  version: string | null;
}

/**
 * Where an output's numbers came from: computed by the workbench from a spec (source, version, file SHA-256,
 * spec), or an analyst-supplied frame (the lineage the workbench tracked, and what the analyst declared).
 */
export interface Provenance {
  class: 'computed' | 'analyst-supplied';
  headline: string;
  note: string | null;
  source: string | null;
  source_kind: string | null;
  version: string | number | null;
  sha256: string | null;
  spec: Record<string, unknown> | null;
  lineage: string[] | null;
  declared: string[] | null;
  datasets: DatasetVersion[];
}

/** An output that may not go further while a dataset in its lineage is not under a current grant. */
export interface BlockedOutput {
  output: number;
  dataset: string;
  reason: string;
}

export interface CheckerAids {
  cells: number;
  numeric_cells: number;
  min: number | null;
  min_excluding_zero: number | null;
  max: number | null;
  sum: number | null;
  share_divisible_by_5: number | null;
  flagged: Record<string, number>;
}

export interface OutputReview {
  output_id: number;
  round: number;
  reviewer: string;
  decision: string;
  comment: string | null;
  created_at: string;
}

export interface OutputUnderReview {
  id: number;
  /** Shown first: computed by the workbench, or an analyst-supplied frame. */
  provenance: Provenance;
  name: string;
  kind: string;
  method: string;
  author: string;
  status: 'pass' | 'fail' | 'review';
  status_before_mitigation: string | null;
  summary: string;
  explain: string;
  exception: string | null;
  comments: string[];
  sources: string[];
  derived_from: string[];
  round: number;
  reviews_in: number;
  reviews: OutputReview[];
  can_review: boolean;
  why_not: string | null;
  table: CheckedTable | null;
  /** The table as it will be released, drawn beside the unmitigated `table`. */
  released_table: ReleasedTable | null;
  aids: CheckerAids | null;
  warnings: string[];
  failures: { row: string; column: string; rule: string; reason: string }[];
  files: string[];
  previews: FilePreview[];
  /** Every field of this output that a release package holds (results.json, manifest.json, the files). */
  released: ReleasedOutput;
  /** What the text screen finds in the released text now (empty: nothing looks like an identifier). */
  text_check: string[];
}

/** An output as it leaves the workspace: the package is made from these fields and nothing else. */
export interface ReleasedOutput {
  uid: string;
  command: string;
  properties: Record<string, unknown>;
  files: string[];
  table: { file: string; csv: string } | null;
  [field: string]: unknown;
}

/** A custom file as a checker sees it: the start of a text file, or an image (a data URI), or only its name. */
export interface FilePreview {
  name: string;
  text: string | null;
  truncated: boolean;
  image: string | null;
}

export interface OutputRequestRecord {
  id: number;
  project_id: string;
  title: string;
  status: string;
  context: Record<string, string>;
  /** Each output's id, name, kind, status and round. */
  outputs: Record<string, unknown>[];
  conclusion?: string | null;
  concluded_by?: string | null;
}

export interface RequestUnderReview {
  request: OutputRequestRecord;
  reviews_required: number;
  project: { id: string; title: string; purpose: string; legal_gateway: string; lead: string; status: string };
  outputs: OutputUnderReview[];
  /** The request-level fields a release holds: request, project, datasets and versions, saved frames, reviews. */
  released: Record<string, unknown>;
  text_check: string[];
  /** Outputs a revoked or expired grant blocks (absent or empty: none). */
  blocked?: BlockedOutput[];
}

export interface ManifestSummary {
  request: { id: number; title: string; approved_by: string | null; released_by: string; released_at: string };
  project: string;
  datasets: { id: string; version: string }[];
  outputs: { id: number; uid: string; name: string; kind: string; files: string[] }[];
  files: Record<string, { sha256: string; bytes: number }>;
  reviews: number;
}

export interface Release {
  request_id: number;
  status: string;
  package: string;
  manifest_sha256: string;
  released_by: string;
  released_at: string;
  problems: string[];
  manifest: ManifestSummary | null;
}

export interface PackageManifest extends Omit<Release, 'manifest'> {
  manifest: Record<string, unknown> | null;
}

export type ReviewDecision = 'approve' | 'changes' | 'reject';
export type Outcome = 'approve' | 'return' | 'reject';

/** A checker's review of one output. */
export interface OutputDecision {
  decision: ReviewDecision;
  comment: string | null;
}

/** The conclusion of a reviewed output request. */
export interface Conclusion {
  outcome: Outcome;
  comment: string | null;
}

/** One output request of a project I belong to, as I may see it (My outputs). */
export interface MyOutputRequest {
  id: number;
  project_id: string;
  title: string;
  status: string;
  context: Record<string, string>;
  created_by: string;
  created_at: string;
  submitted_at: string | null;
  concluded_by: string | null;
  concluded_at: string | null;
  conclusion: string | null;
  released_by: string | null;
  released_at: string | null;
  outputs: { id: number; name: string; kind: string; status: string; round: number }[];
  /** The checkers' reviews of a concluded request, or of earlier rounds (blind until then). */
  reviews: OutputReview[];
  /** A released request's package files (empty until it is released). */
  files: { name: string; bytes: number | null; sha256: string | null }[];
}

/** A file the server sent to be saved: its name (from Content-Disposition) and content. */
export interface DownloadedFile {
  name: string;
  blob: Blob;
}

/** The file name a Content-Disposition header gives, or `fallback`. */
export function dispositionName(header: string | null, fallback: string): string {
  const found = /filename="([^"]+)"/.exec(header ?? '');
  return found ? found[1] : fallback;
}

/** The owner's usage report of one dataset. */
export interface UsageReport {
  dataset_id: string;
  owner: string | null;
  grants: Record<string, unknown>[];
  loads: Record<string, unknown>[];
  derived: Record<string, unknown>[];
  releases: Record<string, unknown>[];
  privacy: Record<string, unknown>[];
  /** Every output made from the dataset, with its provenance class (computed or analyst-supplied). */
  outputs?: Record<string, unknown>[];
  /** What a revoked or expired grant for the dataset stopped: refused reads, outputs, requests, reviews, releases. */
  blocked?: Record<string, unknown>[];
  /** Every version of its data (number, when, rows, checksum or marker, current), the loads that read it and the
   * current grants covering it. */
  versions?: Record<string, unknown>[];
  /** How its records link to the person index (null when it was never linked). */
  person_index?: PersonIndexQuality | null;
}

export interface AuditCheck {
  ok: boolean;
  events: number;
  first_broken: number | null;
  /** Why the chain is broken (empty when it is whole). */
  reason: string;
}

/** A refusal or failure, with the server's message and the input field it names (if any). */
export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly field: string | null = null,
    /** Every field at fault, when the server listed them (the owner's register routes). */
    readonly problems: Problem[] = []
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** The query string of a catalogue search: empty values left out, in a stable order. */
export function searchParams(query: SearchQuery): string {
  const params = new URLSearchParams();
  const entries: [string, unknown][] = [
    ['q', query.q?.trim()],
    ['department', query.department?.trim()],
    ['mission', query.mission],
    ['theme', query.theme?.trim()],
    ['classification', query.classification],
    ['access', query.access],
    ['limit', query.limit],
    ['offset', query.offset || null],
    ['facets', query.facets ? 'true' : null]
  ];
  for (const [name, value] of entries) {
    if (value !== undefined && value !== null && value !== '') {
      params.set(name, String(value));
    }
  }
  const text = params.toString();
  return text ? `?${text}` : '';
}

async function readError(response: Response): Promise<ApiError> {
  let message = `The workbench server answered ${response.status} ${response.statusText}.`;
  let field: string | null = null;
  let problems: Problem[] = [];
  try {
    const body = await response.json();
    if (body && typeof body.message === 'string' && body.message) {
      message = body.message;
      field = typeof body.field === 'string' ? body.field : null;
      if (Array.isArray(body.problems)) {
        problems = body.problems
          .filter((p: unknown) => p && typeof (p as Problem).message === 'string')
          .map((p: Problem) => ({ field: String(p.field ?? ''), message: p.message }));
      }
    }
  } catch {
    // not JSON (a proxy's error page): keep the status line
  }
  return new ApiError(message, response.status, field, problems);
}

/** The workbench API as typed methods. */
export class WorkbenchApi {
  constructor(private readonly transport: Transport) {}

  private async call<T>(path: string, init: RequestInit = {}): Promise<T> {
    let response: Response;
    try {
      response = await this.transport(path, init);
    } catch (error) {
      throw new ApiError(`Cannot reach the workbench server: ${(error as Error).message}`, 0);
    }
    if (!response.ok) {
      throw await readError(response);
    }
    return (await response.json()) as T;
  }

  /** One page of the ranking (the server's default page size unless `limit` is given) and the total. */
  search(query: SearchQuery): Promise<SearchPage> {
    return this.call<SearchPage>(`catalogue${searchParams(query)}`);
  }

  entry(datasetId: string): Promise<CatalogueEntry> {
    return this.call<CatalogueEntry>(`catalogue/${encodeURIComponent(datasetId)}`);
  }

  async projects(): Promise<Project[]> {
    const body = await this.call<{ projects: Project[] }>('projects');
    return body.projects;
  }

  requestAccess(request: NewRequest): Promise<AccessRequest> {
    return this.call<AccessRequest>('requests', {
      method: 'POST',
      body: JSON.stringify(request),
      headers: { 'Content-Type': 'application/json' }
    });
  }

  async myRequests(): Promise<AccessRequest[]> {
    const body = await this.call<{ requests: AccessRequest[] }>('requests/mine');
    return body.requests;
  }

  /** Requests waiting for my decision (data owners, delegates, admins; others are refused with 403). */
  async toDecide(status: 'pending' | 'all' = 'pending'): Promise<AccessRequest[]> {
    const body = await this.call<{ requests: AccessRequest[] }>(
      status === 'all' ? 'requests/to-decide?status=all' : 'requests/to-decide'
    );
    return body.requests;
  }

  decide(requestId: number, decision: Decision): Promise<AccessRequest> {
    return this.post<AccessRequest>(`requests/${encodeURIComponent(String(requestId))}/decision`, decision);
  }

  private post<T>(path: string, body: unknown): Promise<T> {
    return this.call<T>(path, {
      method: 'POST',
      body: JSON.stringify(body),
      headers: { 'Content-Type': 'application/json' }
    });
  }

  /** Output requests being checked, of projects I do not belong to (output checkers; others get 403). */
  async reviewQueue(): Promise<QueueRow[]> {
    const body = await this.call<{ requests: QueueRow[] }>('review/queue');
    return body.requests;
  }

  /** Concluded requests, latest first; `status` keeps one status (e.g. 'released'). */
  async reviewHistory(status?: string): Promise<HistoryRow[]> {
    const query = status ? `?status=${encodeURIComponent(status)}` : '';
    const body = await this.call<{ requests: HistoryRow[] }>(`review/history${query}`);
    return body.requests;
  }

  reviewRequest(requestId: number): Promise<RequestUnderReview> {
    return this.call<RequestUnderReview>(`review/requests/${requestId}`);
  }

  reviewOutput(
    requestId: number,
    outputId: number,
    decision: ReviewDecision,
    comment: string | null
  ): Promise<OutputRequestRecord> {
    const body: OutputDecision = { decision, comment };
    return this.post(`review/requests/${requestId}/outputs/${outputId}/decision`, body);
  }

  conclude(requestId: number, outcome: Outcome, comment: string | null): Promise<OutputRequestRecord> {
    const body: Conclusion = { outcome, comment };
    return this.post(`review/requests/${requestId}/conclusion`, body);
  }

  release(requestId: number): Promise<Release> {
    return this.post(`review/requests/${requestId}/release`, {});
  }

  manifest(requestId: number): Promise<PackageManifest> {
    return this.call<PackageManifest>(`review/requests/${requestId}/manifest`);
  }

  /** The output requests of every project I belong to (My outputs). */
  async myOutputRequests(): Promise<MyOutputRequest[]> {
    const body = await this.call<{ requests: MyOutputRequest[] }>('output-requests/mine');
    return body.requests;
  }

  /** The path of a released package (the zip), or of one of its files, under the API prefix. */
  static packagePath(requestId: number, file?: string): string {
    const base = `output-requests/${encodeURIComponent(String(requestId))}/package`;
    return file === undefined ? base : `${base}/${encodeURIComponent(file)}`;
  }

  /** Download a released package (zip) or one of its files (its members, checkers and sources' owners). */
  async download(requestId: number, file?: string): Promise<DownloadedFile> {
    let response: Response;
    try {
      response = await this.transport(WorkbenchApi.packagePath(requestId, file), {});
    } catch (error) {
      throw new ApiError(`Cannot reach the workbench server: ${(error as Error).message}`, 0);
    }
    if (!response.ok) {
      throw await readError(response);
    }
    const fallback = file ?? `request-${requestId}.zip`;
    return {
      name: dispositionName(response.headers.get('Content-Disposition'), fallback),
      blob: await response.blob()
    };
  }

  /** Where a dataset went: its owner, delegates and admins; others get 403. */
  usage(datasetId: string): Promise<UsageReport> {
    return this.call<UsageReport>(`owner/usage/${encodeURIComponent(datasetId)}`);
  }

  /** A dataset's clerical review queue in the person index (admins and linkers). */
  indexReview(datasetId: string): Promise<IndexReview> {
    return this.call<IndexReview>(`person-index/${encodeURIComponent(datasetId)}/review`);
  }

  /** Decide one review pair a match or not; the next index update applies it. */
  decideIndexPair(datasetId: string, body: IndexDecisionBody): Promise<IndexDecision> {
    return this.post<IndexDecision>(`person-index/${encodeURIComponent(datasetId)}/review/decision`, body);
  }

  /** The catalogue entries I own or am a delegate for (empty for someone who decides for none). */
  async myDatasets(): Promise<OwnedDataset[]> {
    const body = await this.call<{ datasets: OwnedDataset[] }>('owner/datasets');
    return body.datasets;
  }

  /** A draft entry from a file or folder in the lab, or a database table or query (owners and admins). */
  draft(source: LabSource): Promise<Draft> {
    return this.post<Draft>('owner/draft', source);
  }

  /** Register the edited entry with the source's data, copied or in place; refusals carry `problems`. */
  register(body: RegisterBody): Promise<CatalogueEntry> {
    return this.post<CatalogueEntry>('owner/register', body);
  }

  /** Recompute the audit log's hash chain (admins). */
  verifyAudit(): Promise<AuditCheck> {
    return this.call<AuditCheck>('admin/audit/verify');
  }
}
