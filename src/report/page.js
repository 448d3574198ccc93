// maple-mm report: draws the history chart and the map from the JSON in #data, and redraws the
// map at the op the slider, the buttons, the arrow keys or a link with data-step picks.
// The data's format is in docs/report.md. When everything is drawn, <body data-state="drawn">;
// an error anywhere shows in #errors and sets data-state="error".
"use strict";

const errors = document.getElementById("errors");
window.addEventListener("error", (event) => {
  errors.hidden = false;
  errors.textContent += `script error: ${event.message} (line ${event.lineno})\n`;
  document.body.dataset.state = "error";
});

(function () {
  const data = JSON.parse(document.getElementById("data").textContent);
  const SVG = "http://www.w3.org/2000/svg";
  const PAGE = 4096;
  const MAP = { width: 960, barX: 150, barWidth: 380, gap: 14 };
  const CHART = { width: 960, height: 190, left: 56, right: 880, top: 12, bottom: 142 };
  const colours = new Map(data.kinds);
  const rules = new Map(data.pairs.map(([left, right, rule]) => [`${left},${right}`, data.rules[rule]]));
  const total = data.steps.length;
  // Fields of data.areas and data.steps.
  const START = 0, END = 1, PERMS = 2, OFFSET = 3, NAME = 4, KIND = 5, FLAGS = 6, BORN = 7;
  const LABEL = 0, AGREES = 1, ADDED = 2, REMOVED = 3, MERGES = 4, SPLITS = 5, TEXT = 6, CASES = 7;

  function el(tag, attributes, text) {
    const node = document.createElementNS(SVG, tag);
    for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function sizeText(bytes) {
    const units = ["B", "KiB", "MiB", "GiB", "TiB"];
    let value = bytes, unit = 0;
    while (value >= 1024 && unit + 1 < units.length) { value /= 1024; unit += 1; }
    return `${Number.isInteger(value) ? value : value.toFixed(1)} ${units[unit]}`;
  }

  const hex = (value) => value.toString(16);
  const hex8 = (value) => hex(value).padStart(8, "0");
  // An address as the input speaks of it: a window page for an op script, else hexadecimal.
  const where = (address) => (data.window === null ? hex(address) : `page ${(address - data.window) / PAGE}`);
  // Row height: 13 pixels for a page (room for a line of text), 2 more for each doubling, at
  // most 48.
  const height = (bytes) => Math.min(48, 13 + 2 * Math.floor(Math.log2(Math.max(1, Math.floor(bytes / PAGE)))));
  const stepLabel = (step) => (step === 0 ? "the start" : `op ${step}: ${data.steps[step - 1][LABEL]}`);

  // The versions alive after each op (0: at the start), in address order.
  const alive = [];
  {
    const live = new Set(data.initial);
    const record = () => alive.push([...live].sort((a, b) => data.areas[a][START] - data.areas[b][START]));
    record();
    for (const step of data.steps) {
      for (const gone of step[REMOVED]) live.delete(gone);
      for (const added of step[ADDED]) live.add(added);
      record();
    }
  }
  const mapped = alive.map((live) => live.reduce((bytes, v) => bytes + data.areas[v][END] - data.areas[v][START], 0));

  function hover(area, differs) {
    const [start, end, perms, offset, name, kind, flags, born] = area;
    const lines = [`${hex8(start)}-${hex8(end)} ${perms} ${hex8(offset)} ${name}`, `${sizeText(end - start)} ${kind}`];
    if (data.window !== null) lines.push(`window pages ${(start - data.window) / PAGE} to ${(end - data.window) / PAGE}`);
    if (flags) lines.push(`VmFlags: ${flags}`);
    lines.push(born === 0 ? "there at the start" : `last changed by ${stepLabel(born)}`);
    if (differs) lines.push("not in Linux's final layout: the engine differs here");
    return lines.join("\n");
  }

  function shortName(name) {
    return name.startsWith("/") ? name.slice(name.lastIndexOf("/") + 1) : name;
  }

  function opacity(perms) {
    if (perms[1] === "w") return 0.9;
    return perms[0] === "r" ? 0.6 : 0.25;
  }

  // One area's row; returns its height.
  function row(map, y, area, marks) {
    const [start, end, perms, , name, kind] = area;
    const h = height(end - start);
    const classes = ["area", kind];
    if (perms[2] === "x") classes.push("exec");
    if (marks.added) classes.push("added");
    if (marks.differs) classes.push("differs");
    const rect = el("rect", {
      class: classes.join(" "), "data-start": hex(start), "data-end": hex(end),
      x: MAP.barX, y, width: MAP.barWidth, height: h - 1, fill: colours.get(kind), "fill-opacity": opacity(perms),
    });
    rect.append(el("title", {}, hover(area, marks.differs)));
    const baseline = y + Math.min(h, 14) - 3;
    const group = el("g", { class: "row" });
    group.append(
      rect,
      el("text", { class: "address", x: MAP.barX - 6, y: baseline }, where(start)),
      el("text", { class: "label", x: MAP.barX + MAP.barWidth + 8, y: baseline },
        `${perms} ${shortName(name)} ${sizeText(end - start)}${marks.differs ? ` [${area[FLAGS]}] differs from Linux` : ""}`),
    );
    map.append(group);
    return h;
  }

  // An area Linux has at the end and the engine does not: a dashed outline, not an .area.
  function ghost(map, y, area) {
    const [start, end, perms, offset, name, flags] = area;
    const low = start === null ? end - PAGE : start;
    const h = height(end - low);
    const rect = el("rect", { class: "linux-only", x: MAP.barX, y, width: MAP.barWidth, height: h - 1 });
    const shownStart = start === null ? "????????" : hex8(start);
    rect.append(el("title", {}, `Linux has ${shownStart}-${hex8(end)} ${perms} ${hex8(offset)} ${name}${flags ? `\nVmFlags: ${flags}` : ""}\nthe engine has no such area`));
    map.append(rect, el("text", { class: "label linux-only-label", x: MAP.barX + MAP.barWidth + 8, y: y + Math.min(h, 14) - 3 }, `Linux: ${perms} ${shortName(name)} ${sizeText(end - low)}${flags ? ` [${flags}]` : ""}`));
    return h;
  }

  function gap(map, y, bytes) {
    const middle = y + MAP.gap / 2;
    const group = el("g", { class: "gap" });
    group.append(
      el("line", { x1: MAP.barX, y1: middle, x2: MAP.barX + MAP.barWidth, y2: middle, "stroke-dasharray": "4 3" }),
      el("text", { x: MAP.barX + MAP.barWidth + 8, y: middle + 4 }, `${sizeText(bytes)} unmapped (compressed)`),
    );
    map.append(group);
  }

  // Two touching areas left apart: a dot on their boundary, the rule as its hover text.
  function joint(map, y, rule) {
    const dot = el("circle", { class: "joint", cx: MAP.barX + MAP.barWidth + 3, cy: y, r: 3 });
    dot.append(el("title", {}, `kept apart from the area above: ${rule}`));
    map.append(dot);
  }

  // The overview: the address space to scale along one line, except that a gap longer than
  // LONG_GAP is cut out and marked; each run of areas between such gaps gets a width in
  // proportion to its span (at least MIN_RUN pixels), and an area at least a pixel.
  const OVERVIEW = { width: 960, left: 10, right: 950, top: 6, bar: 22, breakWidth: 26, minRun: 60 };
  const LONG_GAP = 64 * 1024 * 1024;
  function drawOverview(step) {
    const overview = document.getElementById("overview");
    overview.replaceChildren();
    const areas = alive[step].map((version) => data.areas[version]);
    if (areas.length === 0) return;
    const runs = [];
    for (const area of areas) {
      const run = runs[runs.length - 1];
      if (run && area[START] - run.end <= LONG_GAP) {
        run.areas.push(area);
        run.end = Math.max(run.end, area[END]);
      } else {
        runs.push({ start: area[START], end: area[END], areas: [area] });
      }
    }
    const room = OVERVIEW.right - OVERVIEW.left - OVERVIEW.breakWidth * (runs.length - 1) - OVERVIEW.minRun * runs.length;
    const spans = runs.reduce((sum, run) => sum + (run.end - run.start), 0);
    let x = OVERVIEW.left;
    runs.forEach((run, index) => {
      if (index > 0) {
        const gapBytes = run.start - runs[index - 1].end;
        const mark = el("g", { class: "break" });
        mark.append(
          el("text", { x: x + OVERVIEW.breakWidth / 2, y: OVERVIEW.top + OVERVIEW.bar / 2 + 5, "text-anchor": "middle" }, "\u2248"),
          el("title", {}, `${sizeText(gapBytes)} unmapped (cut out)`),
        );
        overview.append(mark);
        x += OVERVIEW.breakWidth;
      }
      const width = OVERVIEW.minRun + Math.max(0, room) * ((run.end - run.start) / spans);
      const scale = width / (run.end - run.start);
      overview.append(el("rect", { class: "run", x, y: OVERVIEW.top, width, height: OVERVIEW.bar }));
      for (const area of run.areas) {
        const bar = el("rect", {
          class: `overview-area ${area[KIND]}`, x: x + (area[START] - run.start) * scale, y: OVERVIEW.top,
          width: Math.max(1, (area[END] - area[START]) * scale), height: OVERVIEW.bar,
          fill: colours.get(area[KIND]), "fill-opacity": opacity(area[PERMS]),
        });
        bar.append(el("title", {}, hover(area, false)));
        overview.append(bar);
      }
      // Labels alternate between two lines, so narrow runs side by side stay readable; the
      // last one ends at the right edge.
      const label = `${where(run.start)} (${sizeText(run.end - run.start)})`;
      const last = index === runs.length - 1 && index > 0;
      overview.append(el("text", {
        class: "run-label", x: last ? OVERVIEW.right : x, y: OVERVIEW.top + OVERVIEW.bar + 13 + 13 * (index % 2),
        "text-anchor": last ? "end" : "start",
      }, label));
      x += width;
    });
  }

  function drawMap(step) {
    const map = document.getElementById("map");
    map.replaceChildren();
    const added = new Set(step > 0 ? data.steps[step - 1][ADDED] : []);
    const differs = new Set(step === total ? data.differs : []);
    const rows = alive[step].map((version) => ({ version, start: data.areas[version][START], end: data.areas[version][END] }));
    if (step === total) {
      for (const area of data.linuxOnly) rows.push({ ghost: area, start: area[0] === null ? area[1] - PAGE : area[0], end: area[1] });
      rows.sort((a, b) => a.start - b.start);
    }
    let y = 10;
    let previous = null;
    for (const item of rows) {
      if (previous && item.start > previous.end) {
        gap(map, y, item.start - previous.end);
        y += MAP.gap;
      } else if (previous && item.start === previous.end && previous.version !== undefined && item.version !== undefined) {
        joint(map, y, rules.get(`${previous.version},${item.version}`) || "(no rule recorded)");
      }
      y += item.ghost
        ? ghost(map, y, item.ghost)
        : row(map, y, data.areas[item.version], { added: added.has(item.version), differs: differs.has(item.version) });
      previous = item;
    }
    map.setAttribute("height", y + 10);
    map.setAttribute("viewBox", `0 0 ${MAP.width} ${y + 10}`);
  }

  const chart = document.getElementById("chart");
  const xOf = (step) => CHART.left + (total === 0 ? 0 : ((CHART.right - CHART.left) * step) / total);

  function drawChart() {
    const most = Math.max(1, ...alive.map((live) => live.length));
    const largest = Math.max(1, ...mapped);
    const yOf = (value, max) => CHART.bottom - ((CHART.bottom - CHART.top) * value) / max;
    const line = (values, max, cls) => el("polyline", { class: cls, points: values.map((value, step) => `${xOf(step)},${yOf(value, max)}`).join(" ") });
    chart.append(
      el("rect", { class: "plot", x: CHART.left, y: CHART.top, width: CHART.right - CHART.left, height: CHART.bottom - CHART.top }),
      line(mapped, largest, "mapped"),
      line(alive.map((live) => live.length), most, "count"),
      el("text", { class: "axis count", x: CHART.left - 6, y: CHART.top + 10, "text-anchor": "end" }, String(most)),
      el("text", { class: "axis count", x: CHART.left - 6, y: CHART.bottom, "text-anchor": "end" }, "0"),
      el("text", { class: "axis mapped", x: CHART.right + 6, y: CHART.top + 10 }, sizeText(largest)),
      el("text", { class: "axis mapped", x: CHART.right + 6, y: CHART.bottom }, "0"),
      el("text", { class: "axis", x: CHART.left, y: CHART.height - 4 }, `op 0 (the start) to op ${total}; marks: merges above, splits below`),
    );
    data.steps.forEach((step, index) => {
      const x = xOf(index + 1);
      if (step[MERGES] > 0) chart.append(el("line", { class: "merge-mark", x1: x, x2: x, y1: CHART.bottom + 6, y2: CHART.bottom + 14 }));
      if (step[SPLITS] > 0) chart.append(el("line", { class: "split-mark", x1: x, x2: x, y1: CHART.bottom + 16, y2: CHART.bottom + 24 }));
      if (step[AGREES] === 0) chart.append(el("circle", { class: "differs-mark", cx: x, cy: CHART.top + 4, r: 3 }));
    });
    chart.append(el("line", { id: "cursor", x1: 0, x2: 0, y1: CHART.top, y2: CHART.bottom + 24 }));
    chart.addEventListener("click", (event) => {
      const box = chart.getBoundingClientRect();
      const x = ((event.clientX - box.left) * CHART.width) / box.width;
      show(Math.round(((x - CHART.left) / (CHART.right - CHART.left)) * total));
    });
  }

  // What an op did (explain's lines), then the cases of the merge story it counts.
  function opText(op) {
    const cases = op[CASES].map(([c, times]) => `  => ${data.cases[c]}${times > 1 ? ` (${times} times)` : ""}\n`);
    return (op[TEXT] || "(no area changed)\n") + cases.join("");
  }

  const slider = document.getElementById("step");
  function show(wanted) {
    const step = Math.max(0, Math.min(total, Number(wanted) || 0));
    slider.value = step;
    drawOverview(step);
    drawMap(step);
    const cursor = document.getElementById("cursor");
    cursor.setAttribute("x1", xOf(step));
    cursor.setAttribute("x2", xOf(step));
    const count = alive[step].length;
    document.getElementById("position").textContent =
      `op ${step} of ${total}: ${count} area${count === 1 ? "" : "s"}, ${sizeText(mapped[step])} mapped`;
    const label = document.getElementById("step-label");
    label.textContent = stepLabel(step);
    label.className = step > 0 && data.steps[step - 1][AGREES] === 0 ? "differs" : "";
    document.getElementById("step-text").textContent = step === 0 ? "The layout before the first op." : opText(data.steps[step - 1]);
  }

  slider.max = total;
  slider.addEventListener("input", () => show(slider.value));
  const moves = { first: () => 0, prev: () => Number(slider.value) - 1, next: () => Number(slider.value) + 1, last: () => total };
  for (const [id, to] of Object.entries(moves)) document.getElementById(id).addEventListener("click", () => show(to()));
  document.addEventListener("keydown", (event) => {
    if (event.target === slider) return;
    if (event.key === "ArrowLeft") show(Number(slider.value) - 1);
    if (event.key === "ArrowRight") show(Number(slider.value) + 1);
  });
  for (const link of document.querySelectorAll("[data-step]")) {
    link.addEventListener("click", (event) => {
      event.preventDefault();
      show(link.dataset.step);
      document.getElementById("controls").scrollIntoView({ block: "nearest" });
    });
  }
  drawChart();
  // The page opens at the last op, or at the op its address names (page.html#op=12).
  const named = /^#op=(\d+)$/.exec(window.location.hash);
  show(named ? Number(named[1]) : total);
  if (document.body.dataset.state !== "error") document.body.dataset.state = "drawn";
})();
