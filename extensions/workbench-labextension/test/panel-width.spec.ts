import { Signal } from '@lumino/signaling';
import { Panel, Widget } from '@lumino/widgets';

import {
  clampWidth,
  MIN_WIDTH,
  PanelWidths,
  sizesForWidth,
  storedWidth,
  storeWidth,
  WidthStore,
  widthKey
} from '../src/panel-width';

function memoryStore(): WidthStore & { items: Map<string, string> } {
  const items = new Map<string, string>();
  return { items, getItem: key => items.get(key) ?? null, setItem: (key, value) => void items.set(key, value) };
}

describe('panel widths, pure parts', () => {
  it('keeps a width between the narrowest usable and 80% of the room', () => {
    expect(clampWidth(400.4, 1400)).toBe(400);
    expect(clampWidth(40, 1400)).toBe(MIN_WIDTH);
    expect(clampWidth(5000, 1000)).toBe(800);
  });

  it('reads back what was stored under the panel id, and nothing unreadable', () => {
    const store = memoryStore();
    storeWidth(store, 'workbench-catalogue', 412.6);
    expect(store.items.get(widthKey('workbench-catalogue'))).toBe('413');
    expect(storedWidth(store, 'workbench-catalogue')).toBe(413);
    expect(storedWidth(store, 'workbench-requests')).toBeNull();
    store.setItem(widthKey('workbench-usage'), 'wide');
    expect(storedWidth(store, 'workbench-usage')).toBeNull();
    const refusing: WidthStore = {
      getItem: () => {
        throw new Error('SecurityError');
      },
      setItem: () => {
        throw new Error('QuotaExceededError');
      }
    };
    expect(storedWidth(refusing, 'workbench-catalogue')).toBeNull();
    expect(() => storeWidth(refusing, 'workbench-catalogue', 300)).not.toThrow();
  });

  it('gives the left area its width, the main area the rest, and a hidden right area its old size', () => {
    const sizes = sizesForWidth([0.2, 0.6, 0.2], [200, 800, 0], 400);
    expect(sizes[0]).toBeCloseTo(0.4);
    expect(sizes[1]).toBeCloseTo(0.4); // the hidden area's share goes to the main area (it stretches)
    expect(sizes[2]).toBeCloseTo(0.2); // hidden: comes back as wide as it was
    const shown = sizesForWidth([0.2, 0.6, 0.2], [200, 600, 200], 300);
    expect(shown.map(s => Math.round(s * 1000))).toEqual([300, 500, 200]);
  });
});

/** A split panel as the shell's: a left area holding the panels, the main area, a right area. */
class FakeSplit extends Panel {
  sizes = [0.2, 0.8, 0];
  readonly handleMoved = new Signal<this, void>(this);
  relativeSizes(): number[] {
    return this.sizes;
  }
  setRelativeSizes(sizes: number[]): void {
    this.sizes = sizes;
  }
}

function sized(widget: Widget, width: () => number): Widget {
  widget.node.getBoundingClientRect = () => ({ width: width() }) as DOMRect;
  return widget;
}

describe('PanelWidths', () => {
  it('remembers the width dragged to while a panel is shown and gives it back when it is shown again', () => {
    const split = new FakeSplit();
    const left = new Panel();
    const catalogue = new Widget();
    catalogue.id = 'workbench-catalogue';
    const requests = new Widget();
    requests.id = 'workbench-requests';
    left.addWidget(catalogue);
    left.addWidget(requests);
    sized(left, () => split.sizes[0] * 1000);
    split.addWidget(left);
    split.addWidget(sized(new Widget(), () => split.sizes[1] * 1000));
    const right = new Widget();
    right.hide();
    split.addWidget(right);
    Widget.attach(split, document.body);
    const store = memoryStore();
    const widths = new PanelWidths([catalogue, requests], store);

    requests.hide();
    widths.layoutChanged(); // the catalogue is shown: nothing remembered yet, nothing changes
    expect(split.sizes).toEqual([0.2, 0.8, 0]);
    split.sizes = [0.45, 0.55, 0]; // the user drags the edge
    split.handleMoved.emit();
    expect(storedWidth(store, 'workbench-catalogue')).toBe(450);

    catalogue.hide();
    requests.show();
    split.sizes = [0.25, 0.75, 0];
    widths.layoutChanged(); // the requests panel has no width of its own: the area's stays
    expect(split.sizes).toEqual([0.25, 0.75, 0]);

    requests.hide();
    catalogue.show();
    widths.layoutChanged();
    expect(split.sizes[0]).toBeCloseTo(0.45); // back to the catalogue's own width

    split.sizes = [0.3, 0.7, 0]; // a reload restored the area's single width with the catalogue shown
    widths.layoutChanged(true);
    expect(split.sizes[0]).toBeCloseTo(0.45);
    Widget.detach(split);
  });
});
