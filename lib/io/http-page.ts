// The live status page served at / (lib/io/http.ts). Self-contained: markup, style and script are in
// this string, compiled into the binary; the page talks only to /events and /status.json of the node
// that served it. Replaced by the full page (helper task); this minimal version renders the holders.
export const PAGE_HTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>drcm</title></head>
<body><h1>drcm</h1><table id="resources"><tbody></tbody></table>
<script>
const es = new EventSource("/events");
es.addEventListener("status", (m) => {
  const st = JSON.parse(m.data);
  const tb = document.querySelector("#resources tbody");
  tb.replaceChildren(...st.resources.map((r) => {
    const tr = document.createElement("tr");
    tr.dataset.slot = r.slot;
    const a = document.createElement("td"); a.textContent = r.slot;
    const b = document.createElement("td"); b.className = "holder"; b.textContent = r.holders.map((h) => h.node).join(", ");
    tr.append(a, b);
    return tr;
  }));
});
</script></body></html>`;
