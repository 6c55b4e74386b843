// Zod schemas for what travels on the wire. A packet whose MAC is valid was sent by a key holder,
// but it may still come from a newer or buggy build: the body is checked field by field so the
// core only ever sees a well-formed MessageBody.

import { z } from "zod";
import type { BeatBody, CommandBody, HeartbeatBody, MessageBody } from "../core/types.ts";

/** Names and ids are short; the bound keeps a valid-MAC but silly packet from carrying megabytes of one string. */
const name = z.string().min(1).max(256);
const count = z.int().min(0);

const hold = z.object({
  slot: name,
  role: z.enum(["primary", "backup"]),
  claim: count,
  heldMs: z.number().min(0),
});

const heartbeatSchema = z.object({
  kind: z.literal("heartbeat"),
  config: z.string().max(256),
  active: z.boolean(),
  standby: z.boolean(),
  ready: z.boolean(),
  leaving: z.boolean(),
  quorum: z.boolean(),
  pingOk: z.boolean().nullable(),
  alive: z.array(name).max(1024),
  heard: z.array(z.number().min(0)).max(1024).optional(),
  stable: z.array(name).max(1024),
  holds: z.array(hold).max(4096),
  failed: z.array(name).max(4096),
  uptimeMs: z.number().min(0),
  failures: z
    .array(
      z.object({
        slot: name,
        action: z.enum(["start", "stop", "watch"]),
        detail: z.string().max(1024),
        output: z.array(z.string().max(1024)).max(16),
        count: count,
        firstAgeMs: z.number().min(0),
        lastAgeMs: z.number().min(0),
      }),
    )
    .max(64)
    .optional(),
  maintenance: z.boolean().optional(),
  operator: z
    .object({
      gen: count,
      maintenance: z.boolean(),
      pins: z.array(z.object({ resource: name, node: name, ageMs: z.number().min(0), leftMs: z.number().min(0).nullable() })).max(4096),
    })
    .optional(),
  sv: count.optional(),
});

const beatSchema = z.object({ kind: z.literal("beat"), sv: count, heard: z.array(z.number().min(0)).max(1024) });
const wantSchema = z.object({ kind: z.literal("want") });

const operatorCommand = z.discriminatedUnion("op", [
  z.object({ op: z.literal("standby"), node: name }),
  z.object({ op: z.literal("unstandby"), node: name }),
  z.object({ op: z.literal("move"), resource: name, node: name, lifetimeMs: z.number().positive().optional(), gen: count.optional() }),
  z.object({ op: z.literal("clear"), resource: name.nullable(), gen: count.optional() }),
  z.object({ op: z.literal("cleanup"), resource: name }),
  z.object({ op: z.literal("maintenance"), on: z.boolean(), node: name.nullable(), gen: count.optional() }),
  z.object({ op: z.literal("reload") }),
]);

export const commandSchema = z.object({
  kind: z.literal("command"),
  command: operatorCommand,
  by: z.string().max(256),
});

const messageBodySchema = z.discriminatedUnion("kind", [heartbeatSchema, commandSchema, beatSchema, wantSchema]);

export const envelopeSchema = z.object({
  from: name,
  /** Incarnation: Date.now() of the sender's start, so it grows across restarts. */
  inc: count,
  seq: count,
  link: z.int().min(0).max(7).optional(),
  ack: z.record(name, count).optional(),
  body: messageBodySchema,
});

// Compile-time guards: the schemas and the hand-written contract in lib/core/types.ts must not drift.
// Key sets are compared too: mutual assignability alone would not notice a new optional field that the
// schema lacks (zod would then silently strip it from every packet).
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? ([keyof A] extends [keyof B] ? ([keyof B] extends [keyof A] ? true : false) : false) : false) : false;
type Heartbeat = z.infer<typeof heartbeatSchema>;
const heartbeatMatches: Same<Heartbeat, DeepMutable<HeartbeatBody>> = true;
const holdMatches: Same<Heartbeat["holds"][number], DeepMutable<HeartbeatBody["holds"][number]>> = true;
const commandMatches: Same<z.infer<typeof commandSchema>, DeepMutable<CommandBody>> = true;
const beatMatches: Same<z.infer<typeof beatSchema>, DeepMutable<BeatBody>> = true;
void beatMatches;
const bodyMatches: [z.infer<typeof messageBodySchema>] extends [MessageBody] ? true : false = true;
void heartbeatMatches, holdMatches, commandMatches, bodyMatches;

type DeepMutable<T> = T extends readonly (infer U)[]
  ? DeepMutable<U>[]
  : T extends object
    ? { -readonly [K in keyof T]: DeepMutable<T[K]> }
    : T;
