// Ferry web console: the REST API for state and actions, server-sent events for live updates.
"use strict";

const state = { hosts: [], vms: [], migrations: new Map() };
const colours = ["#2a62c9", "#2f8f4e", "#b0489b", "#d07a00", "#00838f", "#7b5ea7", "#c0392b", "#5d7b1e"];

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

function log(text, error) {
  const li = el("li", error ? { class: "error" } : {}, new Date().toLocaleTimeString() + "  " + text);
  $("#log").prepend(li);
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
  const data = text ? JSON.parse(text) : null;
  if (!r.ok) throw new Error((data && data.message) || ("HTTP " + r.status));
  return data;
}

async function refresh() {
  try {
    [state.hosts, state.vms] = await Promise.all([api("GET", "/api/hosts"), api("GET", "/api/vms")]);
    const migrations = await api("GET", "/api/migrations");
    for (const m of migrations) state.migrations.set(m.migrationId, m);
    render();
  } catch (e) {
    log("refresh failed: " + e.message, true);
  }
}

function colourOf(vmName) {
  const i = state.vms.findIndex(v => v.spec.name === vmName);
  return colours[(i < 0 ? 0 : i) % colours.length];
}

function renderHosts() {
  const box = $("#hosts");
  box.replaceChildren();
  for (const h of state.hosts) {
    const pinned = new Map(); // cpu -> vm names
    for (const r of h.status.vms) {
      const info = r.info;
      if (!["RUNNING", "PAUSED", "MIGRATING"].includes(info.status)) continue;
      for (const cpus of info.binding.vcpuCpus) {
        for (const c of cpus) {
          if (!pinned.has(c)) pinned.set(c, []);
          pinned.get(c).push(info.name);
        }
      }
    }
    const card = el("div", { class: "host" + (h.up ? "" : " down") + (h.draining ? " draining" : ""), "data-host": h.host },
      el("h3", {}, h.host, " ", el("span", { class: "muted" }, h.up ? (h.draining ? "draining" : "up") : "down")));
    for (const n of h.status.inventory.nodes) {
      const cpus = el("div", { class: "cpus" });
      for (const c of n.cpus) {
        const users = pinned.get(c) || [];
        const dedicated = users.length === 1 && h.status.vms.some(r => r.info.name === users[0] && r.info.binding.vcpuCpus.some(l => l.length === 1 && l[0] === c));
        const cell = el("div", { class: "cpu" + (dedicated ? " used" : ""), title: "CPU " + c + (users.length ? ": " + users.join(", ") : "") }, c);
        if (dedicated) cell.style.background = colourOf(users[0]);
        else if (users.length) cell.style.outline = "2px solid #9aa3b5";
        cpus.append(cell);
      }
      card.append(el("div", { class: "node" }, el("div", { class: "muted" }, "node " + n.id + " · " + human(n.memoryBytes)), cpus));
    }
    card.append(el("div", { class: "muted" }, h.status.vms.length + " VM(s), " + human(h.status.reservedMemoryBytes) + " in use"));
    if (h.up && !h.draining) {
      card.append(el("button", { class: "evacuate", onclick: () => act(() => api("POST", "/api/hosts/" + h.host + "/evacuate"), "evacuating " + h.host) }, "Evacuate"));
    }
    box.append(card);
  }
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
      button("Migrate", () => act(() => api("POST", "/api/migrations", { vm: name, to: target.value }), "migrating " + name + " to " + target.value));
    }
    if (status === "RUNNING" || status === "PAUSED") {
      button("Check", () => act(async () => {
        const c = await api("POST", `/api/vms/${name}/check`);
        if (!c.ok) throw new Error(name + ": " + c.detail);
        return c;
      }, "checked " + name + ": memory equals its replay"));
    }
    body.append(el("tr", { "data-vm": name },
      el("td", {}, name), el("td", { class: "host" }, v.host), el("td", { class: "status status-" + status }, status.toLowerCase()),
      el("td", {}, v.spec.vcpus), el("td", {}, human(v.spec.memoryBytes)), el("td", {}, v.spec.workload.program),
      el("td", { class: "steps" }, v.info.steps), el("td", {}, JSON.stringify(v.info.binding.vcpuCpus)), actions));
  }
}

function renderMigrations() {
  const box = $("#migrations");
  box.replaceChildren();
  const all = [...state.migrations.values()].slice(-8).reverse();
  for (const m of all) {
    const s = m.summary;
    const p = m.progress;
    let fraction = 0;
    let text;
    if (s) {
      fraction = 1;
      text = s.success ? `done in ${s.totalMs} ms, downtime ${s.downtimeMs} ms, ${s.iterations} iteration(s), ${human(s.wireBytes)} on the wire`
        : "failed: " + s.failure;
    } else if (p) {
      const total = p.transferredBytes + p.remainingBytes;
      fraction = total ? p.transferredBytes / total : 0;
      text = `${p.phase.toLowerCase()}, iteration ${p.iteration}, ${human(p.transferredBytes)} sent, ${human(p.remainingBytes)} left, dirty ${p.dirtyRateMiBps.toFixed(1)} MiB/s`;
    } else {
      text = m.state;
    }
    box.append(el("div", { class: "migration" + (s ? (s.success ? " ok" : " failed") : ""), "data-migration": m.migrationId },
      el("div", {}, `${m.vmName}: ${m.source} → ${m.target}`),
      el("div", { class: "bar" }, Object.assign(el("div", {}), { style: `width:${(fraction * 100).toFixed(0)}%` })),
      el("div", { class: "muted detail" }, text)));
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

$("#import").addEventListener("submit", ev => {
  ev.preventDefault();
  const req = { source: $("#i-source").value, start: $("#i-start").checked };
  act(async () => {
    const r = await api("POST", "/api/vms/import", req);
    for (const w of r.warnings) log("import warning: " + w);
    return r;
  }, "imported " + req.source);
});

function connect() {
  const es = new EventSource("/api/events");
  es.onopen = () => { $("#stream").textContent = "events: live"; $("#stream").classList.add("on"); };
  es.onerror = () => { $("#stream").textContent = "events: reconnecting"; $("#stream").classList.remove("on"); };
  const later = (() => { let t; return () => { clearTimeout(t); t = setTimeout(refresh, 150); }; })();
  for (const type of ["vm", "vm-removed", "host"]) es.addEventListener(type, later);
  es.addEventListener("migration-progress", e => {
    const p = JSON.parse(e.data).progress;
    const m = state.migrations.get(p.migrationId) || { migrationId: p.migrationId, vmName: "", source: p.source, target: p.target };
    m.progress = p;
    state.migrations.set(p.migrationId, m);
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
