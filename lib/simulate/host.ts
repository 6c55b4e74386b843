// One simulated machine: what runs on it, whether its daemon runs, and the faults put on it.
import { NOTHING_PERSISTED } from "../core/operator.ts";
import type { ResourceId } from "../config/model.ts";
import type { Persisted } from "../core/types.ts";
import type { NodeDriver } from "../node/driver.ts";

export interface SimHost {
  readonly name: string;
  /** Config order: gives each daemon its own timer phase. */
  readonly index: number;
  /** Its address on the fake network. */
  readonly ip: string;
  /** nodename -> address, every node. */
  readonly ips: ReadonlyMap<string, string>;
  /** The running daemon, or null (dead host, stopped daemon). */
  driver: NodeDriver | null;
  /** The daemon is releasing after `stop NODE`. */
  stopping: boolean;
  /** Sender incarnation of the current daemon: a restart makes it bigger. */
  incarnation: number;
  /** Resources present on this host (what `ip addr`, crontab dirs, systemctl would show). */
  readonly present: Set<ResourceId>;
  /** `fail NICK`: watch and start fail here until the resource starts elsewhere. */
  readonly failing: Set<string>;
  /** Failed too often here in the start status: keeps failing until a `cleanup`. */
  readonly broken: Set<string>;
  /** Operator standby as the daemon stores it. */
  persisted: Persisted;
}

export function newHost(name: string, index: number, ips: ReadonlyMap<string, string>): SimHost {
  return {
    name,
    index,
    ip: ips.get(name)!,
    ips,
    driver: null,
    stopping: false,
    incarnation: 0,
    present: new Set(),
    failing: new Set(),
    broken: new Set(),
    persisted: NOTHING_PERSISTED,
  };
}
