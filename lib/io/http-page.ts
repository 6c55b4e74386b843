// The live status page served at / (lib/io/http.ts). Self-contained: markup, style and script are in
// this string, compiled into the binary; the page talks only to /events and /status.json of the node
// that served it (the CSP of lib/io/http.ts allows nothing else). Read-only: it shows the status
// document (schema drcm.status/1, lib/client/render-json.ts) and the node's recent events, and has no
// control of any kind. Data reaches the DOM through textContent and attributes only, never as markup.
// Hooks for tests and scripts: <tr data-slot> with <td class="holder"> (holder names, comma-separated),
// <tr data-node> with <td class="state">, <li data-type> per event, body[data-updated] = generatedAt of
// the last render, body[data-conn] = "live" | "lost".
export const PAGE_HTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>drcm</title>
<style>
:root { color-scheme: light dark; --fg: #1b1f24; --mute: #5c6670; --bg: #fff; --line: #d8dde3; --head: #f3f5f7;
  --ok: #1a7f37; --warn: #9a6700; --crit: #cf222e; --unk: #6e7781; }
@media (prefers-color-scheme: dark) { :root { --fg: #e6edf3; --mute: #9aa5b1; --bg: #0d1117; --line: #30363d; --head: #161b22;
  --ok: #3fb950; --warn: #d29922; --crit: #f85149; --unk: #8b949e; } }
* { box-sizing: border-box; }
[hidden] { display: none !important; }
body { margin: 0; padding: 1rem 1.5rem 2rem; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg); background: var(--bg); }
header { display: flex; flex-wrap: wrap; align-items: baseline; gap: .4rem 1rem; border-bottom: 1px solid var(--line); padding-bottom: .6rem; }
h1 { font-size: 1.3rem; margin: 0; }
h2 { font-size: 1rem; margin: 1.4rem 0 .4rem; }
.badge { display: inline-block; padding: .05rem .5rem; border-radius: .8rem; font-weight: 600; color: #fff; background: var(--unk); }
.OK { background: var(--ok); } .WARNING { background: var(--warn); } .CRITICAL { background: var(--crit); } .UNKNOWN { background: var(--unk); }
.meta { color: var(--mute); }
#summary { flex-basis: 100%; margin: 0; }
#problems { margin: .2rem 0 0; padding-left: 1.2rem; flex-basis: 100%; }
#conn { display: none; flex-basis: 100%; margin: .4rem 0 0; padding: .4rem .6rem; border-radius: .3rem; background: var(--crit); color: #fff; font-weight: 600; }
body[data-conn="lost"] #conn { display: block; }
body[data-conn="lost"] main { opacity: .6; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: .25rem .6rem; border-bottom: 1px solid var(--line); vertical-align: top; }
th { background: var(--head); font-weight: 600; white-space: nowrap; }
td.num { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
.bad { color: var(--crit); font-weight: 600; } .good { color: var(--ok); } .warn { color: var(--warn); }
td.detail { white-space: pre-wrap; word-break: break-word; }
.empty { color: var(--mute); font-style: italic; }
ol#events { list-style: none; margin: 0; padding: 0; }
ol#events li { padding: .2rem 0; border-bottom: 1px solid var(--line); display: flex; flex-wrap: wrap; gap: 0 .7rem; }
ol#events time { color: var(--mute); font-variant-numeric: tabular-nums; }
ol#events .type { font-weight: 600; min-width: 9rem; }
/* Small screens: every row a card, each cell labelled with its column. */
@media (max-width: 640px) { body { padding: .6rem; font-size: 13px; } ol#events .type { min-width: 0; }
  table, tbody, tr, td { display: block; } thead { display: none; }
  tr { border: 1px solid var(--line); border-radius: .3rem; margin-bottom: .5rem; padding: .2rem 0; }
  td { border: 0; padding: .1rem .5rem; } td.num { text-align: left; } td:empty { display: none; }
  td::before { content: attr(data-label) ": "; color: var(--mute); } }
</style></head>
<body data-conn="live">
<header>
  <h1>drcm</h1><span id="health" class="badge UNKNOWN">…</span>
  <span class="meta">answered by <b id="answeredBy">?</b></span>
  <span class="meta">version <span id="version">?</span></span>
  <span class="meta">quorum <span id="quorum">?</span></span>
  <span class="meta" id="maint"></span>
  <span class="meta">updated <span id="updated">never</span></span>
  <p id="summary"></p><ul id="problems"></ul>
  <p id="conn" role="status">connection lost, retrying…</p>
</header>
<main>
<h2>Nodes</h2>
<div class="scroll"><table id="nodes"><thead><tr><th>node</th><th>state</th><th>up</th><th>heartbeat age</th><th>maintenance</th><th>address</th><th>notes</th></tr></thead><tbody></tbody></table></div>
<section id="links-section" hidden><h2>Heartbeat links</h2>
<div class="scroll"><table id="links"><thead><tr><th>node</th><th>link</th><th>address</th><th>up</th><th>heard</th></tr></thead><tbody></tbody></table></div></section>
<h2>Resources</h2>
<div class="scroll"><table id="resources"><thead><tr><th>resource / slot</th><th>owner</th><th>holder</th><th>running</th><th>desired</th><th>cause</th></tr></thead><tbody></tbody></table></div>
<h2>Failed actions</h2>
<div class="scroll"><table id="failures"><thead><tr><th>node</th><th>slot</th><th>action</th><th>count</th><th>last</th><th>detail</th></tr></thead><tbody></tbody></table></div>
<p id="no-failures" class="empty">none</p>
<h2>Recent events <span class="meta" id="events-note"></span></h2>
<ol id="events"></ol><p id="no-events" class="empty">none yet</p>
</main>
<script>
"use strict";
const $ = (id) => document.getElementById(id);
const text = (node, s) => { s = s == null ? "" : String(s); if (node.textContent !== s) node.textContent = s; };
const age = (ms) => ms == null ? "—" : ms < 1000 ? Math.round(ms) + " ms" : ms < 60000 ? (ms / 1000).toFixed(1) + " s"
  : ms < 3600000 ? Math.round(ms / 60000) + " min" : ms < 172800000 ? (ms / 3600000).toFixed(1) + " h" : Math.round(ms / 86400000) + " d";
const clock = (t) => new Date(t).toLocaleTimeString([], { hour12: false });
const yes = (b) => b ? "yes" : "no";

// Rows keyed by a hook attribute, reused between renders; a cell is written only when its text changes.
// cells(item) -> [[className, text, title?, flag?], ...]; flag is one more class (good/bad/warn).
function rows(tbody, attr, items, key, cells) {
  const labels = [...tbody.parentElement.tHead.rows[0].cells].map((th) => th.textContent);
  const old = new Map([...tbody.children].map((tr) => [tr.getAttribute(attr), tr]));
  const next = items.map((it) => {
    const k = key(it);
    let tr = old.get(k);
    const cs = cells(it);
    if (!tr || tr.children.length !== cs.length) {
      tr = document.createElement("tr");
      tr.setAttribute(attr, k);
      cs.forEach((c, i) => { const td = document.createElement("td"); td.dataset.label = labels[i] || ""; tr.append(td); });
    }
    cs.forEach((c, i) => {
      const td = tr.children[i];
      const cls = [c[0], c[3]].filter(Boolean).join(" ");
      if (td.className !== cls) td.className = cls;
      text(td, c[1]);
      const t = c[2] || "";
      if (td.title !== t) td.title = t;
    });
    return tr;
  });
  if (next.length !== tbody.children.length || next.some((tr, i) => tbody.children[i] !== tr)) tbody.replaceChildren(...next);
}

const blocker = (b) => b.node + " " + (b.why === "dead" && b.silentMs != null ? "dead (silent " + age(b.silentMs) + ")" : b.why);
function cause(c) {
  if (!c) return "";
  switch (c.kind) {
    case "primary": return c.node + " is its primary";
    case "owner-down": return blocker(c.owner) + "; " + c.node + (c.holds ? " holds it" : " is the live backup");
    case "moved": return "moved to " + c.node + " by an operator";
    case "maintenance": return c.node == null ? "maintenance mode (cluster-wide)" : "maintenance mode on " + c.node;
    case "failback": return "failback from " + c.from;
    case "no-quorum": return "no quorum (" + c.alive + " of " + c.total + " nodes alive)";
    case "nowhere": return "no eligible node" + (c.blocked.length ? ": " + c.blocked.map(blocker).join("; ") : "");
    default: return c.kind + (c.node ? " (" + c.node + ")" : c.owner ? " (" + c.owner + ")" : "");
  }
}

function render(st) {
  const h = $("health");
  text(h, st.health.state);
  h.className = "badge " + st.health.state;
  text($("summary"), st.health.summary.split(" | ")[0]); // the line without its Nagios perfdata
  const probs = st.health.problems.map((p) => { const li = document.createElement("li"); li.textContent = p; return li; });
  if (probs.map((li) => li.textContent).join("\\n") !== [...$("problems").children].map((li) => li.textContent).join("\\n")) $("problems").replaceChildren(...probs);
  text($("answeredBy"), st.answeredBy);
  text($("version"), st.version + " (up " + age(st.uptimeMs) + ")");
  const q = st.quorum;
  text($("quorum"), (q.has ? "yes" : "NO") + ", " + q.alive + "/" + q.total + " alive (" + q.policy + ")");
  $("quorum").className = q.has ? "good" : "bad";
  text($("maint"), st.maintenance.cluster ? "MAINTENANCE MODE (cluster-wide)" : "");
  text($("updated"), clock(st.generatedAt));
  document.title = st.health.state + " · drcm · " + st.answeredBy;

  rows($("nodes").tBodies[0], "data-node", st.nodes, (n) => n.nodename, (n) => [
    ["name", n.nodename + (n.self ? " (this node)" : ""), n.hostname],
    ["state", n.state, "", n.state === "alive" ? "good" : n.state === "dead" ? "bad" : "warn"],
    ["up", yes(n.up), "", n.up ? "" : "bad"],
    ["age num", n.self ? "self" : age(n.heartbeatAgeMs)],
    ["maintenance", n.maintenance ? "yes" : "", "", n.maintenance ? "warn" : ""],
    ["ip", n.ip],
    ["notes", [n.configDiffers ? "config differs" : "", n.quorum === false ? "no quorum" : "", n.pingOk === false ? "ping lost" : ""].filter(Boolean).join(", "), "", "bad"],
  ]);

  $("links-section").hidden = st.links.length === 0;
  rows($("links").tBodies[0], "data-link", st.links, (l) => l.node + "/" + l.link, (l) => [
    ["node", l.node], ["link num", String(l.link + 1)], ["address", l.address],
    ["up", yes(l.up), "", l.up ? "good" : "bad"], ["age num", age(l.heardAgeMs)],
  ]);

  rows($("resources").tBodies[0], "data-slot", st.resources, (r) => r.slot, (r) => [
    ["slot", r.slot, r.kind + (r.nickname ? " " + r.nickname : "") + "; candidates: " + r.candidates.join(", ")],
    ["owner", r.owner],
    ["holder", r.holders.map((x) => x.node).join(", "), r.holders.map((x) => x.node + ": " + x.role + ", held " + age(x.heldMs) + ", claim " + x.claim).join("\\n")],
    ["running", yes(r.running), "", r.running ? "good" : "bad"],
    ["desired", r.desired == null ? "nowhere" : r.desired, "", r.desired == null ? "bad" : ""],
    ["cause", r.reason != null ? r.reason : cause(r.cause), r.failCount ? r.failCount + " failure(s)" + (r.failedOn.length ? ", gave up on " + r.failedOn.join(", ") : "") : ""],
  ]);

  rows($("failures").tBodies[0], "data-failure", st.failures, (f) => f.node + "|" + f.slot + "|" + f.action, (f) => [
    ["node", f.node], ["slot", f.slot], ["action", f.action, "", "bad"], ["count num", String(f.count)],
    ["last num", age(f.lastAgeMs) + " ago", f.last], ["detail", [f.detail, ...f.output.slice(-5)].join("\\n")],
  ]);
  $("no-failures").hidden = st.failures.length > 0;
  $("failures").hidden = st.failures.length === 0;
  document.body.dataset.updated = st.generatedAt;
}

// Events, newest first, the last 50. A new stream starts with the node's last events again: the first
// batch after (re)connecting replaces the list, so a restarted daemon's numbering cannot mix with the old.
const KEEP = 50;
let events = [];
let freshStream = true;
function addEvents(batch) {
  const incoming = batch.events.slice().sort((a, b) => b.seq - a.seq);
  if (freshStream) { events = incoming; freshStream = false; }
  else { const top = events.length ? events[0].seq : 0; events = incoming.filter((e) => e.seq > top).concat(events); }
  events = events.slice(0, KEEP);
  if (batch.missed) text($("events-note"), "(some events were missed: see the log)");
  $("events").replaceChildren(...events.map((e) => {
    const li = document.createElement("li");
    li.dataset.seq = e.seq;
    li.dataset.type = e.event.type;
    const t = document.createElement("time"); t.dateTime = new Date(e.at).toISOString(); t.textContent = clock(e.at);
    const ty = document.createElement("span"); ty.className = "type"; ty.textContent = e.event.type;
    const m = document.createElement("span"); m.className = "msg"; m.textContent = e.event.message;
    li.append(t, ty, m);
    return li;
  }));
  $("no-events").hidden = events.length > 0;
}

// Live from /events; while the stream is down, /status.json every 2 s (EventSource retries on its own,
// every 2 s as the server asks; a stream the server refused is reopened here).
let es = null, poll = null, reopen = null;
function lost() {
  document.body.dataset.conn = "lost";
  if (poll === null) poll = setInterval(fetchStatus, 2000);
  if (es && es.readyState === EventSource.CLOSED && reopen === null) reopen = setTimeout(() => { reopen = null; connect(); }, 2000);
}
async function fetchStatus() {
  const ac = new AbortController();
  const t = setTimeout(() => ac.abort(), 1800);
  try {
    const r = await fetch("/status.json", { cache: "no-store", signal: ac.signal });
    if (r.ok) render(await r.json());
  } catch (e) { /* still down: the banner stays */ } finally { clearTimeout(t); }
}
function connect() {
  if (es) es.close();
  es = new EventSource("/events");
  es.onopen = () => {
    freshStream = true;
    document.body.dataset.conn = "live";
    if (poll !== null) { clearInterval(poll); poll = null; }
  };
  es.onerror = lost;
  es.addEventListener("status", (m) => { document.body.dataset.conn = "live"; render(JSON.parse(m.data)); });
  es.addEventListener("events", (m) => addEvents(JSON.parse(m.data)));
}
connect();
fetchStatus();
</script></body></html>`;
