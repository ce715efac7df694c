// Heatmap: observations per floor cell over a time range, drawn to scale over the floor plan
// (plan image when the site has one), with the zones, counting lines and camera views.
import {
  api, apiObjectUrl, axis, chart, every, fontPx, layout, params, rangePicker, render, showProblem,
  zoneColor,
} from "./common.js";

const el = document.getElementById("heatmap");
const heat = chart(el);
const floorSelect = document.getElementById("floor");
const cellSelect = document.getElementById("cell");
for (const f of layout.floors) floorSelect.append(new Option(`${f.name} (${f.id})`, f.id));
if (params.get("floor")) floorSelect.value = params.get("floor");
const picker = rangePicker(document.getElementById("range"), () => update(), "today");
floorSelect.addEventListener("change", () => update());
cellSelect.addEventListener("change", () => update());
const plans = new Map();
let last = null;

const INFERNO = ["#1b0c41", "#4a0c6b", "#781c6d", "#a52c60", "#cf4446", "#ed6925", "#fb9b06", "#f7d13d", "#fcffa4"];

async function planImage(floor) {
  if (!floor.plan) return null;
  if (!plans.has(floor.id)) {
    const src = await apiObjectUrl(`floors/${floor.id}/plan`);
    const img = new Image();
    img.src = src;
    await img.decode();
    plans.set(floor.id, img);
  }
  return plans.get(floor.id);
}

