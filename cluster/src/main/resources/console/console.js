// Ferry web console: the REST API for state and actions, server-sent events for live updates.
// No framework and no build step: the file is served as it is from the node's jar.
"use strict";

const state = {
  hosts: [], vms: [],
  migrations: new Map(),  // id -> {migrationId, vmName, source, target, state, progress, summary}
  history: new Map(),     // id -> [progress per iteration, the last event of each iteration]
  limits: new Map(),      // id -> downtime limit (ms) the console asked for
  selected: null,         // the migration shown in the view
};
const colours = ["#2a62c9", "#2f8f4e", "#b0489b", "#d07a00", "#00838f", "#7b5ea7", "#c0392b", "#5d7b1e"];
const SVG = "http://www.w3.org/2000/svg";

function $(sel) { return document.querySelector(sel); }

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") e.className = v;
    else if (k.startsWith("on")) e.addEventListener(k.substring(2), v);
    else e.setAttribute(k, v);
  }
  for (const c of children) e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return e;
}

function svg(tag, attrs, text) {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
}

function log(text, error) {
  const li = el("li", error ? { class: "error" } : {}, new Date().toLocaleTimeString() + "  " + text);
  $("#log").prepend(li);
  while ($("#log").childElementCount > 200) $("#log").lastElementChild.remove();
}

function human(bytes) {
  if (bytes >= 1 << 30) return (bytes / (1 << 30)).toFixed(1) + " GiB";
  if (bytes >= 1 << 20) return (bytes / (1 << 20)).toFixed(1) + " MiB";
  if (bytes >= 1 << 10) return (bytes / (1 << 10)).toFixed(1) + " KiB";
  return bytes + " B";
}

async function api(method, path, body) {
  const opts = { method, headers: {} };
  if (body !== undefined) {
    opts.headers["Content-Type"] = "application/json";
    opts.body = JSON.stringify(body);
  }
  const r = await fetch(path, opts);
  const text = await r.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch (e) { data = { message: text }; }
  if (!r.ok) throw new Error((data && data.message) || ("HTTP " + r.status));
  return data;
}

let refreshing = false;
async function refresh() {
  if (refreshing) return;
  refreshing = true;
  try {
    [state.hosts, state.vms] = await Promise.all([api("GET", "/api/hosts"), api("GET", "/api/vms")]);
    const migrations = await api("GET", "/api/migrations");
    for (const m of migrations) {
      const known = state.migrations.get(m.migrationId) || {};
      state.migrations.set(m.migrationId, Object.assign(known, m));
      if (m.progress) remember(m.progress);
    }
    render();
  } catch (e) {
    log("refresh failed: " + e.message, true);
  } finally {
    refreshing = false;
  }
}

function colourOf(vmName) {
  const i = state.vms.findIndex(v => v.spec.name === vmName);
  return colours[(i < 0 ? 0 : i) % colours.length];
}

const ACTIVE = ["RUNNING", "PAUSED", "MIGRATING"];

/** Guest memory per host NUMA node, from each VM's memory policy (DEFAULT: the kernel decides, "unbound"). */
function memoryByNode(host) {
  const byNode = new Map();
  for (const r of host.status.vms) {
    const info = r.info;
    if (!ACTIVE.includes(info.status)) continue;
    const policy = info.binding.memory;
    const nodes = policy.mode === "DEFAULT" ? ["unbound"] : policy.nodes;
    for (const n of nodes) {
      if (!byNode.has(n)) byNode.set(n, []);
      byNode.get(n).push({ vm: info.name, bytes: info.memoryBytes / nodes.length });
    }
  }
  return byNode;
}

function memoryBar(total, parts) {
  const bar = el("div", { class: "membar", title: parts.map(p => p.vm + " " + human(p.bytes)).join(", ") || "no guest memory" });
  for (const p of parts) {
    const seg = el("div", { class: "seg", "data-vm": p.vm });
    seg.style.width = Math.min(100, 100 * p.bytes / Math.max(1, total)).toFixed(2) + "%";
    seg.style.background = colourOf(p.vm);
    bar.append(seg);
  }
  return bar;
}

