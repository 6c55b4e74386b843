// Issue 17, item 3: the live status page in a real headless Chromium (Debian package chromium), over the
// DevTools protocol. Three drcm daemons on 127.0.0.x with the stand-in agent and http_port set; the page
// of n2 (a survivor) shows n1 holding the floating IP; SIGKILL of n1 and the page shows n2 holding it
// within 2 s without a reload, with the takeover in its recent events. It asks nothing of anyone but
// the node, breaks no CSP rule, fits a narrow screen, and says "connection lost, retrying" (and polls
// /status.json) while its own node is down, then goes live again when the node is back.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { TestCluster, DRCM_BIN, waitFor } from "./harness.ts";
import { CdpSession, Chromium, findChromium } from "./cdp.ts";

const haveBinary = existsSync(DRCM_BIN);
const chromiumBin = findChromium();
if (!haveBinary) console.log(`skipping status page tests: no binary at ${DRCM_BIN} (npm run build)`);
else if (chromiumBin === null) console.log("skipping status page tests: chromium is not installed (Debian package chromium)");

const HTTP_PORT = 19500 + (process.pid % 400);
const ORIGIN = `http://127.0.0.72:${HTTP_PORT}`;
const SLOT = "ipaddr:vip@n1";
const ARTIFACTS = join(import.meta.dir, "../artifacts");

const holderExpr = `(document.querySelector('tr[data-slot="${SLOT}"] td.holder')?.textContent ?? null)`;
const stateExpr = (node: string) => `(document.querySelector('tr[data-node="${node}"] td.state')?.textContent ?? null)`;

