import { describeEpsilonSliders, epsilonText, watchEpsilonSliders } from '../src/dp-slider';

/** An ipywidgets FloatLogSlider as the explorer shows it (label, noUiSlider handle, readout). */
function slider(readout: string, logValue: string): HTMLElement {
  const root = document.createElement('div');
  root.innerHTML =
    '<div class="widget-slider wb-dp-epsilon"><label class="widget-label">Privacy loss ε</label>' +
    `<div class="noUi-origin"><div class="noUi-handle" role="slider" aria-valuenow="${logValue}" ` +
    `aria-valuetext="${logValue}"></div></div><div class="widget-readout">${readout}</div></div>`;
  document.body.append(root);
  return root;
}

describe('the ε slider for screen readers', () => {
  it('reads ε, not its logarithm', () => {
    expect(epsilonText('0.5', '-0.30')).toBe('ε = 0.5');
    expect(epsilonText('10', '1.00')).toBe('ε = 10');
    expect(epsilonText('', '0.18')).toBe('ε = 1.51');
    expect(epsilonText(null, null)).toBeNull();
    expect(epsilonText('n/a', 'x')).toBeNull();
  });

  it('gives the handle its readable value and its label', () => {
    const root = slider('1.5', '0.18');
    describeEpsilonSliders(root);
    const handle = root.querySelector('[role="slider"]') as HTMLElement;
    expect(handle.getAttribute('aria-valuetext')).toBe('ε = 1.5');
    const label = document.getElementById(handle.getAttribute('aria-labelledby') ?? '');
    expect(label?.textContent).toBe('Privacy loss ε');
    root.remove();
  });

  it('follows the handle as it moves', async () => {
    const root = slider('0.5', '-0.30');
    const observer = watchEpsilonSliders(root);
    const handle = root.querySelector('[role="slider"]') as HTMLElement;
    expect(handle.getAttribute('aria-valuetext')).toBe('ε = 0.5');
    (root.querySelector('.widget-readout') as HTMLElement).textContent = '2';
    handle.setAttribute('aria-valuetext', '0.30'); // what ipywidgets writes
    handle.setAttribute('aria-valuenow', '0.30');
    await new Promise(resolve => setTimeout(resolve, 0));
    expect(handle.getAttribute('aria-valuetext')).toBe('ε = 2');
    observer.disconnect();
    root.remove();
  });
});