function renderHosts() {
  const box = $("#hosts");
  box.replaceChildren();
  for (const h of state.hosts) {
    const pinned = new Map(); // cpu -> vm names
    for (const r of h.status.vms) {
      const info = r.info;
      if (!ACTIVE.includes(info.status)) continue;
      for (const cpus of info.binding.vcpuCpus) {
        for (const c of cpus) {
          if (!pinned.has(c)) pinned.set(c, []);
          pinned.get(c).push(info.name);
        }
      }
    }
    const memory = memoryByNode(h);
    const card = el("div", { class: "host" + (h.up ? "" : " down") + (h.draining ? " draining" : ""), "data-host": h.host },
      el("h3", {}, h.host, " ", el("span", { class: "muted" }, h.up ? (h.draining ? "draining" : "up") : "down")));
    const nodes = el("div", { class: "nodes" });
    for (const n of h.status.inventory.nodes) {
      const cpus = el("div", { class: "cpus" });
      for (const c of n.cpus) {
        const users = pinned.get(c) || [];
        const dedicated = users.length === 1 && h.status.vms.some(r => r.info.name === users[0] && r.info.binding.vcpuCpus.some(l => l.length === 1 && l[0] === c));
        const cell = el("div", { class: "cpu" + (dedicated ? " used" : users.length ? " shared" : ""), title: "CPU " + c + (users.length ? ": " + users.join(", ") : "") }, c);
        if (dedicated) cell.style.background = colourOf(users[0]);
        cpus.append(cell);
      }
      const parts = memory.get(n.id) || [];
      const used = parts.reduce((a, p) => a + p.bytes, 0);
      nodes.append(el("div", { class: "node", "data-node": n.id },
        el("div", { class: "node-title" }, "node " + n.id, el("span", { class: "muted" }, " " + human(used) + " / " + human(n.memoryBytes))),
        cpus, memoryBar(n.memoryBytes, parts)));
    }
    card.append(nodes);
    const unbound = memory.get("unbound") || [];
    if (unbound.length) {
      card.append(el("div", { class: "muted small" }, "not bound to a node: " + unbound.map(p => p.vm + " " + human(p.bytes)).join(", ")));
    }
    card.append(el("div", { class: "muted" }, h.status.vms.length + " VM(s), " + human(h.status.reservedMemoryBytes) + " reserved"));
    if (h.up && !h.draining) {
      card.append(el("button", { class: "evacuate", onclick: () => act(() => api("POST", "/api/hosts/" + h.host + "/evacuate"), "evacuating " + h.host) }, "Evacuate"));
    }
    box.append(card);
  }
}

function migrationOptions() {
  return {
    downtimeLimitMs: Number($("#m-downtime").value) || 300,
    bandwidthMiBps: Number($("#m-bandwidth").value) || 0,
    channels: Number($("#m-channels").value) || 2,
    compression: $("#m-compression").value,
    autoConverge: $("#m-autoconverge").checked,
    postCopy: $("#m-postcopy").checked,
    preallocate: $("#m-preallocate").checked,
    maxIterations: Number($("#m-iterations").value) || 30,
    timeoutSeconds: 0,
  };
}

async function migrate(name, to) {
  const options = migrationOptions();
  const r = await api("POST", "/api/migrations", { vm: name, to, options });
  state.limits.set(r.migrationId, options.downtimeLimitMs);
  state.selected = r.migrationId;
  return r;
}