function draw() {
  if (!last) return;
  const { floor, cell, cells, image, range } = last;
  const fs = fontPx();
  const W = el.clientWidth, H = el.clientHeight;
  const margin = { left: fs * 3.5, right: fs * 7, top: fs * 1, bottom: fs * 3.2 };
  const scale = Math.min((W - margin.left - margin.right) / floor.width_m, (H - margin.top - margin.bottom) / floor.depth_m);
  const gw = floor.width_m * scale, gh = floor.depth_m * scale;
  const left = margin.left + (W - margin.left - margin.right - gw) / 2;
  const values = cells.map((c) => c[2]).sort((a, b) => a - b);
  const top95 = values.length ? values[Math.floor(values.length * 0.95)] : 1;
  const zones = layout.zones.filter((z) => z.floor === floor.id);
  const lines = layout.lines.filter((l) => l.floor === floor.id);
  const cameras = layout.cameras.filter((c) => c.floor === floor.id);
  const series = [];
  if (image) {
    const s = floor.plan.pixels_per_metre, [ox, oy] = floor.plan.origin_px;
    series.push({
      type: "custom", silent: true, z: 0, data: [[0, 0]],
      renderItem: (p, a) => {
        const [x0, y0] = a.coord([-ox / s, -oy / s]);
        const [x1, y1] = a.coord([(image.naturalWidth - ox) / s, (image.naturalHeight - oy) / s]);
        return { type: "image", style: { image, x: x0, y: y0, width: x1 - x0, height: y1 - y0, opacity: 0.8 } };
      },
    });
  }
  series.push({
    name: "observations", type: "custom", z: 2, data: cells.map((c) => [c[0] * cell, c[1] * cell, c[2]]),
    encode: { x: 0, y: 1, tooltip: 2 },
    renderItem: (p, a) => {
      const x = a.value(0), y = a.value(1);
      const [x0, y0] = a.coord([x, y]);
      const [x1, y1] = a.coord([x + cell, y + cell]);
      return { type: "rect", shape: { x: x0, y: y0, width: x1 - x0, height: y1 - y0 }, style: { fill: a.visual("color") } };
    },
  });
  series.push({
    name: "cameras", type: "custom", silent: true, z: 3, data: cameras.map((c, i) => [i]),
    renderItem: (p, a) => {
      const c = cameras[a.value(0)];
      const [x0, y0] = a.coord([c.area[0], c.area[1]]);
      const [x1, y1] = a.coord([c.area[2], c.area[3]]);
      return {
        type: "group", children: [
          { type: "rect", shape: { x: x0, y: y0, width: x1 - x0, height: y1 - y0 }, style: { fill: "rgba(255,255,255,0.03)", stroke: "#5b6b7a", lineWidth: 1, lineDash: [4, 4] } },
          { type: "text", x: x1, y: y1 + 3, style: { text: `camera: ${c.name}`, fill: "#8b9aa8", fontSize: fs * 0.75, align: "right" } },
        ],
      };
    },
  });
  series.push({
    name: "zones", type: "custom", z: 3, data: zones.map((z, i) => [i]),
    renderItem: (p, a) => {
      const z = zones[a.value(0)];
      const points = z.polygon.map((pt) => a.coord(pt));
      const xs = points.map((q) => q[0]), ys = points.map((q) => q[1]);
      return {
        type: "group", children: [
          { type: "polygon", shape: { points }, style: { fill: "none", stroke: zoneColor(z.id), lineWidth: 2 } },
          { type: "text", x: Math.min(...xs) + 3, y: Math.min(...ys) + 2, style: { text: z.name.replace(/ \(.*\)$/, ""), fill: zoneColor(z.id), fontSize: fs * 0.8, fontWeight: "bold", textShadowColor: "#000", textShadowBlur: 3 } },
        ],
      };
    },
  });
  series.push({
    name: "counting lines", type: "custom", z: 4, silent: true, data: lines.map((l, i) => [i]),
    renderItem: (p, a) => {
      const l = lines[a.value(0)];
      const [x0, y0] = a.coord(l.a), [x1, y1] = a.coord(l.b);
      return { type: "line", shape: { x1: x0, y1: y0, x2: x1, y2: y1 }, style: { stroke: "#ffffff", lineWidth: 3, lineDash: [8, 4] } };
    },
  });
  render(
    heat,
    {
      tooltip: {
        formatter: (p) => p.seriesName === "observations"
          ? `${p.value[0]}–${p.value[0] + cell} m × ${p.value[1]}–${p.value[1] + cell} m<br>${p.value[2].toLocaleString("en-GB")} observations`
          : p.name,
      },
      grid: { left, top: margin.top, width: gw, height: gh, show: true, borderColor: "#3a4856", backgroundColor: "#10171e" },
      xAxis: { type: "value", min: 0, max: floor.width_m, name: "x (m)", nameLocation: "middle", nameGap: fs * 1.6, ...axis({ splitLine: { show: false } }) },
      yAxis: { type: "value", min: 0, max: floor.depth_m, inverse: true, name: "y (m)", nameLocation: "middle", nameGap: fs * 2.2, ...axis({ splitLine: { show: false } }) },
      visualMap: {
        type: "continuous", seriesIndex: image ? 1 : 0, dimension: 2, min: 0, max: Math.max(1, top95),
        inRange: { color: INFERNO }, calculable: true, right: 0, top: "middle", itemHeight: gh * 0.6,
        text: ["more", "fewer"], textStyle: { color: "#c3ccd5", fontSize: fs * 0.8 },
      },
      series,
    },
    cells.length,
  );
  const total = values.reduce((s, v) => s + v, 0);
  document.getElementById("summary").textContent =
    `${total.toLocaleString("en-GB")} observations in ${cells.length} cells of ${cell} m, ${range.label}`;
}

async function update() {
  try {
    const floor = layout.floors.find((f) => f.id === floorSelect.value) ?? layout.floors[0];
    const cell = Number(cellSelect.value);
    const range = picker.current();
    const body = await api("heatmap", { from: range.from, to: range.to, bucket: "1d", floor: floor.id, cell_m: cell });
    const sums = new Map();
    for (const cells of Object.values(body.buckets)) {
      for (const [x, y, n] of cells) sums.set(`${x},${y}`, (sums.get(`${x},${y}`) ?? 0) + n);
    }
    const cells = [...sums].map(([k, n]) => [...k.split(",").map(Number), n]);
    last = { floor, cell, cells, image: await planImage(floor), range };
    draw();
  } catch (err) {
    showProblem(`Could not load the heatmap: ${err.message}`);
    throw err;
  }
}

window.addEventListener("resize", draw);
every(update);
