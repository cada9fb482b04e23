/**
 * The DP accuracy explorer's ε slider (an ipywidgets FloatLogSlider in a notebook) for screen readers: its handle
 * moves on a log scale, so ipywidgets announces the exponent ("-0.30") rather than ε. Whenever such a handle
 * appears or moves, it is given the readable value ("ε = 0.5") as aria-valuetext and is tied by aria-labelledby to
 * the slider's visible label. The explorer marks its slider with the class below (workbench/widgets/dp.py).
 */

import { formatNumber } from './labels';

/** The class the accuracy explorer gives its ε slider. */
export const EPSILON_SLIDER_CLASS = 'wb-dp-epsilon';

/**
 * What the handle announces: ε from the slider's readout (ε itself, as shown beside the slider), else from the
 * handle's position (log10 ε); null when neither reads as a number.
 */
export function epsilonText(readout: string | null | undefined, logValue: string | null | undefined): string | null {
  const shown = readout === null || readout === undefined || !readout.trim() ? NaN : Number(readout.trim());
  const epsilon = Number.isFinite(shown)
    ? shown
    : logValue === null || logValue === undefined || !logValue.trim()
      ? NaN
      : 10 ** Number(logValue);
  return Number.isFinite(epsilon) && epsilon > 0 ? `ε = ${formatNumber(epsilon)}` : null;
}

let labels = 0;

/** Give every ε slider handle under `root` its readable value and its label. */
export function describeEpsilonSliders(root: ParentNode): void {
  for (const slider of Array.from(root.querySelectorAll(`.${EPSILON_SLIDER_CLASS}`))) {
    const handle = slider.querySelector('[role="slider"]');
    if (!handle) {
      continue;
    }
    const text = epsilonText(
      slider.querySelector('.widget-readout')?.textContent,
      handle.getAttribute('aria-valuenow')
    );
    if (text && handle.getAttribute('aria-valuetext') !== text) {
      handle.setAttribute('aria-valuetext', text);
    }
    const label = slider.querySelector('.widget-label');
    if (label && label.textContent?.trim()) {
      if (!label.id) {
        label.id = `wb-dp-epsilon-label-${++labels}`;
      }
      if (handle.getAttribute('aria-labelledby') !== label.id) {
        handle.setAttribute('aria-labelledby', label.id);
      }
    }
  }
}

/**
 * Keep the ε sliders of `root` described as they are added and moved (cheap when there is none: the watcher
 * returns at once unless an explorer is on the page).
 */
export function watchEpsilonSliders(root: HTMLElement): MutationObserver {
  const present = root.getElementsByClassName(EPSILON_SLIDER_CLASS);
  const observer = new MutationObserver(() => {
    if (present.length) {
      describeEpsilonSliders(root);
    }
  });
  observer.observe(root, {
    subtree: true,
    childList: true,
    characterData: true,
    attributes: true,
    attributeFilter: ['aria-valuenow']
  });
  describeEpsilonSliders(root);
  return observer;
}