function renderVms() {
  const body = $("#vms tbody");
  body.replaceChildren();
  for (const v of state.vms) {
    const name = v.spec.name;
    const status = v.placement === "LOST" ? "LOST" : v.info.status;
    const target = el("select", { class: "target" }, ...state.hosts.filter(h => h.up && h.host !== v.host && !h.draining).map(h => el("option", { value: h.host }, h.host)));
    const actions = el("td", { class: "actions" });
    const button = (label, fn) => actions.append(el("button", { class: "act-" + label.toLowerCase(), onclick: fn }, label));
    if (status === "RUNNING") {
      button("Pause", () => act(() => api("POST", `/api/vms/${name}/pause`), "paused " + name));
      button("Stop", () => act(() => api("POST", `/api/vms/${name}/stop`), "stopped " + name));
    } else if (status === "PAUSED") {
      button("Resume", () => act(() => api("POST", `/api/vms/${name}/resume`), "resumed " + name));
      button("Stop", () => act(() => api("POST", `/api/vms/${name}/stop`), "stopped " + name));
    } else if (status === "STOPPED" || status === "DEFINED") {
      button("Start", () => act(() => api("POST", `/api/vms/${name}/start`), "started " + name));
      button("Delete", () => act(() => api("DELETE", `/api/vms/${name}`), "deleted " + name));
    }
    if ((status === "RUNNING" || status === "PAUSED") && target.options.length) {
      actions.append(target);
      button("Migrate", () => act(() => migrate(name, target.value), "migrating " + name + " to " + target.value));
    }
    if (status === "RUNNING" || status === "PAUSED") {
      button("Check", () => act(async () => {
        const c = await api("POST", `/api/vms/${name}/check`);
        if (!c.ok) throw new Error(name + ": " + c.detail);
        return c;
      }, "checked " + name + ": memory equals its replay"));
    }
    const swatch = el("span", { class: "swatch" });
    swatch.style.background = colourOf(name);
    body.append(el("tr", { "data-vm": name },
      el("td", {}, swatch, name), el("td", { class: "host" }, v.host), el("td", { class: "status status-" + status }, status.toLowerCase()),
      el("td", {}, v.spec.vcpus), el("td", {}, human(v.spec.memoryBytes)), el("td", {}, v.spec.workload.program),
      el("td", { class: "dirty" }, status === "RUNNING" ? (v.info.dirtyRateMiBps || 0).toFixed(1) + " MiB/s" : "-"),
      el("td", { class: "steps" }, v.info.steps), el("td", {}, JSON.stringify(v.info.binding.vcpuCpus)), actions));
  }
}

/** Keeps the last progress event of each iteration: the chart's points. */
function remember(p) {
  if (p.downtimeLimitMs) state.limits.set(p.migrationId, p.downtimeLimitMs);
  // Points: each pre-copy iteration, then stop-and-copy / post-copy; the other phases carry no transfer figures.
  if (!["PERFORMING", "SWITCHED_OVER", "POSTCOPY"].includes(p.phase)) return;
  if (!state.history.has(p.migrationId)) state.history.set(p.migrationId, []);
  const h = state.history.get(p.migrationId);
  const key = q => q.iteration + (q.phase === "PERFORMING" ? "" : q.phase);
  const last = h[h.length - 1];
  if (last && key(last) === key(p)) h[h.length - 1] = p;
  else if (!last || p.iteration >= last.iteration) h.push(p);
}

function migrationText(m) {
  const s = m.summary;
  const p = m.progress;
  if (s) {
    return s.success ? `done in ${s.totalMs} ms, downtime ${s.downtimeMs} ms, ${s.iterations} iteration(s), ${human(s.wireBytes)} on the wire`
      : "failed: " + s.failure;
  }
  if (p) {
    return `${p.phase.toLowerCase()}, iteration ${p.iteration}, ${human(p.transferredBytes)} sent, ${human(p.remainingBytes)} left, dirty ${p.dirtyRateMiBps.toFixed(1)} MiB/s`;
  }
  return m.state || "starting";
}

function renderMigrations() {
  const box = $("#migrations");
  box.replaceChildren();
  const all = [...state.migrations.values()].slice(-10).reverse();
  if (!state.selected && all.length) state.selected = all[0].migrationId;
  for (const m of all) {
    const s = m.summary;
    const p = m.progress;
    let fraction = 0;
    if (s) fraction = 1;
    else if (p) {
      const total = p.transferredBytes + p.remainingBytes;
      fraction = total ? p.transferredBytes / total : 0;
    }
    const fill = el("div", {});
    fill.style.width = (fraction * 100).toFixed(0) + "%";
    box.append(el("div", {
      class: "migration" + (s ? (s.success ? " ok" : " failed") : " running") + (m.migrationId === state.selected ? " selected" : ""),
      "data-migration": m.migrationId,
      onclick: () => { state.selected = m.migrationId; renderMigrations(); },
    },
      el("div", {}, `${m.vmName || "?"}: ${m.source} → ${m.target}`),
      el("div", { class: "bar" }, fill),
      el("div", { class: "muted detail" }, migrationText(m))));
  }
  renderMigrationView();
}

