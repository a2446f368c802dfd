"use strict";
// The device page's graphs: /api/v1/devices/{id}/graphs for the range and interface picked, each graph drawn with
// uPlot; the interface picker lists what the answer offers. window.wardGraphs holds the charts (by graph key) and
// the last URL asked, for the browser tests.
(function () {
  const box = document.getElementById("device-graphs");
  if (!box || typeof uPlot === "undefined") return;
  const list = box.querySelector(".graph-list");
  const status = box.querySelector(".graph-status");
  const picker = box.querySelector("[name=graph-interface]");
  let asked = {range: "1h"};  // the range last asked, for a new interface over the same range
  const COLOURS = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"];
  const state = window.wardGraphs = {charts: {}, url: null, loads: 0};

  // 12500000 -> "12.5 M": axis labels that fit
  function si(value) {
    if (value === null) return "";
    const size = Math.abs(value);
    for (const [unit, prefix] of [[1e12, " T"], [1e9, " G"], [1e6, " M"], [1e3, " k"]]) {
      if (size >= unit) return +(value / unit).toFixed(1) + prefix;
    }
    return String(+value.toFixed(2));
  }

  // uPlot's data: [times, values of series 1, values of series 2, ...] on one time axis (null where none)
  function table(graph) {
    const times = [...new Set(graph.series.flatMap((s) => s.points.map((p) => p[0])))].sort((a, b) => a - b);
    const at = new Map(times.map((t, i) => [t, i]));
    return [times, ...graph.series.map((s) => {
      const values = new Array(times.length).fill(null);
      s.points.forEach(([t, v]) => { values[at.get(t)] = v; });
      return values;
    })];
  }

  function draw(graph) {
    const el = document.createElement("div");
    el.className = "graph";
    el.dataset.key = graph.key;
    list.appendChild(el);
    const title = graph.title + (graph.unit ? " (" + graph.unit + ")" : "");
    if (!graph.series.length) {
      el.textContent = title + ": no data in this range";
      return;
    }
    state.charts[graph.key] = new uPlot({
      title: title, width: Math.max(320, list.clientWidth - 20), height: 220,
      scales: {x: {time: true}, y: graph.unit === "%" ? {range: [0, 100]} : {}}, axes: [{}, {size: 70, values: (u, ticks) => ticks.map(si)}],
      series: [{}, ...graph.series.map((s, i) => ({label: s.label, stroke: COLOURS[i % COLOURS.length], width: 1.5}))],
    }, table(graph), el);
  }

  // "ge-0/0/1 — uplink (GigabitEthernet0/0/1)": the name the series carry, then what a person calls it
  function offer(interfaces) {
    const names = interfaces.map((i) => i.name);
    const offered = [...picker.options].slice(1).map((o) => o.value);
    if (names.join("\n") !== offered.join("\n")) {
      const chosen = picker.value;
      picker.length = 1;  // keeps "busiest 5"
      interfaces.forEach((i) => {
        const descr = i.descr && i.descr !== i.name ? " (" + i.descr + ")" : "";
        picker.add(new Option(i.name + (i.alias ? " — " + i.alias : "") + descr, i.name));
      });
      picker.value = names.includes(chosen) ? chosen : "";
    }
    picker.closest("label").hidden = !interfaces.length;
  }

  function show(body) {
    Object.values(state.charts).forEach((chart) => chart.destroy());
    state.charts = {};
    list.textContent = "";
    offer(body.interfaces);
    status.textContent = body.note || (body.graphs.length ? "" : "Nothing is collected for this device.");
    body.graphs.forEach(draw);
    state.loads += 1;
  }

  function load(query) {
    asked = query;
    const params = new URLSearchParams(query);
    if (picker.value) params.set("interface", picker.value);
    state.url = box.dataset.url + "?" + params;
    status.textContent = "Loading…";
    fetch(state.url, {credentials: "same-origin", headers: {Accept: "application/json"}})
      .then((response) => response.json().then((body) => [response.ok, body]))
      .then(([ok, body]) => {
        if (ok) return show(body);
        status.textContent = Object.entries(body).map(([field, why]) => field + ": " + why).join("; ");
      })
      .catch((error) => { status.textContent = "Graphs unavailable: " + error; });
  }

  function pick(button) {
    box.querySelectorAll("button[data-range]").forEach((b) => b.classList.toggle("active", b === button));
    if (button.dataset.range !== "custom") return load({range: button.dataset.range});
    const start = box.querySelector("[name=graph-start]").value;
    const end = box.querySelector("[name=graph-end]").value;
    if (!start || !end) {
      status.textContent = "Give both ends of the range.";
      return;
    }
    load({start: new Date(start).toISOString(), end: new Date(end).toISOString()});
  }

  box.querySelectorAll("button[data-range]").forEach((b) => b.addEventListener("click", () => pick(b)));
  picker.addEventListener("change", () => load(asked));
  load({range: "1h"});
})();
