// svcplane live view: draws the model the server pushes over
// Server-Sent Events (/api/events). Plain DOM, no library.
"use strict";

const state = { model: null, open: new Set() };

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") e.className = v;
    else if (k === "text") e.textContent = v;
    else e.setAttribute(k, v);
  }
  for (const c of children) if (c != null) e.append(c);
  return e;
}

function podState(ep) {
  if (ep.terminating) return "terminating";
  if (ep.ready) return "ready";
  if (ep.serving) return "serving";
  return "unready";
}

function pct(x) {
  return (Math.round(x * 1000) / 10) + "%";
}

function renderWay(w, key) {
  const to = w.to === "" ? "no rule: goes on unchanged" : w.to;
  const verdict = !/:\d+$/.test(w.to);
  const li = el("li", { class: "way" + (verdict ? " verdict" : ""), "data-node": w.node, "data-mode": w.mode, "data-to": w.to });
  const d = el("details");
  if (state.open.has(key)) d.open = true;
  d.addEventListener("toggle", () => d.open ? state.open.add(key) : state.open.delete(key));
  d.append(el("summary", {},
    el("span", { class: "mono", text: `${w.node} · ${w.mode} · ${w.port} → ${to} ` }),
    el("span", { class: "chance", text: w.chance > 0 ? pct(w.chance) : "affinity only" }),
    w.masq ? el("span", { text: " · masqueraded" }) : null));
  d.append(el("pre", { text: w.rules.join("\n") }));
  li.append(d);
  return li;
}

function renderEndpoint(svcKey, ep) {
  const st = podState(ep);
  const div = el("div", { class: "pod", "data-pod": ep.pod || ep.addresses.join(","), "data-state": st,
    "data-ready": String(ep.ready), "data-serving": String(ep.serving), "data-terminating": String(ep.terminating) });
  div.append(el("span", { class: "name", text: ep.pod || "(no pod)" }),
    el("span", { class: "meta mono", text: [ep.addresses.join(", "), ep.node && "on " + ep.node, ep.podPhase, st].filter(Boolean).join(" · ") }));
  if (ep.dns) div.append(el("div", { class: "mono", text: "DNS: " + ep.dns.join(", ") }));
  const ul = el("ul", { class: "ways" });
  (ep.rules || []).forEach((w, i) => ul.append(renderWay(w, `${svcKey}/${ep.pod}/${i}`)));
  if (!ep.rules || ep.rules.length === 0) ul.append(el("li", { class: "none", text: "no node's rules send new connections here" }));
  div.append(ul);
  return div;
}

function renderService(svc) {
  const key = `${svc.namespace}/${svc.name}`;
  const sec = el("section", { class: "svc", "data-svc": key });
  const ips = svc.headless ? "headless" : (svc.clusterIPs || []).join(", ");
  sec.append(el("header", {},
    el("h2", { text: svc.name }), el("span", { class: "tag", text: svc.namespace }), el("span", { class: "tag", text: svc.type }),
    el("code", { text: ips || svc.externalName || "" }), el("span", { class: "mono", text: (svc.ports || []).join(", ") })));
  const dns = el("ul", { class: "dns mono" });
  (svc.dns || []).forEach(d => dns.append(el("li", { text: d })));
  sec.append(dns);
  const ways = el("ul", { class: "ways" });
  (svc.rules || []).forEach((w, i) => ways.append(renderWay(w, `${key}//${i}`)));
  sec.append(ways);
  const flow = el("div", { class: "flow" });
  flow.append(svgEl("svg", { class: "links" }), el("div"));
  const col = el("div", { class: "slices" });
  for (const sl of svc.slices) {
    const s = el("div", { class: "slice", "data-slice": sl.name });
    s.append(el("h3", { text: `EndpointSlice ${sl.name} (${sl.addressType}${sl.ports ? ", " + sl.ports.join(", ") : ""})` }));
    sl.endpoints.forEach(ep => s.append(renderEndpoint(key, ep)));
    col.append(s);
  }
  if (svc.slices.length === 0 && svc.type !== "ExternalName") col.append(el("div", { class: "none", text: "no EndpointSlice" }));
  (svc.pending || []).forEach(p => col.append(el("div", { class: "pending", text: `pod ${p}: selected, not in a slice yet` })));
  flow.append(col);
  sec.append(flow);
  return sec;
}

function svgEl(tag, attrs) {
  const e = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  return e;
}

// drawLinks draws a curve from the Service to each of its pods.
function drawLinks(sec) {
  const flow = sec.querySelector(".flow");
  const svg = flow.querySelector("svg.links");
  const box = flow.getBoundingClientRect();
  const pods = flow.querySelectorAll(".pod");
  if (pods.length === 0) return;
  const ys = [...pods].map(p => { const r = p.getBoundingClientRect(); return r.top - box.top + 14; });
  const y0 = (ys[0] + ys[ys.length - 1]) / 2;
  svg.append(svgEl("circle", { cx: 12, cy: y0, r: 8, fill: "#326ce5" }));
  pods.forEach((p, i) => {
    const color = { ready: "#2e9e5b", serving: "#d08a00", terminating: "#c0392b" }[p.dataset.state] || "#8a8f98";
    svg.append(svgEl("path", { d: `M20 ${y0} C45 ${y0} 40 ${ys[i]} 72 ${ys[i]}`, stroke: color, "stroke-width": 2, fill: "none" }));
  });
}

function renderNodes(nodes) {
  const box = document.getElementById("nodes");
  box.replaceChildren(...nodes.map(n => {
    const d = el("div", { class: "node", "data-node": n.name },
      el("strong", { text: n.name }), " ",
      el("span", { class: "mono", text: [(n.addresses || []).join(", "), n.ready ? "Ready" : "NotReady", "rules: " + ((n.modes || []).join(", ") || "none")].join(" · ") }));
    if (n.rulesError) d.append(el("span", { class: "err", text: "rules not read: " + n.rulesError }));
    return d;
  }));
}

function render() {
  const m = state.model;
  if (!m) return;
  renderNodes(m.nodes);
  const showSystem = document.getElementById("show-system").checked;
  const sel = document.getElementById("ns");
  const namespaces = [...new Set(m.services.map(s => s.namespace))];
  const cur = sel.value;
  sel.replaceChildren(el("option", { value: "", text: "all" }), ...namespaces.map(n => el("option", { value: n, text: n })));
  sel.value = namespaces.includes(cur) ? cur : "";
  const shown = m.services.filter(s => (sel.value ? s.namespace === sel.value : showSystem || s.namespace !== "kube-system"));
  const main = document.getElementById("services");
  const secs = shown.map(renderService);
  main.replaceChildren(...secs);
  if (secs.length === 0) main.append(el("p", { class: "none", text: "no Service" }));
  secs.forEach(drawLinks);
}

function setStatus(s, text) {
  const e = document.getElementById("status");
  e.dataset.state = s;
  e.textContent = text;
}

function connect() {
  const es = new EventSource("api/events");
  es.onopen = () => setStatus("live", "live");
  es.onmessage = ev => {
    state.model = JSON.parse(ev.data);
    setStatus("live", "live · " + new Date().toLocaleTimeString());
    render();
  };
  es.onerror = () => setStatus("down", "disconnected: retrying");
}

document.getElementById("show-system").addEventListener("change", render);
document.getElementById("ns").addEventListener("change", render);
window.addEventListener("resize", render);
connect();