/** One small line/bar chart: series of {label, colour, values, bars?}, x = iterations. */
function chart(title, series, unit, limit, ticks, phases) {
  const W = 320, H = 130, L = 46, R = 8, T = 18, B = 20;
  const n = Math.max(1, ...series.map(s => s.values.length));
  let max = Math.max(unit === "bytes" || unit === "pages" ? 1 : 0.1, ...series.flatMap(s => s.values), limit ? limit.value : 0);
  max *= 1.1;
  const x = i => L + (n === 1 ? (W - L - R) / 2 : i * (W - L - R) / (n - 1));
  const y = v => T + (H - T - B) * (1 - v / max);
  const g = svg("svg", { viewBox: `0 0 ${W} ${H}`, class: "chart", role: "img", "aria-label": title });
  g.append(svg("text", { x: L, y: 12, class: "chart-title" }, title));
  g.append(svg("line", { x1: L, y1: T, x2: L, y2: H - B, class: "axis" }));
  g.append(svg("line", { x1: L, y1: H - B, x2: W - R, y2: H - B, class: "axis" }));
  g.append(svg("text", { x: L - 4, y: T + 4, class: "tick", "text-anchor": "end" }, fmt(max, unit)));
  g.append(svg("text", { x: L - 4, y: H - B, class: "tick", "text-anchor": "end" }, "0"));
  for (let i = 0; i < n; i++) {
    const label = ticks ? ticks[i] : i + 1;
    if (n <= 12 || i % Math.ceil(n / 12) === 0) g.append(svg("text", { x: x(i), y: H - 6, class: "tick", "text-anchor": "middle" }, label));
  }
  if (limit) {
    g.append(svg("line", { x1: L, y1: y(limit.value), x2: W - R, y2: y(limit.value), class: "limit" }));
    g.append(svg("text", { x: W - R, y: y(limit.value) - 3, class: "tick", "text-anchor": "end" }, limit.label));
  }
  let lx = L + 4;
  for (const s of series) {
    if (s.bars) {
      const w = Math.max(2, (W - L - R) / n * 0.6);
      s.values.forEach((v, i) => g.append(svg("rect", { x: x(i) - w / 2, y: y(v), width: w, height: Math.max(0, H - B - y(v)), fill: s.colour })));
    } else {
      const pts = s.values.map((v, i) => `${x(i)},${y(v)}`).join(" ");
      g.append(svg("polyline", { points: pts, fill: "none", stroke: s.colour, "stroke-width": 2 }));
      s.values.forEach((v, i) => {
        const dot = svg("circle", { cx: x(i), cy: y(v), r: 2.5, fill: s.colour });
        dot.append(svg("title", {}, (ticks ? "iteration " + ticks[i] + (phases ? " (" + phases[i] + ")" : "") + ": " : "") + fmt(v, unit)));
        g.append(dot);
      });
    }
    g.append(svg("text", { x: lx, y: T + 10, class: "legend", fill: s.colour }, s.label));
    lx += 8 + s.label.length * 6;
  }
  return g;
}

function fmt(v, unit) {
  if (v < 0.05) return "0";
  if (unit === "bytes") return human(Math.round(v));
  return (v >= 100 ? v.toFixed(0) : v.toFixed(1)) + " " + unit;
}

