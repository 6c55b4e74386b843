// The virtual cluster: one real NodeDriver (lib/node/driver.ts) per host, around the real Core, on a
// virtual clock and a fake network. This file holds the hosts, the links and the faults; host-ports.ts
// holds what one daemon sees of it.
import { NOTHING_PERSISTED } from "../core/operator.ts";
import type { Cluster, ResourceId } from "../config/model.ts";
import type { ClusterEvent, OperatorCommand, SlotStatus } from "../core/types.ts";
import { NodeDriver, type Reply } from "../node/driver.ts";
import { newHost, type SimHost } from "./host.ts";
import { hostPorts, NETWORK_MS, type PortWorld } from "./host-ports.ts";
import { VirtualClock } from "./queue.ts";
import type { StartState } from "./start-state.ts";

/** The shared key of the simulated nodes: lib/wire signs and checks every packet with it. */
const SIM_KEY = new Uint8Array(64).map((_, i) => (i * 37 + 11) & 0xff);

export interface Reported {
  /** Simulated ms. */
  readonly at: number;
  /** The node whose core emitted it. */
  readonly reporter: string;
  readonly e: ClusterEvent;
}

export class VirtualCluster {
  readonly clock = new VirtualClock();
  readonly hosts: SimHost[];
  readonly #byName = new Map<string, SimHost>();
  readonly #byIp = new Map<string, SimHost>();
  /** Cut links, "a|b" with a < b. */
  readonly #cuts = new Set<string>();
  /** Every event every core reported, in order. */
  readonly reported: Reported[] = [];
  /** Last time anything happened (an event, a start or stop, a fault): quiet is measured from here. */
  lastChange = 0;
  /** Starts, stops and fences in flight. */
  inflight = 0;

  constructor(readonly cluster: Cluster) {
    // Addresses of the fake network only: two nodes of a test config may share a keep_alive_ip.
    const ips = new Map(cluster.nodes.map((n, i) => [n.nodename, `sim-${i + 1}`]));
    this.hosts = cluster.nodes.map((n, i) => newHost(n.nodename, i, ips));
    for (const h of this.hosts) {
      this.#byName.set(h.name, h);
      this.#byIp.set(h.ip, h);
    }
  }

  host(name: string): SimHost {
    return this.#byName.get(name)!;
  }
  running(h: SimHost): boolean {
    return h.driver !== null && !h.stopping;
  }

  /** Puts the start state on the hosts and starts a daemon on every host that is up. */
  begin(start: StartState): void {
    for (const h of this.hosts) {
      for (const r of start.present.get(h.name) ?? []) h.present.add(r);
      for (const r of start.failed.get(h.name) ?? []) h.broken.add(r);
      h.persisted = { ...NOTHING_PERSISTED, standby: start.standby.has(h.name) };
    }
    for (const h of this.hosts) if (!start.down.has(h.name)) this.start(h.name);
  }

  // ------------------------------------------------------------ faults

  /** A new daemon on the host (a new incarnation); the host keeps what is present. False: one runs already. */
  start(name: string): boolean {
    const h = this.host(name);
    if (h.driver !== null) return false;
    this.#changed();
    h.incarnation++;
    const self = this.cluster.nodes.find((n) => n.nodename === name)!;
    let driver: NodeDriver | null = null;
    driver = new NodeDriver(hostPorts(this.#world(), h, () => driver!), { cluster: this.cluster, self, key: SIM_KEY, ips: h.ips, incarnation: h.incarnation });
    h.driver = driver;
    h.stopping = false;
    const d = driver;
    d.onExit(() => {
      if (h.driver !== d) return;
      h.driver = null;
      h.stopping = false;
      this.#changed();
    });
    d.start(() => {});
    return true;
  }

  /** Host death: the daemon and everything running on the host vanish. False: it was down already. */
  kill(name: string): boolean {
    const h = this.host(name);
    const wasUp = h.driver !== null || h.present.size > 0;
    h.driver?.close();
    h.driver = null;
    h.stopping = false;
    h.present.clear();
    this.#changed();
    return wasUp;
  }

  /** Graceful stop: the daemon releases what it holds and exits. False: no daemon runs there. */
  stop(name: string): boolean {
    const h = this.host(name);
    if (h.driver === null || h.stopping) return false;
    h.stopping = true;
    this.#changed();
    h.driver.shutdown("SIGTERM");
    return true;
  }

  partition(groups: readonly (readonly string[])[]): void {
    for (let i = 0; i < groups.length; i++)
      for (let j = i + 1; j < groups.length; j++) for (const a of groups[i]!) for (const b of groups[j]!) this.#cuts.add(linkKey(a, b));
    this.#changed();
  }

  heal(): void {
    this.#cuts.clear();
    this.#changed();
  }

  fail(name: string, resource: ResourceId): void {
    this.host(name).failing.add(resource);
    this.#changed();
  }

  /** The operator fixed it: no fault marks left for the resource. */
  repair(resource: ResourceId): void {
    for (const h of this.hosts) {
      h.failing.delete(resource);
      h.broken.delete(resource);
    }
  }

  /** An operator command typed on `name`'s console. */
  command(name: string, cmd: OperatorCommand): Reply {
    const d = this.host(name).driver;
    if (d === null) return { ok: false, message: `no daemon runs on ${name}` };
    this.#changed();
    let out: Reply = { ok: false, message: "no reply" };
    d.command(cmd, "simulate", (r) => (out = r));
    return out;
  }

  // ------------------------------------------------------------ what it looks like

  /** Hosts with a running daemon whose core holds the slot. */
  holders(slot: string): string[] {
    return this.hosts.filter((h) => this.running(h) && h.driver!.status().slots.some((s) => s.slot === slot && s.holders.some((x) => x.node === h.name))).map((h) => h.name);
  }

  /** The slot as `node` sees it (null: no daemon there). */
  slotSeenBy(node: string, slot: string): SlotStatus | null {
    const h = this.host(node);
    if (!this.running(h)) return null;
    return h.driver!.status().slots.find((s) => s.slot === slot) ?? null;
  }

  /** Some running daemon still expects a move (failback pending, a start under way). */
  expectingMoves(): boolean {
    return this.hosts.some((h) => this.running(h) && h.driver!.status().slots.some((s) => s.reason === "waiting for failback" || s.reason === "starting"));
  }

  /** A `fail` mark that has not made its resource move yet. */
  faultsPending(): boolean {
    return this.hosts.some((h) => this.running(h) && [...h.failing].some((r) => h.present.has(r)));
  }

  // ------------------------------------------------------------ the world the ports see

  #changed(): void {
    this.lastChange = this.clock.now;
  }

  #world(): PortWorld {
    return {
      clock: this.clock,
      cluster: this.cluster,
      send: (from, ip, port, bytes) => {
        const to = this.#byIp.get(ip);
        if (!to || this.#cuts.has(linkKey(from.name, to.name))) return;
        this.clock.after(NETWORK_MS, () => to.driver?.onPacket(bytes, from.ip, port));
      },
      event: (h, e) => {
        this.reported.push({ at: this.clock.now, reporter: h.name, e });
        if (e.type !== "node_suspect") this.#changed();
      },
      busy: (delta) => {
        this.inflight += delta;
        this.#changed();
      },
      started: (h, r) => {
        for (const other of this.hosts) if (other !== h) other.failing.delete(r);
      },
      fence: (node) => {
        if (!this.#byName.has(node)) return false;
        this.kill(node);
        return true;
      },
    };
  }
}

const linkKey = (a: string, b: string): string => (a < b ? `${a}|${b}` : `${b}|${a}`);
