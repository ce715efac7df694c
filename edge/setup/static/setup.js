// The site set-up page: point pairs, zones and counting lines on plain SVG; the server fits,
// checks and saves (edge/setup/server.py). The site is kept as the YAML's own data.
"use strict";

const SVG = "http://www.w3.org/2000/svg";
const $ = (id) => document.getElementById(id);
const state = {
  data: null, camera: null, floor: null, mode: "pairs", pending: null, snapshot: null,
  fit: null, zoneDraft: [], lineDraft: [], plans: {}, calibration: null, playing: null,
};

async function api(path, body) {
  const options = body === undefined ? {} : {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
  };
  const response = await fetch(path, options);
  const answer = await response.json();
  if (!response.ok) throw new Error(answer.error || response.statusText);
  return answer;
}

function showError(error) {
  const box = $("error");
  box.hidden = !error;
  box.textContent = error ? String(error.message || error) : "";
}

function el(name, attrs, parent) {
  const node = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
  if (parent) parent.appendChild(node);
  return node;
}

const round = (v, step) => Math.round(v / step) * step;
const fixed = (v, digits) => Number(v.toFixed(digits));
const camera = () => state.data.cameras.find((c) => c.id === state.camera);
const floorOf = (id) => state.data.floors.find((f) => f.id === id);
const points = () => {
  const cam = camera();
  if (!cam) return [];
  cam.homography = cam.homography || { points: [] };
  cam.homography.points = cam.homography.points || [];
  return cam.homography.points;
};

function svgPoint(svg, event) {
  const p = svg.createSVGPoint();
  p.x = event.clientX;
  p.y = event.clientY;
  return p.matrixTransform(svg.getScreenCTM().inverse());
}

// ------------------------------------------------------------------ loading

async function load() {
  const site = await api("/api/site");
  state.data = site.data;
  $("site-file").textContent = "saves to " + site.file;
  for (const kind of site.zone_kinds) $("zone-kind").add(new Option(kind, kind));
  for (const cam of state.data.cameras) $("camera").add(new Option(cam.id, cam.id));
  for (const floor of state.data.floors) $("floor").add(new Option(floor.name || floor.id, floor.id));
  await Promise.all(state.data.floors.filter((f) => f.plan).map(loadPlan));
  if (state.data.cameras.length) await selectCamera(state.data.cameras[0].id);
  else selectFloor(state.data.floors[0].id);
  document.body.dataset.ready = "1";
}

function loadPlan(floor) {
  return new Promise((resolve) => {
    const image = new Image();
    image.onload = () => {
      state.plans[floor.id] = { url: image.src, width: image.naturalWidth, height: image.naturalHeight };
      resolve();
    };
    image.onerror = () => resolve();
    image.src = `/api/floors/${encodeURIComponent(floor.id)}/plan`;
  });
}

async function selectCamera(id) {
  state.camera = id;
  state.pending = null;
  $("camera").value = id;
  selectFloor(camera().floor, false);
  await snapshot();
}

function selectFloor(id, redraw = true) {
  state.floor = id;
  $("floor").value = id;
  state.zoneDraft = [];
  state.lineDraft = [];
  renderZoneLists();
  if (redraw) drawPlan();
}

async function snapshot() {
  const cam = camera();
  if (!cam) return;
  $("people").textContent = "reading…";
  try {
    state.snapshot = await api("/api/snapshot", {
      camera: cam.id, frame: Number($("frame").value) || 0, distortion: cam.distortion || null,
    });
    const n = state.snapshot.feet_px.length;
    $("people").textContent = `frame ${state.snapshot.frame}: ${n} ${n === 1 ? "person" : "people"}` +
      (state.snapshot.pixels ? "" : " (detection file, no pixels)");
    showError(null);
  } catch (error) {
    state.snapshot = null;
    $("people").textContent = "";
    showError(error);
  }
  drawImage();
  await refit();
}

