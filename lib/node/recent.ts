// The last cluster events this node reported, numbered, for `--command=watch` and other live views: a
// client asks for what came after the last number it saw and gets only that (or a note that it missed
// some, when it was away longer than the ring holds).
import type { ClusterEvent } from "../core/types.ts";

export interface RecentEvent {
  /** Grows by one per event for the life of the daemon. */
  readonly seq: number;
  /** Wall-clock ms of the event (display only). */
  readonly at: number;
  readonly event: ClusterEvent;
}

/** Enough for a terminal screen or a page of history; older events are in the log. */
export const RECENT_EVENTS_KEPT = 200;

export class RecentEvents {
  #ring: RecentEvent[] = [];
  #seq = 0;

  add(event: ClusterEvent, at: number): void {
    this.#ring.push({ seq: ++this.#seq, at, event });
    if (this.#ring.length > RECENT_EVENTS_KEPT) this.#ring.splice(0, this.#ring.length - RECENT_EVENTS_KEPT);
  }

  /** Events after `since` (0: all kept), with `missed` true when some after `since` were dropped already. */
  since(since: number): { events: RecentEvent[]; last: number; missed: boolean } {
    const events = this.#ring.filter((e) => e.seq > since);
    const first = this.#ring[0]?.seq ?? this.#seq + 1;
    return { events, last: this.#seq, missed: since > 0 && first > since + 1 };
  }
}