describe.skipIf(!haveBinary || chromiumBin === null)("the live status page in headless Chromium", () => {
  let c: TestCluster;
  let browser: Chromium | null = null;
  let page: CdpSession | null = null;
  const requests: { url: string; at: number }[] = [];
  const exceptions: string[] = [];

  const p = (): CdpSession => {
    if (page === null) throw new Error("no page session");
    return page;
  };
  const screenshot = async (file: string) => {
    const shot = (await p().send("Page.captureScreenshot", { format: "png", captureBeyondViewport: true })) as { data: string };
    mkdirSync(ARTIFACTS, { recursive: true });
    writeFileSync(join(ARTIFACTS, file), Buffer.from(shot.data, "base64"));
  };

  beforeAll(async () => {
    c = new TestCluster({
      nodes: [
        { name: "n1", ip: "127.0.0.71", lines: ["node_floating_ip_addrs = vip", "node_crontabs = jobs"] },
        { name: "n2", ip: "127.0.0.72", lines: ["node_backup_floating_ip_addrs = n1:vip", "node_backup_crontabs = n1:jobs", "node_services = web", "services_check = 1"] },
        { name: "n3", ip: "127.0.0.73", lines: ["node_backup_floating_ip_addrs = n1:vip", "node_backup_services = n2:web"] },
      ],
      server: [`http_port = ${HTTP_PORT}`],
      resources: [
        "[CM_IPADDRS]",
        "vip, 10.99.7.100, 24, eth0, AGENT",
        "[CM_CRONTABS]",
        "jobs, DIR/crontabs/jobs, DIR/cron.d, AGENT",
        "[CM_SERVICES]",
        "web, httpd, AGENT",
      ].join("\n"),
    });
    c.startAll();
    browser = await Chromium.launch(chromiumBin!);
    page = await browser.page();
    page.on("Network.requestWillBeSent", (e) => requests.push({ url: (e.request as { url: string }).url, at: performance.now() }));
    page.on("Runtime.exceptionThrown", (e) => exceptions.push(JSON.stringify(e.exceptionDetails)));
    await page.send("Network.enable");
    await page.send("Runtime.enable");
    await page.send("Page.enable");
    // CSP violations are reported to the page itself: collect them where the test can read them.
    await page.send("Page.addScriptToEvaluateOnNewDocument", {
      source: "window.__csp = []; document.addEventListener('securitypolicyviolation', (e) => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));",
    });
    await page.send("Emulation.setDeviceMetricsOverride", { width: 1280, height: 900, deviceScaleFactor: 1, mobile: false });
  }, 30000);

  afterAll(async () => {
    page?.close();
    await browser?.close();
    await c?.cleanup();
  });

  test("n2's page shows the cluster with n1 holding the floating IP", async () => {
    const placed = await waitFor(() => c.has("n1", "10.99.7.100") && c.has("n2", "httpd"), 10000);
    if (placed < 0) console.log(c.log("n1"), c.log("n2"));
    expect(placed).toBeGreaterThanOrEqual(0);
    await p().send("Page.navigate", { url: `${ORIGIN}/` });
    // Bounded wait for the settled cluster: n1 holds the IP, all three alive, health OK.
    const shown = await p().waitFor<string>(
      `${holderExpr} === "n1" && [...document.querySelectorAll("tr[data-node] td.state")].filter((td) => td.textContent === "alive").length === 3 && document.getElementById("health").textContent === "OK" && ${stateExpr("n1")}`,
      10000,
    );
    if (shown === null) console.log(await p().evaluate("document.body.innerText"), browser?.stderr());
    expect(shown?.value).toBe("alive");
    const dom = await p().evaluate<{ answeredBy: string; health: string; states: string[]; slots: string[]; updated: string; events: number; title: string }>(`({
      answeredBy: document.getElementById("answeredBy").textContent,
      health: document.getElementById("health").textContent,
      states: [...document.querySelectorAll("tr[data-node] td.state")].map((td) => td.textContent),
      slots: [...document.querySelectorAll("tr[data-slot]")].map((tr) => tr.dataset.slot + "=" + tr.querySelector("td.holder").textContent),
      updated: document.body.dataset.updated,
      events: document.querySelectorAll("#events li").length,
      title: document.title,
    })`);
    expect(dom.answeredBy).toBe("n2");
    expect(dom.health).toBe("OK");
    expect(dom.title).toContain("n2");
    expect(dom.states).toEqual(["alive", "alive", "alive"]);
    expect(dom.slots.sort()).toEqual(["crontab:jobs@n1=n1", "ipaddr:vip@n1=n1", "service:web@n2=n2"]);
    // The page renders the document the node serves: generatedAt of a status no older than a few seconds.
    expect(Math.abs(Date.now() - Date.parse(dom.updated))).toBeLessThan(5000);
    expect(dom.events).toBeGreaterThan(0);
  }, 20000);

  test("SIGKILL of n1: without a reload the page shows n2 holding the IP within 2 s, and the takeover", async () => {
    const before = await p().evaluate<number>("performance.timeOrigin");
    const t0 = performance.now();
    await c.kill("n1");
    const moved = await p().waitFor<boolean>(`(${holderExpr}) === "n2"`, 5000);
    const ms = performance.now() - t0;
    if (moved === null) console.log(await p().evaluate("document.body.innerText"), c.log("n2"));
    expect(moved).not.toBeNull();
    console.log(`  SIGKILL n1 -> n2's page shows n2 holding ${SLOT} after ${Math.round(ms)} ms (dead_time 800 ms, interval 50 ms)`);
    expect(ms).toBeLessThan(2000);
    // Same document, not a reload.
    expect(await p().evaluate<number>("performance.timeOrigin")).toBe(before);
    const dead = await p().waitFor<string>(`${stateExpr("n1")} === "dead" && ${stateExpr("n1")}`, 2000);
    expect(dead?.value).toBe("dead");
    const takeover = await p().waitFor<string>(
      `[...document.querySelectorAll('#events li[data-type="takeover"]')].map((li) => li.querySelector(".msg").textContent).find((m) => m.includes("10.99.7.100") || m.includes("vip")) ?? null`,
      2000,
    );
    if (takeover === null) console.log(await p().evaluate("document.getElementById('events').innerText"));
    expect(takeover?.value).toMatch(/^Node n2 is taking over .* from n1/);
    // Newest first: the first entry is at least as recent as the takeover.
    const seqs = await p().evaluate<number[]>(`[...document.querySelectorAll("#events li")].map((li) => Number(li.dataset.seq))`);
    expect(seqs.length).toBeLessThanOrEqual(50);
    expect(seqs).toEqual([...seqs].sort((a, b) => b - a));
    const health = await p().evaluate<string>(`document.getElementById("health").textContent`);
    expect(["WARNING", "CRITICAL"]).toContain(health);
    await screenshot("live-page.png");
  }, 20000);

  test("the page asks nothing of anyone but its node, and breaks no CSP rule", async () => {
    const urls = requests.map((r) => r.url);
    expect(urls).toContain(`${ORIGIN}/`);
    expect(urls).toContain(`${ORIGIN}/events`);
    expect(urls.filter((u) => !u.startsWith(`${ORIGIN}/`))).toEqual([]);
    expect(await p().evaluate<string[]>("window.__csp")).toEqual([]);
    expect(exceptions).toEqual([]);
  });

  test("on a narrow screen the tables become labelled cards and nothing overflows sideways", async () => {
    await p().send("Emulation.setDeviceMetricsOverride", { width: 390, height: 844, deviceScaleFactor: 2, mobile: true });
    const fits = await p().waitFor<boolean>("window.innerWidth === 390 && document.documentElement.scrollWidth <= window.innerWidth", 2000);
    if (fits === null) console.log(await p().evaluate("[window.innerWidth, document.documentElement.scrollWidth]"));
    expect(fits).not.toBeNull();
    expect(await p().evaluate<string>(`getComputedStyle(document.querySelector("#resources thead")).display`)).toBe("none");
    expect(await p().evaluate<string>(`document.querySelector('tr[data-slot="${SLOT}"] td.holder').dataset.label`)).toBe("holder");
    await screenshot("live-page-narrow.png");
    await p().send("Emulation.setDeviceMetricsOverride", { width: 1280, height: 900, deviceScaleFactor: 1, mobile: false });
  });

  test("its node down: 'connection lost, retrying', /status.json polled every 2 s; back up: live again", async () => {
    const tKill = performance.now();
    await c.kill("n2");
    const lost = await p().waitFor<boolean>(`document.body.dataset.conn === "lost" && getComputedStyle(document.getElementById("conn")).display !== "none"`, 3000);
    expect(lost).not.toBeNull();
    expect(await p().evaluate<string>(`document.getElementById("conn").textContent`)).toContain("connection lost, retrying");
    await screenshot("live-page-lost.png");
    await Bun.sleep(4500);
    const polls = requests.filter((r) => r.at > tKill && r.url === `${ORIGIN}/status.json`);
    expect(polls.length).toBeGreaterThanOrEqual(2);
    const stale = await p().evaluate<string>("document.body.dataset.updated");
    c.start("n2");
    const back = await p().waitFor<boolean>(`document.body.dataset.conn === "live" && document.body.dataset.updated !== ${JSON.stringify(stale)}`, 10000);
    if (back === null) console.log(c.log("n2"));
    expect(back).not.toBeNull();
    expect(await p().evaluate<string>(`getComputedStyle(document.getElementById("conn")).display`)).toBe("none");
    expect(await p().evaluate<string>(`document.getElementById("answeredBy").textContent`)).toBe("n2");
    expect(requests.filter((r) => !r.url.startsWith(`${ORIGIN}/`)).map((r) => r.url)).toEqual([]);
  }, 30000);

  test("a failing watch shows up under Failed actions with the agent's output", async () => {
    expect(await p().evaluate<boolean>(`document.getElementById("failures").hidden`)).toBe(true);
    // n2 takes its own service back after failback_delay; then its watch breaks.
    expect(await waitFor(() => c.has("n2", "httpd"), 10000)).toBeGreaterThanOrEqual(0);
    c.breakResource("n2", "httpd");
    const row = await p().waitFor<{ cells: string[]; detail: string }>(
      `(() => { const tr = document.querySelector('#failures tr[data-failure^="n2|service:web@n2|watch"]');
        return tr && { cells: [...tr.children].map((td) => td.textContent), detail: tr.querySelector("td.detail").textContent }; })()`,
      10000,
    );
    if (row === null) console.log(await p().evaluate("document.body.innerText"), c.log("n2"));
    expect(row).not.toBeNull();
    expect(row!.value.cells.slice(0, 3)).toEqual(["n2", "service:web@n2", "watch"]);
    expect(row!.value.detail).toContain("is broken on n2");
    expect(await p().evaluate<boolean>(`!document.getElementById("failures").hidden && document.getElementById("no-failures").hidden`)).toBe(true);
    await screenshot("live-page-failure.png");
  }, 20000);
});