async function refit() {
  const cam = camera();
  if (!cam) return;
  try {
    state.fit = await api("/api/fit", {
      camera: cam.id, points: points(),
      feet_px: state.snapshot ? state.snapshot.feet_px : [],
      max_error_m: (cam.homography && cam.homography.max_error_m) || null,
    });
  } catch (error) {
    state.fit = null;
    showError(error);
  }
  renderFit();
  renderPairs();
  drawImage();
  drawPlan();
}

// ------------------------------------------------------------------ drawing

function drawImage() {
  const svg = $("image");
  svg.replaceChildren();
  const cam = camera();
  const [w, h] = state.snapshot ? [state.snapshot.width, state.snapshot.height]
    : (cam ? cam.resolution : [640, 480]);
  svg.setAttribute("viewBox", `0 0 ${w} ${h}`);
  if (state.snapshot) el("image", { href: state.snapshot.image, x: 0, y: 0, width: w, height: h }, svg);
  const r = Math.max(w, h) / 120;
  if (state.snapshot) {
    for (const [u, v] of state.snapshot.feet_px) {
      el("circle", { cx: u, cy: v, r: r * 0.6, class: "foot", fill: "#ffd400", stroke: "#000",
        "stroke-width": 1, "vector-effect": "non-scaling-stroke" }, svg);
    }
  }
  points().forEach((p, i) => marker(svg, p.image, i + 1, r, "#e0218a"));
  if (state.pending && state.pending.image) marker(svg, state.pending.image, "?", r, "#00b3ff");
}

function marker(svg, [x, y], label, r, colour) {
  el("circle", { cx: x, cy: y, r, fill: colour, stroke: "#fff", "stroke-width": 1.5,
    "vector-effect": "non-scaling-stroke" }, svg);
  const text = el("text", { x: x + r * 1.2, y: y - r * 1.2, "font-size": r * 2.4, fill: colour,
    stroke: "#fff", "stroke-width": r * 0.25, "paint-order": "stroke", "font-weight": "bold" }, svg);
  text.textContent = label;
}

function drawPlan() {
  const svg = $("plan");
  svg.replaceChildren();
  const floor = floorOf(state.floor);
  if (!floor) return;
  const W = Number(floor.width_m), D = Number(floor.depth_m);
  const m = 0.03 * Math.max(W, D);
  svg.setAttribute("viewBox", `${-m} ${-m} ${W + 2 * m} ${D + 2 * m}`);
  const plan = state.plans[floor.id];
  if (plan && floor.plan) {
    const s = Number(floor.plan.pixels_per_metre), [ou, ov] = floor.plan.origin_px || [0, 0];
    el("image", { href: plan.url, x: -ou / s, y: -ov / s, width: plan.width / s,
      height: plan.height / s }, svg);
  }
  const thin = { "vector-effect": "non-scaling-stroke", fill: "none" };
  const step = Math.max(W, D) > 60 ? 10 : (Math.max(W, D) > 20 ? 5 : 1);
  for (let x = 0; x <= W; x += step) el("line", { x1: x, y1: 0, x2: x, y2: D, stroke: "#0001", ...thin }, svg);
  for (let y = 0; y <= D; y += step) el("line", { x1: 0, y1: y, x2: W, y2: y, stroke: "#0001", ...thin }, svg);
  el("rect", { x: 0, y: 0, width: W, height: D, stroke: "#333", "stroke-width": 1.5, ...thin }, svg);
  const r = Math.max(W, D) / 120;
  const onCamera = camera() && camera().floor === floor.id;
  if (onCamera && state.fit && state.fit.fov.length) {
    el("polygon", { points: state.fit.fov.map((p) => p.join(",")).join(" "), fill: "#2f6fdb22",
      stroke: "#2f6fdb", "stroke-width": 1.5, "vector-effect": "non-scaling-stroke", id: "fov" }, svg);
  }
  for (const zone of state.data.zones.filter((z) => z.floor === floor.id)) {
    el("polygon", { points: zone.polygon.map((p) => p.join(",")).join(" "), fill: "#1b7a3a22",
      stroke: "#1b7a3a", "stroke-width": 2, "vector-effect": "non-scaling-stroke", class: "zone" }, svg);
    const [cx, cy] = zone.polygon.reduce(([a, b], [x, y]) => [a + x / zone.polygon.length, b + y / zone.polygon.length], [0, 0]);
    const label = el("text", { x: cx, y: cy, "font-size": r * 2.2, fill: "#1b7a3a", "text-anchor": "middle" }, svg);
    label.textContent = zone.id;
  }
  for (const line of state.data.lines.filter((l) => l.floor === floor.id)) drawLine(svg, line, r);
  if (state.zoneDraft.length) {
    el("polyline", { points: state.zoneDraft.map((p) => p.join(",")).join(" "), stroke: "#1b7a3a",
      "stroke-dasharray": "4 3", "stroke-width": 2, ...thin }, svg);
    for (const p of state.zoneDraft) el("circle", { cx: p[0], cy: p[1], r: r * 0.5, fill: "#1b7a3a" }, svg);
  }
  for (const p of state.lineDraft) el("circle", { cx: p[0], cy: p[1], r: r * 0.5, fill: "#b3261e" }, svg);
  if (onCamera && state.fit) {
    for (const foot of state.fit.feet) {
      if (foot) el("circle", { cx: foot[0], cy: foot[1], r: r * 0.6, fill: "#ffd400", stroke: "#000",
        "stroke-width": 1, "vector-effect": "non-scaling-stroke", class: "foot" }, svg);
    }
  }
  if (onCamera) {
    points().forEach((p, i) => marker(svg, p.floor, i + 1, r, "#e0218a"));
    if (state.pending && state.pending.floor) marker(svg, state.pending.floor, "?", r, "#00b3ff");
  }
}

