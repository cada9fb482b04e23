/**
 * Each Workbench side panel keeps the width its user gave it. JupyterLab's left area has one width for every
 * panel in it (and restores only that); a person who widens the catalogue to read its schema does not want the
 * requests panel as wide, and wants the catalogue that wide again after a reload. The width is remembered per
 * panel in the browser's local storage when the user drags the area's edge, and applied whenever the panel is
 * shown (also after a reload).
 */

import type { Widget } from '@lumino/widgets';

/** The narrowest width kept: narrower than this the panels' forms no longer fit (they are built for 250 px). */
export const MIN_WIDTH = 180;
/** The share of the window a side panel may take at most, so the main area never disappears. */
export const MAX_SHARE = 0.8;
const KEY_PREFIX = 'workbench:panel-width:';

/** The part of the Web Storage API used (local storage in the lab; a plain object in tests). */
export interface WidthStore {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
}

/** The browser's local storage, or a store that forgets (when the browser refuses access to it). */
export function browserStore(): WidthStore {
  try {
    return window.localStorage;
  } catch {
    const memory = new Map<string, string>();
    return { getItem: key => memory.get(key) ?? null, setItem: (key, value) => void memory.set(key, value) };
  }
}

/** The storage key of a panel's width. */
export function widthKey(panelId: string): string {
  return `${KEY_PREFIX}${panelId}`;
}

/** A width as kept: whole pixels, at least MIN_WIDTH and at most MAX_SHARE of the room there is. */
export function clampWidth(width: number, room: number): number {
  const most = Math.max(MIN_WIDTH, Math.floor(room * MAX_SHARE));
  return Math.round(Math.min(most, Math.max(MIN_WIDTH, width)));
}

/** The width remembered for a panel, or null (none yet, or something unreadable stored under its key). */
export function storedWidth(store: WidthStore, panelId: string): number | null {
  let text: string | null;
  try {
    text = store.getItem(widthKey(panelId));
  } catch {
    return null; // storage disabled by the browser: the panel just takes the area's width
  }
  const width = text === null ? NaN : Number(text);
  return Number.isFinite(width) && width > 0 ? Math.round(width) : null;
}

/** Remember a panel's width (silently not, when the browser refuses storage). */
export function storeWidth(store: WidthStore, panelId: string, width: number): void {
  try {
    store.setItem(widthKey(panelId), String(Math.round(width)));
  } catch {
    // storage full or disabled: the width is simply not remembered
  }
}

/**
 * The split panel's relative sizes that give its first child `width` px: `sizes` are its current relative sizes,
 * `pixels` the children's current widths (0 for a hidden child). A hidden child keeps its relative size, so it
 * comes back as wide as it was; the main area (second child) takes up the difference.
 */
export function sizesForWidth(sizes: number[], pixels: number[], width: number): number[] {
  const room = pixels.reduce((sum, px) => sum + px, 0);
  if (sizes.length < 2 || room <= 0) {
    return sizes;
  }
  const left = clampWidth(width, room) / room;
  const others = pixels.slice(2).map((px, i) => (px > 0 ? px / room : sizes[i + 2]));
  const main = Math.max(0.05, 1 - left - others.reduce((sum, s) => sum + (s > 0 ? s : 0), 0));
  return [left, main, ...others];
}

/** The lumino split panel API used (duck-typed: the shell's split panel is private to it). */
interface SplitLike extends Widget {
  relativeSizes(): number[];
  setRelativeSizes(sizes: number[], update?: boolean): void;
  readonly widgets: ReadonlyArray<Widget>;
  readonly handleMoved: { connect(slot: () => void, thisArg?: unknown): boolean };
}

function isSplit(widget: Widget | null): widget is SplitLike {
  return !!widget && 'relativeSizes' in widget && 'setRelativeSizes' in widget && 'handleMoved' in widget;
}

/** The split panel holding the side area a panel is in, and that area (the split panel's child). */
function splitOf(panel: Widget): { split: SplitLike; area: Widget } | null {
  let area: Widget = panel;
  while (area.parent) {
    if (isSplit(area.parent)) {
      return { split: area.parent, area };
    }
    area = area.parent;
  }
  return null;
}

/**
 * Keep each of `panels` at its own remembered width: record the width when the user drags the side area's edge
 * while a panel is shown, and give it back whenever that panel is shown again.
 */
export class PanelWidths {
  private readonly watched = new Set<SplitLike>();
  private lastShown: string | null = null;

  constructor(
    private readonly panels: Widget[],
    private readonly store: WidthStore
  ) {}

  /**
   * Call whenever the shell's layout changed (a side panel shown or hidden, an edge dragged, a reload restored):
   * a Workbench panel newly shown gets its remembered width (`force`: even when it was shown already, e.g. once
   * JupyterLab restored its own layout with one width for the whole area).
   */
  layoutChanged(force = false): void {
    const shown = this.panels.find(p => p.isVisible) ?? null;
    if (shown) {
      this.watch(shown);
    }
    if (shown && (force || shown.id !== this.lastShown)) {
      this.apply(shown);
    }
    this.lastShown = shown?.id ?? null;
  }

  /** Give the shown panel its remembered width (nothing when none is remembered or it is hidden). */
  apply(panel: Widget): void {
    const width = storedWidth(this.store, panel.id);
    const found = splitOf(panel);
    if (width === null || !found || !panel.isVisible || found.split.widgets[0] !== found.area) {
      return;
    }
    const pixels = found.split.widgets.map(w => (w.isVisible ? w.node.getBoundingClientRect().width : 0));
    if (
      Math.abs(
        pixels[0] -
          clampWidth(
            width,
            pixels.reduce((a, b) => a + b, 0)
          )
      ) <= 1
    ) {
      return;
    }
    found.split.setRelativeSizes(sizesForWidth(found.split.relativeSizes(), pixels, width), true);
  }

  private watch(panel: Widget): void {
    const found = splitOf(panel);
    if (!found || this.watched.has(found.split)) {
      return;
    }
    this.watched.add(found.split);
    found.split.handleMoved.connect(() => {
      const shown = this.panels.find(p => p.isVisible && splitOf(p)?.area === found.split.widgets[0]);
      if (shown) {
        storeWidth(this.store, shown.id, found.split.widgets[0].node.getBoundingClientRect().width);
      }
    });
  }
}
