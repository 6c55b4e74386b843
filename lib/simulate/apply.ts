// One what-if event applied to the virtual cluster, at the current simulated time. Returns what the
// transcript should say about the event itself (nothing to do, a refused command).
import type { ResourceId } from "../config/model.ts";
import type { OperatorCommand } from "../core/types.ts";
import type { VirtualCluster } from "./cluster.ts";
import type { SimEvent } from "./events.ts";

export function applyEvent(vc: VirtualCluster, ev: SimEvent): string[] {
  switch (ev.kind) {
    case "kill":
      return vc.kill(ev.node) ? [] : [`${ev.node} is down already: nothing to do`];
    case "stop":
      return vc.stop(ev.node) ? [] : [`no daemon runs on ${ev.node}: nothing to do`];
    case "start":
      return vc.start(ev.node) ? [] : [`${ev.node} runs a daemon already: nothing to do`];
    case "partition":
      vc.partition(ev.groups);
      return [];
    case "heal":
      vc.heal();
      return [];
    case "fail":
      return fail(vc, ev.resource, ev.node);
    case "standby":
    case "unstandby":
      return command(vc, ev.node, { op: ev.kind, node: ev.node });
    case "move":
      return command(vc, ev.node, { op: "move", resource: ev.resource, node: ev.node });
    case "cleanup":
      vc.repair(ev.resource);
      return command(vc, ownerOf(vc, ev.resource), { op: "cleanup", resource: ev.resource });
    case "wait":
      return [];
  }
}

function fail(vc: VirtualCluster, resource: ResourceId, on: string | null): string[] {
  if (on !== null) {
    vc.fail(on, resource);
    const h = vc.host(on);
    return vc.running(h) && h.present.has(resource) ? [] : [`${resource} does not run on ${on} now: it fails there when it is started there`];
  }
  const holders = vc.hosts.filter((h) => vc.running(h) && h.present.has(resource)).map((h) => h.name);
  if (holders.length === 0) return [`${resource} runs nowhere: nothing to fail (write "fail NICK on NODE" to break it on one node)`];
  vc.fail(holders[0]!, resource);
  return holders.length > 1 ? [`${resource} runs on ${holders.join(", ")}: failing it on ${holders[0]} (write "fail NICK on NODE" for another)`] : [];
}

/** Typed on the console of the node it concerns, or of the first running node when that one is down. */
function command(vc: VirtualCluster, node: string, cmd: OperatorCommand): string[] {
  const at = vc.running(vc.host(node)) ? node : vc.hosts.find((h) => vc.running(h))?.name;
  if (at === undefined) return ["no daemon runs anywhere: nobody to ask"];
  const r = vc.command(at, cmd);
  return r.ok ? [] : [`refused: ${r.message}`];
}

function ownerOf(vc: VirtualCluster, resource: ResourceId): string {
  const holder = vc.hosts.find((h) => vc.running(h) && h.present.has(resource));
  return holder?.name ?? vc.hosts[0]!.name;
}