function drawLine(svg, line, r) {
  const [ax, ay] = line.a, [bx, by] = line.b;
  el("line", { x1: ax, y1: ay, x2: bx, y2: by, stroke: "#b3261e", "stroke-width": 3,
    "vector-effect": "non-scaling-stroke", class: "counting-line" }, svg);
  // an arrow from the middle towards the "in" side (right of a→b is (-dy, dx) with y down)
  const len = Math.hypot(bx - ax, by - ay) || 1;
  const sign = line.in_side === "right" ? 1 : -1;
  const nx = (-(by - ay) / len) * sign, ny = ((bx - ax) / len) * sign;
  const mx = (ax + bx) / 2, my = (ay + by) / 2;
  el("line", { x1: mx, y1: my, x2: mx + nx * r * 4, y2: my + ny * r * 4, stroke: "#b3261e",
    "stroke-width": 2, "vector-effect": "non-scaling-stroke" }, svg);
  const label = el("text", { x: mx + nx * r * 5, y: my + ny * r * 5, "font-size": r * 2, fill: "#b3261e" }, svg);
  label.textContent = `${line.id} (in)`;
}

// ------------------------------------------------------------------ tables

function renderFit() {
  const box = $("fit");
  const fit = state.fit;
  box.dataset.ok = "0";
  box.dataset.meanError = "";
  if (!fit) { box.textContent = ""; return; }
  if (fit.needed > 0) {
    box.textContent = `${fit.count} pairs: ${fit.needed} more needed to fit the homography.`;
    return;
  }
  if (fit.mean_error_m === null) {
    box.innerHTML = "";
    box.append(span("bad", fit.problem));
    return;
  }
  box.dataset.meanError = String(fit.mean_error_m);
  box.dataset.ok = fit.problem ? "0" : "1";
  box.replaceChildren(
    `${fit.count} pairs · mean reprojection error `,
    span(fit.problem ? "bad" : "good", `${fit.mean_error_m.toFixed(2)} m`),
    ` (limit ${fit.limit_m} m), worst ${Math.max(...fit.errors_m).toFixed(2)} m` +
      (fit.fov.length ? " · field of view drawn on the plan" : " · the view does not reach the floor"),
  );
  if (fit.problem) box.append(document.createElement("br"), span("bad", fit.problem));
}

