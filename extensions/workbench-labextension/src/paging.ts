/**
 * Paging through catalogue search results, apart from the DOM: the server answers one page and the count of all
 * matches (`total`); these functions say what the panel shows ("Showing 51–100 of 1,234") and where the next and
 * previous buttons go, so the browser never holds more than a page of a 10,000-entry catalogue.
 */

/** Entries per page: small enough to render well within a keystroke's budget, large enough to scan. */
export const PAGE_SIZE = 50;

export interface Page {
  offset: number;
  limit: number;
  total: number;
  /** How many results the page holds (less than `limit` on the last page). */
  shown: number;
}

function count(value: number): string {
  return value.toLocaleString('en-GB');
}

/** "No entries", "1 entry", "14 entries" (everything on one page) or "Showing 51–100 of 1,234 entries". */
export function pageLabel(page: Page): string {
  if (page.total === 0) {
    return 'No entries';
  }
  if (page.offset === 0 && page.shown === page.total) {
    return page.total === 1 ? '1 entry' : `${count(page.total)} entries`;
  }
  if (page.shown === 0) {
    return `Nothing on this page: ${count(page.total)} entries in all`;
  }
  return `Showing ${count(page.offset + 1)}–${count(page.offset + page.shown)} of ${count(page.total)} entries`;
}

export function hasPrevious(page: Page): boolean {
  return page.offset > 0;
}

export function hasNext(page: Page): boolean {
  return page.offset + page.limit < page.total;
}

/** The offset of the next page (unchanged on the last page). */
export function nextOffset(page: Page): number {
  return hasNext(page) ? page.offset + page.limit : page.offset;
}

/** The offset of the previous page, never below 0; a page past the end goes back to the last real page. */
export function previousOffset(page: Page): number {
  if (page.offset >= page.total && page.total > 0) {
    return Math.floor((page.total - 1) / page.limit) * page.limit;
  }
  return Math.max(0, page.offset - page.limit);
}
