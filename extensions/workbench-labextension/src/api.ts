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
}

/** One page of a search: the results, and the number of all matches (for "Showing 51–100 of 1,234"). */
export interface SearchPage {
  results: SearchResult[];
  total: number;
  offset: number;
  limit: number;
}

export interface NewRequest {
  project_id: string;
  dataset_id: string;
  columns: string[] | null;
  justification: string;
}

export interface Decision {
  decision: 'approve' | 'refuse';
  columns?: string[] | null;
  expires?: string | null;
  conditions?: string;
  reason?: string | null;
}

/** A refusal or failure, with the server's message and the input field it names (if any). */
export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly field: string | null = null
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
    ['offset', query.offset || null]
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
  try {
    const body = await response.json();
    if (body && typeof body.message === 'string' && body.message) {
      message = body.message;
      field = typeof body.field === 'string' ? body.field : null;
    }
  } catch {
    // not JSON (a proxy's error page): keep the status line
  }
  return new ApiError(message, response.status, field);
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
  async toDecide(): Promise<AccessRequest[]> {
    const body = await this.call<{ requests: AccessRequest[] }>('requests/to-decide');
    return body.requests;
  }

  decide(requestId: number, decision: Decision): Promise<AccessRequest> {
    return this.call<AccessRequest>(`requests/${encodeURIComponent(String(requestId))}/decision`, {
      method: 'POST',
      body: JSON.stringify(decision),
      headers: { 'Content-Type': 'application/json' }
    });
  }
}
