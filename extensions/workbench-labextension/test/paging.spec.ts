import { hasNext, hasPrevious, nextOffset, Page, pageLabel, previousOffset } from '../src/paging';

const page = (offset: number, total: number, limit = 50): Page => ({
  offset,
  limit,
  total,
  shown: Math.max(0, Math.min(limit, total - offset))
});

describe('pageLabel', () => {
  it('counts plainly when everything is on one page', () => {
    expect(pageLabel(page(0, 0))).toBe('No entries');
    expect(pageLabel(page(0, 1))).toBe('1 entry');
    expect(pageLabel(page(0, 14))).toBe('14 entries');
    expect(pageLabel(page(0, 50))).toBe('50 entries');
  });
  it('shows the range and the total when there are more pages', () => {
    expect(pageLabel(page(0, 1234))).toBe('Showing 1–50 of 1,234 entries');
    expect(pageLabel(page(50, 1234))).toBe('Showing 51–100 of 1,234 entries');
    expect(pageLabel(page(1200, 1234))).toBe('Showing 1,201–1,234 of 1,234 entries');
    expect(pageLabel(page(10, 12, 5))).toBe('Showing 11–12 of 12 entries');
  });
  it('says so when a page is past the end (the catalogue shrank)', () => {
    expect(pageLabel(page(100, 60))).toBe('Nothing on this page: 60 entries in all');
  });
});

describe('next and previous', () => {
  it('pages forward until the last page', () => {
    let p = page(0, 120);
    const seen = [p.offset];
    while (hasNext(p)) {
      p = page(nextOffset(p), 120);
      seen.push(p.offset);
    }
    expect(seen).toEqual([0, 50, 100]);
    expect(nextOffset(p)).toBe(100);
    expect(hasNext(page(0, 50))).toBe(false);
    expect(hasNext(page(0, 51))).toBe(true);
  });
  it('pages back to the first page and no further', () => {
    expect(hasPrevious(page(0, 120))).toBe(false);
    expect(hasPrevious(page(50, 120))).toBe(true);
    expect(previousOffset(page(100, 120))).toBe(50);
    expect(previousOffset(page(50, 120))).toBe(0);
    expect(previousOffset(page(0, 120))).toBe(0);
    expect(previousOffset(page(30, 120))).toBe(0);
  });
  it('goes back from past the end to the last real page', () => {
    expect(previousOffset(page(300, 120))).toBe(100);
    expect(previousOffset(page(100, 100))).toBe(50);
    expect(previousOffset(page(50, 0))).toBe(0);
  });
});