function span(cls, text) {
  const s = document.createElement("span");
  s.className = cls;
  s.textContent = text;
  return s;
}

function renderPairs() {
  const body = $("pairs").tBodies[0];
  body.replaceChildren();
  const errors = state.fit ? state.fit.errors_m : [];
  points().forEach((p, i) => {
    const row = body.insertRow();
    row.insertCell().textContent = i + 1;
    row.insertCell().textContent = `${p.image[0]}, ${p.image[1]}`;
    for (const axis of [0, 1]) {
      const input = document.createElement("input");
      input.type = "number";
      input.step = "0.01";
      input.value = p.floor[axis];
      input.addEventListener("change", () => { p.floor[axis] = Number(input.value); refit(); });
      row.insertCell().appendChild(input);
    }
    const err = errors[i];
    row.insertCell().textContent = err === undefined ? "" : err.toFixed(3);
    const remove = document.createElement("button");
    remove.textContent = "remove";
    remove.addEventListener("click", () => { points().splice(i, 1); refit(); });
    row.insertCell().appendChild(remove);
  });
}

function renderZoneLists() {
  const zones = $("zones"), lines = $("lines"), zoneSelect = $("line-zone");
  zones.replaceChildren();
  lines.replaceChildren();
  zoneSelect.replaceChildren(new Option("(none)", ""));
  state.data.zones.forEach((z, i) => {
    zones.appendChild(listItem(`${z.id} (${z.kind}, ${z.floor}): ${z.polygon.length} corners`, () => {
      state.data.zones.splice(i, 1);
      renderZoneLists();
      drawPlan();
    }));
    if (z.floor === state.floor) zoneSelect.add(new Option(z.id, z.id));
  });
  state.data.lines.forEach((l, i) => {
    lines.appendChild(listItem(`${l.id} (${l.floor}): [${l.a}] → [${l.b}], in ${l.in_side}`, () => {
      state.data.lines.splice(i, 1);
      renderZoneLists();
      drawPlan();
    }));
  });
}

function listItem(text, onRemove) {
  const item = document.createElement("li");
  item.textContent = text + " ";
  const button = document.createElement("button");
  button.textContent = "remove";
  button.addEventListener("click", onRemove);
  item.appendChild(button);
  return item;
}

// ------------------------------------------------------------------ clicks

function imageClick(event) {
  if (state.mode !== "pairs" || !camera()) return;
  const p = svgPoint($("image"), event);
  const image = [fixed(round(p.x, 0.1), 1), fixed(round(p.y, 0.1), 1)];
  state.pending = { ...(state.pending || {}), image };
  completePair();
}

function planClick(event) {
  const p = svgPoint($("plan"), event);
  const floorPoint = [fixed(round(p.x, 0.01), 2), fixed(round(p.y, 0.01), 2)];
  if (state.mode === "pairs") {
    if (!camera() || camera().floor !== state.floor) {
      showError("Point pairs go on the camera's own floor: choose that floor.");
      return;
    }
    state.pending = { ...(state.pending || {}), floor: floorPoint };
    completePair();
  } else if (state.mode === "zone") {
    state.zoneDraft.push(floorPoint);
    drawPlan();
  } else if (state.mode === "line") {
    state.lineDraft.push(floorPoint);
    if (state.lineDraft.length === 2) finishLine();
    else drawPlan();
  }
}

function completePair() {
  if (state.pending.image && state.pending.floor) {
    points().push({ image: state.pending.image, floor: state.pending.floor });
    state.pending = null;
    refit();
  } else {
    drawImage();
    drawPlan();
  }
}

function finishZone() {
  const id = $("zone-id").value.trim();
  if (!id) { showError("Give the zone an id (a slug such as east-gate)."); return; }
  if (state.zoneDraft.length < 3) { showError("Click at least 3 corners of the zone on the floor plan."); return; }
  state.data.zones.push({ id, name: $("zone-name").value.trim() || id, floor: state.floor,
    kind: $("zone-kind").value, polygon: state.zoneDraft });
  state.zoneDraft = [];
  $("zone-id").value = "";
  $("zone-name").value = "";
  showError(null);
  renderZoneLists();
  drawPlan();
}