function renderMigrationView() {
  const view = $("#migration-view");
  const m = state.migrations.get(state.selected);
  if (!m) return;
  view.replaceChildren();
  view.setAttribute("data-migration", m.migrationId);
  view.append(el("h3", {}, `${m.vmName || "?"}: ${m.source} → ${m.target}`, " ", el("span", { class: "muted" }, m.summary ? (m.summary.success ? "completed" : "failed") : (m.progress ? m.progress.phase.toLowerCase() : "starting"))));
  const h = state.history.get(m.migrationId) || [];
  if (h.length) {
    const sent = h.map((p, i) => Math.max(0, p.transferredBytes - (i ? h[i - 1].transferredBytes : 0)));
    const pages = h.map((p, i) => Math.max(0, p.pagesSent - (i ? h[i - 1].pagesSent : 0)));
    const limit = state.limits.get(m.migrationId);
    // x: one point per iteration and phase (setup, each pre-copy pass, stop-and-copy), labelled by iteration
    const ticks = h.map(p => p.phase === "PERFORMING" ? String(p.iteration) : p.phase === "POSTCOPY" ? "post" : "stop");
    const phases = h.map(p => p.phase.toLowerCase().replace("_", " "));
    const charts = el("div", { class: "charts" });
    charts.append(pages.some(v => v > 0) ? chart("pages sent per iteration", [{ label: "pages", colour: "#2a62c9", values: pages, bars: true }], "pages", null, ticks, phases)
      : chart("bytes sent per iteration", [{ label: "wire bytes", colour: "#2a62c9", values: sent, bars: true }], "bytes", null, ticks, phases));
    charts.append(chart("dirty rate vs transfer rate (guest memory)", [
      { label: "dirty", colour: "#c0392b", values: h.map(p => p.dirtyRateMiBps) },
      { label: "transfer", colour: "#2f8f4e", values: h.map(p => p.bandwidthMiBps) }], "MiB/s", null, ticks, phases));
    charts.append(chart("remaining", [{ label: "dirty memory left", colour: "#7b5ea7", values: h.map(p => p.remainingBytes) }], "bytes", null, ticks, phases));
    charts.append(chart("expected downtime", [{ label: "expected", colour: "#d07a00", values: h.map(p => p.expectedDowntimeMs) }], "ms",
      limit ? { value: limit, label: "limit " + limit + " ms" } : null, ticks, phases));
    view.append(charts);
  } else if (!m.summary) {
    view.append(el("div", { class: "muted" }, "waiting for the first iteration..."));
  }
  const s = m.summary;
  if (s) {
    const rows = [
      ["outcome", s.success ? "migrated" : "failed: " + s.failure],
      ["total time", s.totalMs + " ms (setup " + s.setupMs + " ms)"],
      ["downtime", `${s.downtimeMs} ms (memory ${s.downtimeMemoryMs}, state ${s.downtimeStateMs}, activation ${s.downtimeActivationMs})`],
      ["iterations", s.iterations],
      ["wire bytes", human(s.wireBytes) + " for " + human(s.guestBytes) + " of guest memory"],
      ["pages by codec", Object.entries(s.pagesByCodec).filter(([, n]) => n > 0).map(([c, n]) => c.toLowerCase() + " " + n).join(", ") || "-"],
      ["XOR cache hit rate", (100 * s.xorHitRate).toFixed(1) + " %"],
      ["throughput", `mean ${s.meanMBps.toFixed(1)} MB/s, peak ${s.peakMBps.toFixed(1)} MB/s`],
      ["throttle reached", s.throttlePercent + " %"],
    ];
    if (s.postCopyMs) rows.push(["post-copy", s.postCopyMs + " ms"]);
    view.append(el("table", { class: "report" }, ...rows.map(([k, v]) => el("tr", {}, el("th", {}, k), el("td", {}, v)))));
  }
}

function render() {
  renderHosts();
  renderVms();
  renderMigrations();
  const running = state.vms.filter(v => v.info.status === "RUNNING").length;
  $("#summary").textContent = `${state.hosts.filter(h => h.up).length} host(s) up, ${state.vms.length} VM(s), ${running} running`;
}

async function act(fn, done) {
  try {
    await fn();
    log(done);
  } catch (e) {
    log(e.message, true);
  }
  refresh();
}

$("#create").addEventListener("submit", ev => {
  ev.preventDefault();
  const program = $("#c-workload").value;
  const rate = Number($("#c-rate").value) || 0;
  const memory = $("#c-memory").value;
  const workloads = {
    idle: { program: "idle" },
    pagewalk: { program: "pagewalk", offset: 0, length: 0, dirtyRateMiBps: rate },
    hotset: { program: "hotset", offset: 0, workingSetBytes: 4 << 20, zipfExponent: 1.0, dirtyRateMiBps: rate, seed: 1 },
    random: { program: "random", dirtyRateMiBps: rate, seed: 1 },
    fill: { program: "fill", zeroPercent: 40, textPercent: 30, seed: 1 },
  };
  const def = { name: $("#c-name").value, vcpus: Number($("#c-vcpus").value), memory, workload: workloads[program],
    ha: $("#c-ha").checked ? "RESTART" : "NONE" };
  act(() => api("POST", "/api/vms?start=true", def), "created " + def.name);
});

function importDone(r, what) {
  for (const w of r.warnings) log("import warning: " + w);
  log("imported " + what + ": " + r.vms.map(v => v.spec.name).join(", "));
}

$("#import").addEventListener("submit", ev => {
  ev.preventDefault();
  const req = { source: $("#i-source").value, start: $("#i-start").checked };
  const bar = $("#import-bar");
  bar.classList.remove("hidden");
  bar.classList.add("busy");
  api("POST", "/api/vms/import", req).then(r => importDone(r, req.source), e => log(e.message, true))
    .finally(() => { bar.classList.add("hidden"); bar.classList.remove("busy"); refresh(); });
});

