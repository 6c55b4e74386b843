// Table tests of place(): who should hold a slot, for a given view.
import { describe, expect, test } from "bun:test";
import { currentHolder, eligible, place, type View } from "../../lib/core/placement.ts";
import type { Slot } from "../../lib/core/types.ts";
import { clusterView, H, nodeView, svc, vip } from "./core-fixtures.ts";

const node = nodeView;
const view = clusterView;

describe("place()", () => {
  const cases: Array<[string, Slot, View, string | null]> = [
    ["owner alive and holding keeps it", vip, view({ n1: { holds: H(1) }, n2: {}, n3: {} }), "n1"],
    ["nobody holds: the owner first", vip, view({ n1: {}, n2: {}, n3: {} }), "n1"],
    ["owner dead: first backup", vip, view({ n1: { alive: false, holds: H(1) }, n2: {}, n3: {} }), "n2"],
    ["owner and first backup dead: next backup", vip, view({ n1: { alive: false }, n2: { alive: false, holds: H(2) }, n3: {} }), "n3"],
    ["owner inactive: first backup", vip, view({ n1: { active: false }, n2: {}, n3: {} }), "n2"],
    ["owner leaving: first backup at once", vip, view({ n1: { leaving: true, holds: H(1) }, n2: {}, n3: {} }), "n2"],
    ["owner in standby: first backup", vip, view({ n1: { standby: true }, n2: {}, n3: {} }), "n2"],
    ["failed on the owner: next node", vip, view({ n1: { failed: [vip.id] }, n2: {}, n3: {} }), "n2"],
    ["owner back but not stable on the holder: stays", vip, view({ n1: {}, n2: { holds: H(2) }, n3: {} }), "n2"],
    ["owner back and stable on the holder: failback", vip, view({ n1: {}, n2: { holds: H(2), stable: ["n1"] }, n3: {} }), "n1"],
    ["stable only in a non-holder's view does not fail back", vip, view({ n1: {}, n2: { holds: H(2) }, n3: { stable: ["n1"] } }), "n2"],
    ["auto_failback = 0: stays on the backup", vip, view({ n1: {}, n2: { holds: H(2), stable: ["n1"] }, n3: {} }, { autoFailback: false }), "n2"],
    ["move pin to an eligible node wins", vip, view({ n1: { holds: H(1) }, n2: {}, n3: {} }, { pins: { "ipaddr:vip": "n3" } }), "n3"],
    ["move pin to a dead node is ignored", vip, view({ n1: { holds: H(1) }, n2: {}, n3: { alive: false } }, { pins: { "ipaddr:vip": "n3" } }), "n1"],
    ["duplicate: the higher claim is current", vip, view({ n1: { holds: H(1) }, n2: { holds: H(2) }, n3: {} }), "n2"],
    ["duplicate with equal claims: earlier candidate", vip, view({ n1: {}, n2: { holds: H(3) }, n3: { holds: H(3) } }), "n2"],
    ["restarted stale holder (claim 0) loses to the taker", vip, view({ n1: { holds: H(0) }, n2: { holds: H(4) }, n3: {} }), "n2"],
    ["a starting owner is waited for when nobody holds it", vip, view({ n1: { ready: false }, n2: {}, n3: {} }), "n1"],
    ["a starting owner does not take it from a holder", vip, view({ n1: { ready: false }, n2: { holds: H(2) }, n3: {} }), "n2"],
    ["a leftover (claim 0) on a backup waits for a starting owner", svc, view({ n1: { ready: false }, n2: { holds: H(0) }, n3: {} }), "n1"],
    ["a leftover on the owner beats one on a backup once both are ready", svc, view({ n1: { holds: H(0) }, n2: { holds: H(0) }, n3: {} }), "n1"],
    ["a leftover on a backup stays when the ready owner has none", svc, view({ n1: {}, n2: { holds: H(0) }, n3: {} }), "n2"],
    ["no quorum on a node: not eligible for an IP", vip, view({ n1: { quorum: false, holds: H(1) }, n2: {}, n3: {} }), "n2"],
    ["no quorum anywhere: nowhere", vip, view({ n1: { quorum: false }, n2: { quorum: false }, n3: { quorum: false } }), null],
    ["ping targets lost: not eligible", vip, view({ n1: { pingOk: false, holds: H(1) }, n2: { pingOk: true }, n3: {} }), "n2"],
    ["no quorum: a non-exclusive primary keeps running on its owner", svc, view({ n1: { quorum: false, holds: H(1) }, n2: { alive: false }, n3: { alive: false } }), "n1"],
    ["no quorum: a backup does not start a service", svc, view({ n1: { alive: false }, n2: { quorum: false }, n3: { quorum: false } }), null],
    ["everyone dead: nowhere", vip, view({ n1: { alive: false }, n2: { alive: false }, n3: { alive: false } }), null],
  ];
  for (const [what, slot, v, want] of cases) test(`place() ${what}`, () => expect(place(slot, v).desired).toBe(want));

  test("place() says waitingForStart for a starting desired node", () => {
    expect(place(vip, view({ n1: { ready: false }, n2: {}, n3: {} })).waitingForStart).toBe(true);
    expect(place(vip, view({ n1: {}, n2: {}, n3: {} })).waitingForStart).toBe(false);
  });
  test("currentHolder() ignores ineligible and non-candidate holders", () => {
    expect(currentHolder(vip, view({ n1: { alive: false, holds: H(9) }, n2: { holds: H(1) }, n3: {}, x: { holds: H(99) } }))).toBe("n2");
  });
  test("eligible() refuses a node that is not a candidate", () => {
    expect(eligible(vip, "x", view({ n1: {}, x: {} }))).toBe(false);
    expect(eligible(vip, "n1", view({ n1: {} }))).toBe(true);
  });
});
