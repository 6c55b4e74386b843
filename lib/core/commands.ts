// Operator commands: checked on the node where they are typed, then applied on every node they reach.
import { addPin } from "./pins.ts";
import { eligible } from "./placement.ts";
import { slotRec } from "./records.ts";
import { beatNow, emit, type CoreState } from "./state.ts";
import type { OperatorCommand } from "./types.ts";
import { viewOf } from "./view.ts";

/** Why the command is refused (unknown node or resource, a move nowhere sensible), or null to accept it. */
export function validateCommand(s: CoreState, cmd: OperatorCommand, t: number): string | null {
  const known = (n: string) => s.cluster.nodes.some((c) => c.nodename === n);
  const resource = (r: string) => s.slots.some((x) => x.resource === r);
  switch (cmd.op) {
    case "standby":
    case "unstandby":
      return known(cmd.node) ? null : `Unknown node "${cmd.node}"`;
    case "cleanup":
      return resource(cmd.resource) ? null : `Unknown resource "${cmd.resource}"`;
    case "move": {
      if (!resource(cmd.resource)) return `Unknown resource "${cmd.resource}"`;
      if (!known(cmd.node)) return `Unknown node "${cmd.node}"`;
      const slots = s.slots.filter((x) => x.resource === cmd.resource && x.candidates.includes(cmd.node));
      if (slots.length === 0) return `Node "${cmd.node}" cannot hold "${cmd.resource}": it is neither its primary nor a backup`;
      const view = viewOf(s, t);
      if (!slots.some((x) => eligible(x, cmd.node, view))) return `Node "${cmd.node}" cannot take "${cmd.resource}" now (not alive, not ready, inactive, standby, failed there or without quorum)`;
      return null;
    }
    case "reload":
      return null;
  }
}

export function applyCommand(s: CoreState, cmd: OperatorCommand, by: string, t: number): void {
  switch (cmd.op) {
    case "standby":
    case "unstandby": {
      if (cmd.node !== s.self) return;
      const on = cmd.op === "standby";
      if (s.standby === on) return;
      s.standby = on;
      beatNow(s);
      if (on) emit(s, { type: "node_standby", node: s.self, message: `Node ${s.self} put in standby by ${by}` });
      else emit(s, { type: "node_unstandby", node: s.self, message: `Node ${s.self} leaves standby (by ${by}): it takes its resources again` });
      return;
    }
    case "move":
      addPin(s, cmd.resource, cmd.node, t);
      emit(s, { type: "acquire", resource: cmd.resource, node: cmd.node, message: `Operator ${by} moves ${cmd.resource} to ${cmd.node}` });
      return;
    case "cleanup":
      for (const x of s.slots) {
        if (x.resource !== cmd.resource) continue;
        const rec = slotRec(s, x.id);
        rec.failCount = 0;
        rec.notBefore = 0;
        const wasFailed = rec.failedOrder !== undefined;
        rec.failedOrder = undefined;
        if (wasFailed)
          emit(s, { type: "resource_recovered", node: s.self, slot: x.id, resource: x.resource, message: `Operator ${by} cleared failures of ${x.resource} on ${s.self}` });
      }
      beatNow(s);
      return;
    case "reload":
      s.out.reload = true;
      return;
  }
}
