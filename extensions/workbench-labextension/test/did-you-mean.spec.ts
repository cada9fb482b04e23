import { SearchPage, SearchQuery, WorkbenchApi } from '../src/api';
import { CataloguePanel } from '../src/catalogue-panel';

/** A panel over an API that knows one misspelling: "hosptial" finds nothing and suggests "hospital". */
function panel(): { panel: CataloguePanel; searches: string[] } {
  const searches: string[] = [];
  const api = {
    search: async (query: SearchQuery): Promise<SearchPage> => {
      const q = query.q ?? '';
      searches.push(q);
      const hit = { id: 'dhsc.hes_apc', title: 'Hospital Episode Statistics' };
      return {
        results: q === 'hospital' ? [hit] : [],
        total: q === 'hospital' ? 1 : 0,
        offset: 0,
        limit: 50,
        suggestion: q === 'hosptial' ? 'hospital' : null
      } as unknown as SearchPage;
    }
  } as unknown as WorkbenchApi;
  return { panel: new CataloguePanel(api), searches };
}

const settle = () => new Promise(resolve => setTimeout(resolve, 0));

describe('the catalogue panel says "Did you mean"', () => {
  it('offers the suggestion as a link that searches for it', async () => {
    const { panel: shown, searches } = panel();
    const box = shown.node.querySelector('.wb-search') as HTMLInputElement;
    box.value = 'hosptial';
    await shown.search();
    const line = shown.node.querySelector('.wb-did-you-mean') as HTMLElement;
    expect(line.hidden).toBe(false);
    expect(line.textContent).toBe('Did you mean hospital?');
    expect(shown.node.querySelector('.wb-status-line')?.textContent).toBe('No entries');
    (line.querySelector('a.wb-suggestion') as HTMLAnchorElement).click();
    await settle();
    expect(box.value).toBe('hospital');
    expect(searches.slice(-1)).toEqual(['hospital']);
    expect(line.hidden).toBe(true);
    expect(shown.node.querySelector('.wb-status-line')?.textContent).toBe('1 entry');
  });

  it('shows nothing when there is no suggestion', async () => {
    const { panel: shown } = panel();
    await shown.search();
    expect((shown.node.querySelector('.wb-did-you-mean') as HTMLElement).hidden).toBe(true);
  });
});
