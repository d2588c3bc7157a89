// The changes a page relays for its cross-origin frames. A cross-origin frame records itself by
// its own site's rules, which know nothing of the masked regions of the page around it: this page
// holds back the document of a frame whose element is in one of its regions, and asks the frame
// for a snapshot once it is out of it again.

import type { Mutation } from '../protocol/messages.js';
import type { Masker } from './masking.js';
import type { NodeIds } from './serializer.js';

/** A cross-origin frame whose changes a page relays: its document's first id, whether they are held back, and whether it was asked for a snapshot since. */
interface CrossFrame {
  first: number;
  withheld: boolean;
  asked: boolean;
}

export class CrossFrameRelay {
  /** Per cross-origin frame whose changes this page relays (its ids go from its document's to the next frame's). */
  private readonly frames = new Map<HTMLIFrameElement, CrossFrame>();

  constructor(
    private readonly ids: NodeIds,
    private readonly masker: Masker,
    /** Asks a frame to record a snapshot again (it left a masked region). */
    private readonly askSnapshot: (frame: HTMLIFrameElement) => void,
  ) {}

  /**
   * What of a batch relayed from this page's cross-origin frames goes to the followers: a frame
   * whose element is in a masked region is sent empty and its changes are dropped, until, out of
   * it, the frame records a snapshot again.
   */
  filter(batch: Mutation[]): Mutation[] {
    const out: Mutation[] = [];
    for (const m of batch) {
      const own = m.k === 'frame' ? this.ids.node(m.id) : undefined;
      if (m.k === 'frame' && own?.nodeType === Node.ELEMENT_NODE && (own as Element).localName === 'iframe') {
        const frame = own as HTMLIFrameElement;
        for (const known of this.frames.keys()) if (!known.isConnected) this.frames.delete(known);
        const masked = this.masker.insideMaskedRegion(frame);
        if (m.doc) this.frames.set(frame, { first: m.doc.id, withheld: masked, asked: false });
        out.push(masked ? { k: 'frame', id: m.id, doc: null } : m);
        continue;
      }
      const target = 'id' in m && typeof m.id === 'number' ? m.id : 'parent' in m ? m.parent : null;
      const owner = target === null ? null : this.frameOf(target);
      // A change of no frame whose document was relayed is not the followers' to apply.
      if (!owner) continue;
      const [frame, state] = owner;
      const masked = this.masker.insideMaskedRegion(frame);
      if (state.withheld) {
        // Out of the masked region now: the frame is asked for a snapshot (its changes wait for it).
        if (!masked && !state.asked) {
          state.asked = true;
          this.askSnapshot(frame);
        }
        continue;
      }
      if (masked) {
        state.withheld = true;
        const id = this.ids.known(frame);
        if (id !== undefined) out.push({ k: 'frame', id, doc: null });
        continue;
      }
      out.push(m);
    }
    return out;
  }

  /** The cross-origin frame whose ids `id` is among: the one whose document's id is the closest below it. */
  private frameOf(id: number): [HTMLIFrameElement, CrossFrame] | null {
    let best: [HTMLIFrameElement, CrossFrame] | null = null;
    for (const entry of this.frames) if (entry[1].first <= id && (!best || entry[1].first > best[1].first)) best = entry;
    return best;
  }
}
