/**
 * The extension's settings (schema/plugin.json): the catalogue's search-as-you-type delay and page size. The
 * settings registry validates against the schema; `catalogueSettings` still falls back to the defaults on
 * anything else, so a hand-edited settings file can never stall the search or ask the server for a page it
 * refuses.
 */

import { PAGE_SIZE } from './paging';

/**
 * Quiet time after the last keystroke before searching. The goal is results within 200 ms of the last keystroke
 * over 10,000 entries, so the wait must leave room for the request (~10–30 ms) and the rendering of a page;
 * shorter would send a request per keystroke for most typists (superseded answers are dropped anyway).
 */
export const SEARCH_DELAY_MS = 100;
/** The largest page the server answers (docs/openapi.yaml, `limit` of GET /catalogue). */
export const MAX_PAGE_SIZE = 200;
const MAX_SEARCH_DELAY_MS = 2000;

export interface CatalogueSettings {
  /** Milliseconds of quiet after the last keystroke before searching. */
  searchDelay: number;
  /** Entries per page of results. */
  pageSize: number;
}

export const DEFAULT_SETTINGS: CatalogueSettings = { searchDelay: SEARCH_DELAY_MS, pageSize: PAGE_SIZE };

function whole(value: unknown, min: number, max: number, fallback: number): number {
  return typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max ? value : fallback;
}

/** The catalogue's settings from the registry's composite values (defaults for anything missing or invalid). */
export function catalogueSettings(values: Record<string, unknown> | null | undefined): CatalogueSettings {
  return {
    searchDelay: whole(values?.searchDelay, 0, MAX_SEARCH_DELAY_MS, DEFAULT_SETTINGS.searchDelay),
    pageSize: whole(values?.pageSize, 1, MAX_PAGE_SIZE, DEFAULT_SETTINGS.pageSize)
  };
}