function finishLine() {
  const id = $("line-id").value.trim();
  const [a, b] = state.lineDraft;
  state.lineDraft = [];
  if (!id) { showError("Give the counting line an id first, then click a and b."); drawPlan(); return; }
  const line = { id, name: $("line-name").value.trim() || id, floor: state.floor, a, b,
    in_side: $("line-side").value };
  if ($("line-zone").value) line.zone = $("line-zone").value;
  state.data.lines.push(line);
  $("line-id").value = "";
  $("line-name").value = "";
  showError(null);
  renderZoneLists();
  drawPlan();
}

// ------------------------------------------------------------------ calibration, save

async function readCalibration() {
  const file = $("cal-file").files[0];
  if (!file) return;
  try {
    state.calibration = JSON.parse(await file.text());
  } catch (error) {
    showError(`${file.name} is not JSON (${error.message}).`);
    return;
  }
  $("cal-view").replaceChildren(...Object.keys(state.calibration).map((v) => new Option(v, v)));
}

async function importCalibration() {
  const cam = camera();
  if (!cam || !state.calibration) { showError("Choose a calibration JSON file first."); return; }
  try {
    const fields = await api("/api/calibration", {
      camera: cam.id, calibration: state.calibration, view: $("cal-view").value,
      unit_m: Number($("cal-unit").value), offset: [Number($("cal-ox").value), Number($("cal-oy").value)],
    });
    cam.homography = fields.homography;
    if (fields.distortion) cam.distortion = fields.distortion;
    else delete cam.distortion;
    showError(null);
    await snapshot();
  } catch (error) {
    showError(error);
  }
}

async function save() {
  const status = $("save-status");
  status.dataset.ok = "";
  status.textContent = "Saving…";
  try {
    const result = await api("/api/save", { data: state.data });
    status.dataset.ok = result.ok ? "1" : "0";
    status.replaceChildren();
    if (result.ok) {
      status.append(span("good", `Saved ${result.file}: `), result.summary);
    } else {
      const list = document.createElement("pre");
      list.textContent = result.problems.join("\n");
      status.append(span("bad", `Not saved: ${result.file} would not pass validate-config.`), list);
    }
  } catch (error) {
    status.dataset.ok = "0";
    status.textContent = String(error.message || error);
  }
}

function togglePlay() {
  if (state.playing) {
    clearInterval(state.playing);
    state.playing = null;
    $("play").textContent = "Play";
    return;
  }
  $("play").textContent = "Pause";
  const step = Math.max(1, Math.round(Number((camera() || {}).fps) || 1));
  state.playing = setInterval(() => {
    $("frame").value = (Number($("frame").value) || 0) + step;
    snapshot();
  }, 1500);
}

function hint() {
  $("hint").textContent = {
    pairs: "Point pairs: click the snapshot, then the same point here.",
    zone: "Zone: click its corners here, then Finish zone.",
    line: "Counting line: click a, then b.",
  }[state.mode];
}

window.addEventListener("DOMContentLoaded", () => {
  $("image").addEventListener("click", imageClick);
  $("plan").addEventListener("click", planClick);
  $("camera").addEventListener("change", () => selectCamera($("camera").value));
  $("floor").addEventListener("change", () => selectFloor($("floor").value));
  $("snap").addEventListener("click", snapshot);
  $("play").addEventListener("click", togglePlay);
  $("zone-finish").addEventListener("click", finishZone);
  $("zone-cancel").addEventListener("click", () => { state.zoneDraft = []; drawPlan(); });
  $("cal-file").addEventListener("change", readCalibration);
  $("cal-import").addEventListener("click", importCalibration);
  $("save").addEventListener("click", save);
  for (const radio of document.querySelectorAll("input[name=mode]")) {
    radio.addEventListener("change", () => {
      state.mode = radio.value;
      state.pending = null;
      hint();
      drawImage();
      drawPlan();
    });
  }
  hint();
  load().catch(showError);
});
