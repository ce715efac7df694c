// Overview: entries today against the same weekday last week, live occupancy, recent occupancy.
import {
  api, axis, chart, clock, every, fontPx, layout, legend, localIso, params, render, showProblem, stream,
  zoneColor, zoneName,
} from "./common.js";

// ?day=YYYY-MM-DD (a past day, site-local): the day as it ended instead of today, live.
const today = localIso(new Date()).slice(0, 10);
const asked = params.get("day");
const pastDay = asked && /^\d{4}-\d{2}-\d{2}$/.test(asked) && asked < today ? asked : null;
const dayEnd = pastDay ? `${pastDay}T23:59:59` : null;
const dayName = pastDay
  ? new Date(`${pastDay}T12:00:00Z`).toLocaleDateString("en-GB", { weekday: "short", day: "numeric", month: "short", year: "numeric", timeZone: "UTC" })
  : "Today";
const dayInput = document.getElementById("day");
dayInput.max = today;
dayInput.value = pastDay || today;
dayInput.addEventListener("change", () => {
  const q = new URLSearchParams(location.search);
  if (!dayInput.value || dayInput.value >= today) q.delete("day");
  else q.set("day", dayInput.value);
  location.search = q.toString();
});
if (pastDay) {
  const text = (id, value) => { document.getElementById(id).textContent = value; };
  text("day-hint", `${dayName} as it ended (23:59); clear the day or pick today for live figures`);
  text("kpi-entries-label", `Entries on ${dayName}`);
  text("kpi-exits-label", `Exits on ${dayName}`);
  text("kpi-now-label", "In the zones at 23:59");
  text("kpi-busiest-label", "Busiest zone at 23:59");
  text("hourly-title", `Entries per hour: ${dayName} against the same weekday the week before`);
  text("occupancy-now-title", "Occupancy per zone at 23:59");
  text("occupancy-trend-title", `Occupancy on ${dayName} (mean per 15 minutes; zone colours as above)`);
}

const hourly = chart(document.getElementById("hourly"));
const now = chart(document.getElementById("occupancy-now"));
const trend = chart(document.getElementById("occupancy-trend"));
const fmt = new Intl.NumberFormat("en-GB");

function drawFootfall(o) {
  document.getElementById("kpi-entries").textContent = fmt.format(o.entries);
  document.getElementById("kpi-exits").textContent = fmt.format(o.exits);
  document.getElementById("kpi-compare").textContent = fmt.format(o.compare_entries_same_time);
  const day = new Date(`${o.compare_day}T12:00:00Z`).toLocaleDateString("en-GB", {
    weekday: "long", day: "numeric", month: "short",
  });
  document.getElementById("kpi-compare-sub").textContent =
    `${day}; whole day ${fmt.format(o.compare_entries_whole_day)}`;
  const sub = document.getElementById("kpi-entries-sub");
  if (o.change === null) {
    sub.textContent = "no entries at this time last week";
    sub.className = "sub";
  } else {
    const pct = Math.round(o.change * 100);
    sub.textContent = `${pct >= 0 ? "▲ +" : "▼ "}${pct} % on last week`;
    sub.className = `sub ${pct >= 0 ? "up" : "down"}`;
  }
  const hourNow = Number(o.at.slice(11, 13));
  const hours = o.hourly.map((h) => `${String(h.hour).padStart(2, "0")}:00`);
  render(
    hourly,
    {
      tooltip: { trigger: "axis" },
      legend: legend({ data: [dayName, "Same weekday last week"] }),
      grid: { left: "3%", right: "3%", bottom: "3%", top: fontPx(3), containLabel: true },
      xAxis: { type: "category", data: hours, ...axis() },
      yAxis: { type: "value", name: "entries", minInterval: 1, ...axis() },
      series: [
        {
          name: dayName,
          type: "bar",
          data: o.hourly.map((h) => (h.hour <= hourNow ? h.entries : null)),
          itemStyle: { color: "#4fc3f7" },
          barMaxWidth: "70%",
        },
        {
          name: "Same weekday last week",
          type: "line",
          data: o.hourly.map((h) => h.compare_entries),
          itemStyle: { color: "#ffb74d" },
          lineStyle: { width: 3, type: "dashed" },
          symbolSize: fontPx(0.5),
        },
      ],
    },
    o.hourly.length * 2,
  );
}