// Upload with XMLHttpRequest: fetch() reports no upload progress.
$("#upload").addEventListener("submit", ev => {
  ev.preventDefault();
  const file = $("#u-file").files[0];
  if (!file) return;
  const bar = $("#import-bar");
  const fill = bar.firstElementChild;
  const label = $("#u-progress");
  bar.classList.remove("hidden");
  const started = performance.now();
  const xhr = new XMLHttpRequest();
  xhr.open("POST", `/api/vms/import/upload?name=${encodeURIComponent(file.name)}&start=${$("#u-start").checked}`);
  xhr.setRequestHeader("Content-Type", "application/octet-stream");
  xhr.upload.onprogress = e => {
    if (!e.lengthComputable) return;
    const secs = Math.max(0.001, (performance.now() - started) / 1000);
    const rate = e.loaded / secs;
    fill.style.width = (100 * e.loaded / e.total).toFixed(0) + "%";
    label.textContent = `uploading ${human(e.loaded)} / ${human(e.total)}, ${human(rate)}/s, ETA ${Math.ceil((e.total - e.loaded) / Math.max(1, rate))} s`;
  };
  xhr.upload.onload = () => { label.textContent = "importing (checking the manifest, copying disks)..."; bar.classList.add("busy"); };
  xhr.onload = () => {
    bar.classList.add("hidden");
    bar.classList.remove("busy");
    let r = null;
    try { r = JSON.parse(xhr.responseText); } catch (e) { r = { message: xhr.responseText }; }
    if (xhr.status >= 200 && xhr.status < 300) {
      label.textContent = "imported " + file.name;
      importDone(r, file.name);
    } else {
      label.textContent = "";
      log("upload of " + file.name + " failed: " + (r.message || xhr.status), true);
    }
    refresh();
  };
  xhr.onerror = () => { bar.classList.add("hidden"); label.textContent = ""; log("upload of " + file.name + " failed: connection error", true); };
  xhr.send(file);
});

function connect() {
  const es = new EventSource("/api/events");
  es.onopen = () => { $("#stream").textContent = "events: live"; $("#stream").classList.add("on"); };
  es.onerror = () => { $("#stream").textContent = "events: reconnecting"; $("#stream").classList.remove("on"); };
  const later = (() => { let t; return () => { clearTimeout(t); t = setTimeout(refresh, 150); }; })();
  const lastStatus = new Map();
  es.addEventListener("vm", e => {
    const v = JSON.parse(e.data).vm;
    const status = v.placement === "LOST" ? "LOST" : v.info.status;
    const key = v.spec.name;
    if (lastStatus.get(key) !== status + "@" + v.host) {
      if (lastStatus.has(key)) log(`${key} is ${status.toLowerCase()} on ${v.host}`, status === "LOST");
      lastStatus.set(key, status + "@" + v.host);
    }
    later();
  });
  es.addEventListener("vm-removed", e => { log(JSON.parse(e.data).name + " was removed"); later(); });
  es.addEventListener("host", e => {
    const h = JSON.parse(e.data);
    log(`host ${h.host} is ${h.up ? (h.draining ? "draining" : "up") : "down"}`, !h.up);
    later();
  });
  es.addEventListener("migration-progress", e => {
    const p = JSON.parse(e.data).progress;
    let m = state.migrations.get(p.migrationId);
    if (!m) {
      const vm = state.vms.find(v => v.spec.id === p.vm);
      m = { migrationId: p.migrationId, vmName: vm ? vm.spec.name : "", source: p.source, target: p.target };
      state.migrations.set(p.migrationId, m);
      log(`${m.vmName || p.vm} is migrating ${p.source} → ${p.target}`);
    }
    m.progress = p;
    remember(p);
    renderMigrations();
  });
  es.addEventListener("migration-ended", e => {
    const s = JSON.parse(e.data).summary;
    const m = state.migrations.get(s.migrationId) || { migrationId: s.migrationId };
    Object.assign(m, { summary: s, vmName: s.vmName, source: s.source, target: s.target });
    state.migrations.set(s.migrationId, m);
    log(`${s.vmName} ${s.source} → ${s.target}: ` + (s.success ? `migrated, downtime ${s.downtimeMs} ms` : "failed: " + s.failure), !s.success);
    refresh();
  });
}

refresh();
connect();
setInterval(refresh, 5000);
