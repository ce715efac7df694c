// Camera health: latest heartbeat per camera, and frame rate and latency over time.
import {
  PALETTE, api, axis, cameraName, chart, clock, escapeHtml, every, fontPx, layout, legend, rangePicker,
  render, tz,
} from "./common.js";

const fps = chart(document.getElementById("camera-fps"));
const latency = chart(document.getElementById("camera-latency"));
const picker = rangePicker(document.getElementById("range"), () => update(), "3h");
const color = (id) => PALETTE[Math.max(0, layout.cameras.findIndex((c) => c.id === id)) % PALETTE.length];

function timeLabel(v) {
  const at = new Date(v);
  const hm = clock(at, false);
  if (hm !== "00:00") return hm;
  const day = at.toLocaleDateString("en-GB", { timeZone: tz, weekday: "short", day: "numeric", month: "short" });
  return `${hm}\n${day}`;
}

function ago(iso) {
  const s = Math.max(0, (Date.now() - new Date(iso)) / 1000);
  return s < 90 ? `${Math.round(s)} s ago` : s < 5400 ? `${Math.round(s / 60)} min ago` : `${Math.round(s / 3600)} h ago`;
}

function table(cameras) {
  document.querySelector("#camera-table tbody").innerHTML = cameras
    .map((c) => {
      // The API decides staleness ("silent": no heartbeat for three intervals), once for all.
      const status = c.status;
      const title = status === "silent" ? c.detail : "";
      return `<tr data-camera="${escapeHtml(c.camera_id)}" data-status="${status}">` +
        `<td><span style="color:${color(c.camera_id)}">■</span> ${escapeHtml(cameraName(c.camera_id))} <span class="hint">${escapeHtml(c.camera_id)}</span></td>` +
        `<td><span class="badge ${escapeHtml(status)}" title="${escapeHtml(title ?? "")}">${escapeHtml(status)}</span></td>` +
        `<td class="num">${c.fps != null ? `${c.fps.toFixed(1)} / ${c.target_fps.toFixed(1)}` : "–"}</td>` +
        `<td class="num">${c.latency_ms != null ? `${Math.round(c.latency_ms)} ms` : "–"}</td>` +
        `<td class="num">${c.dropped_frames ?? "–"}</td>` +
        `<td class="num">${c.sent_at ? `${clock(new Date(c.sent_at))} (${ago(c.sent_at)})` : "never"}</td>` +
        `<td>${escapeHtml(c.detail ?? "")}</td></tr>`;
    })
    .join("");
}

async function update() {
  const range = picker.current();
  const [now, history] = await Promise.all([
    api("cameras"),
    api("cameras/history", { from: range.from, to: range.to, bucket: "5m" }),
  ]);
  table(now.cameras);
  const byCamera = new Map();
  for (const r of history.rows) {
    if (!byCamera.has(r.camera_id)) byCamera.set(r.camera_id, []);
    byCamera.get(r.camera_id).push(r);
  }
  // The range asked for (from its first 5-minute bucket), whatever data it has: without min and
  // max an empty or one-point chart spanned two days of the browser's own time zone. Labels
  // are site time; the one at the site's midnight names the new day.
  const timeAxis = {
    type: "time",
    min: Math.floor(range.start / 300e3) * 300e3,
    max: range.end,
    ...axis({ axisLabel: { ...axis().axisLabel, hideOverlap: true, formatter: timeLabel } }),
  };
  const grid = { left: "2%", right: "3%", bottom: "3%", top: fontPx(3.2), containLabel: true };
  const fpsSeries = [];
  const latencySeries = [];
  for (const [id, rows] of byCamera) {
    const name = id; // short ids in legends; the table pairs them with names and colours
    fpsSeries.push(
      { name, type: "line", showSymbol: false, itemStyle: { color: color(id) }, lineStyle: { width: 2 }, data: rows.map((r) => [r.bucket, Math.round(r.fps * 10) / 10]) },
      { name, type: "line", showSymbol: false, itemStyle: { color: color(id) }, lineStyle: { width: 1, type: "dashed", opacity: 0.7 }, data: rows.map((r) => [r.bucket, r.target_fps]), tooltip: { show: false } },
    );
    latencySeries.push(
      { name, type: "line", showSymbol: false, itemStyle: { color: color(id) }, lineStyle: { width: 2 }, data: rows.map((r) => [r.bucket, r.latency_ms == null ? null : Math.round(r.latency_ms)]) },
      { name, type: "bar", yAxisIndex: 1, barMaxWidth: 8, itemStyle: { color: color(id), opacity: 0.5 }, data: rows.map((r) => [r.bucket, r.degraded + r.offline + (r.errors ?? 0)]), tooltip: { show: false } },
    );
  }
  const names = [...byCamera.keys()];
  render(
    fps,
    { tooltip: { trigger: "axis" }, legend: legend({ data: names }), grid, xAxis: timeAxis, yAxis: { type: "value", name: "frames/s", ...axis() }, series: fpsSeries },
    history.rows.length,
  );
  render(
    latency,
    {
      tooltip: { trigger: "axis" },
      legend: legend({ data: names }),
      grid,
      xAxis: timeAxis,
      yAxis: [
        { type: "value", name: "ms", ...axis() },
        { type: "value", name: "not ok", minInterval: 1, ...axis({ splitLine: { show: false } }) },
      ],
      series: latencySeries,
    },
    history.rows.length,
  );
  const bad = now.cameras.filter((c) => c.status !== "ok").length;
  document.getElementById("summary").textContent =
    `${now.cameras.length} cameras, ${bad ? `${bad} not ok` : "all ok"}; heartbeats ${range.label}, per 5 minutes`;
}

every(update, 30);