function drawNow(payload) {
  const zones = layout.zones.map((z) => ({ id: z.id, n: payload.zones[z.id] ?? 0 }));
  const total = zones.reduce((s, z) => s + z.n, 0);
  const kpi = document.getElementById("kpi-now");
  kpi.textContent = fmt.format(total);
  kpi.dataset.live = String(Number(kpi.dataset.live) + 1);
  document.getElementById("kpi-now-sub").textContent = pastDay
    ? `at ${clock(new Date(payload.at))} on ${dayName}`
    : `live at ${clock(new Date(payload.at))}`;
  const busiest = [...zones].sort((a, b) => b.n - a.n)[0];
  document.getElementById("kpi-busiest").textContent = busiest && busiest.n ? zoneName(busiest.id) : "–";
  document.getElementById("kpi-busiest-sub").textContent = busiest && busiest.n ? `${busiest.n} ${busiest.n === 1 ? "person" : "people"}` : "nobody in any zone";
  const el = now.getDom();
  for (const z of zones) el.dataset[`zone_${z.id.replaceAll("-", "_")}`] = String(z.n);
  const ordered = [...zones].reverse();
  render(
    now,
    {
      animationDurationUpdate: 600,
      grid: { left: "2%", right: "8%", top: "2%", bottom: "2%", containLabel: true },
      xAxis: { type: "value", minInterval: 1, ...axis() },
      yAxis: { type: "category", data: ordered.map((z) => zoneName(z.id)), ...axis() },
      series: [
        {
          type: "bar",
          data: ordered.map((z) => ({ value: z.n, itemStyle: { color: zoneColor(z.id) } })),
          label: { show: true, position: "right", fontSize: fontPx(0.9), color: "#e8edf2" },
          barMaxWidth: "70%",
        },
      ],
    },
    zones.length,
  );
}

async function drawTrend() {
  const end = new Date();
  const start = new Date(end - 3 * 3600e3);
  const body = await api(
    "occupancy",
    pastDay
      ? { from: `${pastDay}T00:00:00`, to: dayEnd, bucket: "15m" }
      : { from: localIso(start), to: localIso(end), bucket: "5m" },
  );
  const buckets = [...new Set(body.rows.map((r) => r.bucket))].sort();
  const byZone = new Map();
  for (const r of body.rows) {
    if (!byZone.has(r.zone_id)) byZone.set(r.zone_id, new Map());
    byZone.get(r.zone_id).set(r.bucket, r.mean);
  }
  const series = [...byZone.keys()].map((id) => ({
    name: zoneName(id),
    type: "line",
    stack: "people",
    areaStyle: { opacity: 0.55 },
    showSymbol: buckets.length < 3, // a line needs two points: show the first ones as dots
    itemStyle: { color: zoneColor(id) },
    lineStyle: { width: 1 },
    data: buckets.map((b) => [b, Math.round((byZone.get(id).get(b) ?? 0) * 10) / 10]),
  }));
  render(
    trend,
    {
      tooltip: { trigger: "axis" },
      grid: { left: "2%", right: "3%", bottom: "2%", top: fontPx(2), containLabel: true },
      // The whole three hours, also while the site has only its first minutes of data.
      xAxis: { type: "time", min: pastDay ? undefined : start.getTime(), max: pastDay ? undefined : end.getTime(), ...axis({ axisLabel: { ...axis().axisLabel, formatter: (v) => clock(new Date(v), false) } }) },
      yAxis: { type: "value", name: "people", ...axis() },
      series,
    },
    body.rows.length,
  );
}

every(async () => {
  drawFootfall(await api("overview", pastDay ? { at: dayEnd } : {}));
  await drawTrend();
});
api("occupancy/now", pastDay ? { at: dayEnd } : {})
  .then(drawNow)
  .catch((err) => showProblem(`Could not load occupancy: ${err.message}`));
if (!pastDay) {
  stream("occupancy/stream", { interval_s: Number(new URLSearchParams(location.search).get("live") || 2) }, drawNow);
}
