import { frameName, loadCode, twinCode } from '../src/code';

describe('notebook code', () => {
  it('names frames after the dataset', () => {
    expect(frameName('dhsc.hes_apc')).toBe('hes_apc');
    expect(frameName('ons.2021-census')).toBe('census');
    expect(frameName('x.123')).toBe('df');
  });

  it('loads for a project', () => {
    const code = loadCode('dhsc.hes_apc', 'm1-economic-inactivity');
    expect(code).toContain('ws = wb.connect()');
    expect(code).toContain('hes_apc = ws.project("m1-economic-inactivity").load("dhsc.hes_apc")');
  });

  it('leaves a placeholder when no project is chosen', () => {
    expect(loadCode('ons.lfs', null)).toContain('ws.project("YOUR-PROJECT")');
  });

  it('opens the twin', () => {
    expect(twinCode('ons.lfs')).toContain('lfs_twin = ws.catalogue.twin("ons.lfs")');
  });
});
