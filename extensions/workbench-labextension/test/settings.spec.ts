import meta from '../package.json';
import schema from '../schema/plugin.json';
import { SearchPage, SearchQuery, WorkbenchApi } from '../src/api';
import { CataloguePanel } from '../src/catalogue-panel';
import { PAGE_SIZE } from '../src/paging';
import { catalogueSettings, DEFAULT_SETTINGS, SEARCH_DELAY_MS } from '../src/settings';

describe('the settings schema', () => {
  it('defaults to the constants the panel used before it had settings', () => {
    expect(schema.properties.searchDelay.default).toBe(SEARCH_DELAY_MS);
    expect(schema.properties.pageSize.default).toBe(PAGE_SIZE);
    expect(DEFAULT_SETTINGS).toEqual({ searchDelay: 100, pageSize: 50 });
  });
  it('is the schema of the plugin, declared in package.json', () => {
    expect(meta.jupyterlab.schemaDir).toBe('schema');
    expect(Object.keys(schema.properties).sort()).toEqual(Object.keys(DEFAULT_SETTINGS).sort());
  });
});

describe('catalogueSettings', () => {
  it('reads the composite values', () => {
    expect(catalogueSettings({ searchDelay: 250, pageSize: 20 })).toEqual({ searchDelay: 250, pageSize: 20 });
  });
  it('falls back to the defaults on missing or invalid values', () => {
    expect(catalogueSettings(null)).toEqual(DEFAULT_SETTINGS);
    expect(catalogueSettings({ searchDelay: -1, pageSize: 500 })).toEqual(DEFAULT_SETTINGS);
    expect(catalogueSettings({ searchDelay: '10', pageSize: 2.5 })).toEqual(DEFAULT_SETTINGS);
  });
  it('keeps within the bounds the schema states', () => {
    const { searchDelay, pageSize } = schema.properties;
    expect(catalogueSettings({ searchDelay: searchDelay.maximum, pageSize: pageSize.maximum })).toEqual({
      searchDelay: searchDelay.maximum,
      pageSize: pageSize.maximum
    });
    expect(catalogueSettings({ searchDelay: searchDelay.maximum + 1, pageSize: pageSize.minimum - 1 })).toEqual(
      DEFAULT_SETTINGS
    );
  });
});

/** A catalogue panel over an API that records each search and answers an empty page. */
function panelRecordingSearches(): { panel: CataloguePanel; searches: SearchQuery[] } {
  const searches: SearchQuery[] = [];
  const api = {
    search: async (query: SearchQuery): Promise<SearchPage> => {
      searches.push(query);
      return { results: [], total: 0, offset: query.offset ?? 0, limit: query.limit ?? 50, suggestion: null };
    }
  } as unknown as WorkbenchApi;
  return { panel: new CataloguePanel(api), searches };
}

function type(panel: CataloguePanel, text: string): void {
  const box = panel.node.querySelector('.wb-search') as HTMLInputElement;
  box.value = text;
  box.dispatchEvent(new Event('input'));
}

describe('the catalogue panel applies changed settings live', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('searches with the default page size and delay', () => {
    const { panel, searches } = panelRecordingSearches();
    expect(searches.map(s => s.limit)).toEqual([PAGE_SIZE]);
    type(panel, 'hospital');
    jest.advanceTimersByTime(SEARCH_DELAY_MS - 1);
    expect(searches).toHaveLength(1);
    jest.advanceTimersByTime(1);
    expect(searches).toHaveLength(2);
  });

  it('searches again from the first page with a new page size', () => {
    const { panel, searches } = panelRecordingSearches();
    panel.configure({ ...DEFAULT_SETTINGS, pageSize: 20 });
    expect(searches.map(s => [s.limit, s.offset])).toEqual([
      [PAGE_SIZE, 0],
      [20, 0]
    ]);
    panel.configure({ ...DEFAULT_SETTINGS, pageSize: 20 });
    expect(searches).toHaveLength(2);
  });

  it('waits the new delay from the next keystroke', () => {
    const { panel, searches } = panelRecordingSearches();
    panel.configure({ searchDelay: 400, pageSize: PAGE_SIZE });
    expect(searches).toHaveLength(1);
    type(panel, 'hospital');
    jest.advanceTimersByTime(399);
    expect(searches).toHaveLength(1);
    jest.advanceTimersByTime(1);
    expect(searches.map(s => s.q)).toEqual(['', 'hospital']);
  });
});
