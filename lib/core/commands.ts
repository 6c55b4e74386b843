// Operator commands: checked on the node where they are typed, then applied on every node they reach.
import { nextGen, setMaintenance, setNodeMaintenance } from "./operator.ts";
import { addPin } from "./pins.ts";
import { clearFailures } from "./failures.ts";
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
    case "maintenance":
      return cmd.node === null || known(cmd.node) ? null : `Unknown node "${cmd.node}"`;
    case "clear":
      if (cmd.resource === null) return s.pins.size > 0 ? null : "No resource is moved: nothing to clear";
      if (!resource(cmd.resource)) return `Unknown resource "${cmd.resource}"`;
      return s.pins.has(cmd.resource) ? null : `${cmd.resource} is not moved: nothing to clear`;
    case "move": {
      if (!resource(cmd.resource)) return `Unknown resource "${cmd.resource}"`;
      if (cmd.lifetimeMs !== undefined && !(cmd.lifetimeMs > 0)) return `A move lifetime must be positive, got ${cmd.lifetimeMs} ms`;
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
    case "move": {
      if (!takeGen(s, cmd.gen)) return;
      addPin(s, cmd.resource, cmd.node, t, cmd.lifetimeMs === undefined ? null : t + cmd.lifetimeMs);
      const until = cmd.lifetimeMs === undefined ? "until cleared" : `for ${Math.round(cmd.lifetimeMs / 1000)} s`;
      emit(s, { type: "pin_set", resource: cmd.resource, node: cmd.node, message: `Operator ${by} moves ${cmd.resource} to ${cmd.node} (${until})` });
      beatNow(s);
      return;
    }
    case "clear": {
      if (!takeGen(s, cmd.gen)) return;
      const gone = cmd.resource === null ? [...s.pins.keys()] : s.pins.has(cmd.resource) ? [cmd.resource] : [];
      for (const rid of gone) {
        const to = s.pins.get(rid)!.node;
        s.pins.delete(rid);
        emit(s, { type: "pin_cleared", resource: rid, node: to, message: `Operator ${by} clears the move of ${rid} to ${to}: placement decides again` });
      }
      beatNow(s);
      return;
    }
    case "maintenance":
      if (cmd.node === null) {
        if (takeGen(s, cmd.gen)) setMaintenance(s, cmd.on, by);
      } else if (cmd.node === s.self) setNodeMaintenance(s, cmd.on, by);
      return;
    case "cleanup":
      clearFailures(s, cmd.resource);
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

/**
 * A change of the operator register is applied once, in generation order: a command already applied (a
 * repeat, or a copy adopted from a peer's heartbeat first) or older than what this node has is ignored.
 */
function takeGen(s: CoreState, gen: number | undefined): boolean {
  const g = gen ?? nextGen(s);
  if (g <= s.op.gen) return false;
  s.op.gen = g;
  return true;
}
