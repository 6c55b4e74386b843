// The ports of one simulated daemon (lib/node/ports.ts): the virtual clock, a fake network, fake agents
// that mark resources present or absent on their host, operator state in memory. Fixed script run time
// and network delay, so a transcript shows decisions, not jitter.
import type { Cluster } from "../config/model.ts";
import type { ClusterEvent } from "../core/types.ts";
import type { NodeDriver } from "../node/driver.ts";
import type { Ports, Timer } from "../node/ports.ts";
import type { SimHost } from "./host.ts";
import type { VirtualClock } from "./queue.ts";

/** Every resource script takes this long. */
export const SCRIPT_MS = 10;
/** Every datagram takes this long, on every link. */
export const NETWORK_MS = 1;
/** Wall clock of simulated time 0 (alerts carry a wall time). */
const EPOCH_MS = Date.UTC(2026, 0, 1);

/** What the ports need from the simulated cluster around them. */
export interface PortWorld {
  readonly clock: VirtualClock;
  readonly cluster: Cluster;
  /** Deliver a datagram from `from` to whoever has `ip` (the network decides whether it arrives). */
  send(from: SimHost, ip: string, port: number, bytes: Uint8Array): void;
  /** A core reported an event. */
  event(h: SimHost, e: ClusterEvent): void;
  /** A start, stop or fence began (+1) or ended (-1). */
  busy(delta: number): void;
  /** The agent on `h` started `resource`: fault marks elsewhere end ("until the resource moves"). */
  started(h: SimHost, resource: string): void;
  /** A fence script "powers off" the node. */
  fence(node: string): boolean;
}

export function hostPorts(w: PortWorld, h: SimHost, self: () => NodeDriver): Ports {
  const clock = w.clock;
  const live = (d: NodeDriver) => h.driver === d;
  return {
    clock: { now: () => clock.now, wall: () => EPOCH_MS + clock.now },
    timers: {
      every(ms, f): Timer {
        let on = true;
        const d = self();
        const go = () => {
          if (!on || !live(d)) return;
          f();
          clock.after(ms, go);
        };
        // Daemons start at different moments: a fixed phase per host instead of a random one.
        clock.after((h.index * 17) % ms, go);
        return { cancel: () => void (on = false) };
      },
      // Simulated hosts' clocks are not in step (the harder case): wall-aligned ticks keep the per-host phase.
      aligned(ms, f): Timer {
        return this.every(ms, f);
      },
      after(ms, f): Timer {
        let on = true;
        const d = self();
        clock.after(ms, () => on && live(d) && f());
        return { cancel: () => void (on = false) };
      },
    },
    sockets: {
      open(_spec, _current, done) {
        done({ ok: true, commit() {}, abort() {} });
      },
      retireOld() {},
      send: (ip, port, bytes) => w.send(h, ip, port, bytes),
      close() {},
    },
    agents: {
      perform(a, slot, done) {
        const d = self();
        const counts = a.type !== "watch" && a.type !== "probe";
        if (counts) w.busy(1);
        clock.after(SCRIPT_MS, () => {
          if (counts) w.busy(-1);
          let ok = true;
          if (a.type === "fence") ok = w.fence(a.node);
          else if (slot) {
            const r = slot.resource;
            const broken = h.failing.has(r) || h.broken.has(r);
            if (a.type === "start") {
              ok = !broken;
              if (ok) {
                h.present.add(r);
                w.started(h, r);
              }
            } else if (a.type === "stop") h.present.delete(r);
            else if (a.type === "watch") ok = h.present.has(r) && !broken;
            else ok = h.present.has(r);
          }
          if (live(d)) done({ id: a.id, ok, detail: a.type === "probe" ? (ok ? "present" : "absent") : ok ? "exit 0" : "exit 1" });
        });
      },
      setCluster() {},
    },
    alerts: {
      emit: (e) => w.event(h, e),
      setCluster() {},
      drain: (_ms, done) => done(),
    },
    store: {
      load: () => h.persisted,
      save: (p) => void (h.persisted = p),
    },
    config: {
      load(selfName, done) {
        const self = w.cluster.nodes.find((n) => n.nodename === selfName);
        if (!self) return done({ ok: false, message: `no node "${selfName}" in the config`, details: [] });
        done({ ok: true, cluster: w.cluster, self, ips: h.ips });
      },
    },
    log: { error() {}, warn() {}, info() {}, debug() {}, setDebugLevel() {} },
    ping: { check: (_t, _from, done) => done(true) },
  };
}
