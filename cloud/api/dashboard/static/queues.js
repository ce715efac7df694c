// Queues and groups: queue length and waits per queue zone (live and per interval), entries as
// people and as groups, and the site occupancy balanced against drift (staff left out).
import {
  api, axis, chart, clock, duration, escapeHtml, every, fontPx, legend, rangePicker, render, zoneColor, zoneName,
} from "./common.js";

const lengthChart = chart(document.getElementById("queue-length"));
const waitChart = chart(document.getElementById("queue-wait"));
const groupChart = chart(document.getElementById("group-entries"));
const occupancyChart = chart(document.getElementById("site-occupancy"));
const picker = rangePicker(document.getElementById("range"), () => update(), "today");

const grid = () => ({ left: "2%", right: "4%", bottom: "3%", top: fontPx(2.6), containLabel: true });
const name = (id) => zoneName(id).replace(/ \(.*\)$/, "");

async function update() {
  const range = picker.current();
  const query = { from: range.from, to: range.to };
  const [queues, groups, staff, occupancy] = await Promise.all([
    api("queues", query), api("groups", query), api("staff", query), api("occupancy/site"),
  ]);
  document.querySelector("#queue-live tbody").innerHTML = queues.live
    .map((q) => `<tr><td><span style="color:${zoneColor(q.zone_id)}">■</span> ${escapeHtml(zoneName(q.zone_id))}</td>` +
      `<td class="num">${q.length}</td><td class="num">${duration(q.longest_wait_now_s)}</td>` +
      `<td class="num">${q.last_15m.waits}</td><td class="num">${q.last_15m.mean_s == null ? "–" : duration(q.last_15m.mean_s)}</td>` +
      `<td class="num">${q.last_15m.p90_s == null ? "–" : duration(q.last_15m.p90_s)}</td></tr>`)
    .join("");
  const buckets = [...new Set(queues.rows.map((r) => r.bucket))];
  const labels = buckets.map((b) => clock(new Date(b), false));
  const perZone = (field) => queues.zones.map((z) => ({
    name: name(z),
    type: "line",
    showSymbol: false,
    itemStyle: { color: zoneColor(z) },
    data: buckets.map((b) => queues.rows.find((r) => r.zone_id === z && r.bucket === b)?.[field] ?? null),
  }));
  render(lengthChart, {
    tooltip: { trigger: "axis" },
    legend: legend(),
    grid: grid(),
    xAxis: { type: "category", data: labels, ...axis() },
    yAxis: { type: "value", name: "people", minInterval: 1, ...axis() },
    series: perZone("length"),
  }, queues.rows.length);
  const waits = queues.zones.flatMap((z) => [
    { ...perZone("mean_s").find((s) => s.name === name(z)), name: `${name(z)} mean`, type: "bar", barMaxWidth: 24 },
    { ...perZone("p90_s").find((s) => s.name === name(z)), name: `${name(z)} p90`, lineStyle: { type: "dashed" } },
  ]);
  render(waitChart, {
    tooltip: { trigger: "axis", valueFormatter: (v) => (v == null ? "–" : duration(v)) },
    legend: legend(),
    grid: grid(),
    xAxis: { type: "category", data: labels, ...axis() },
    yAxis: { type: "value", name: "seconds", ...axis() },
    series: waits,
  }, queues.rows.filter((r) => r.waits > 0).length || queues.rows.length);
  render(groupChart, {
    tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
    legend: legend(),
    grid: grid(),
    xAxis: { type: "category", data: groups.rows.map((r) => clock(new Date(r.bucket), false)), ...axis() },
    yAxis: { type: "value", name: "entries", minInterval: 1, ...axis() },
    series: [
      { name: "people", type: "bar", data: groups.rows.map((r) => r.entries_people), itemStyle: { color: "#4fc3f7" } },
      { name: "parties", type: "bar", data: groups.rows.map((r) => r.entries_parties), itemStyle: { color: "#ffb74d" } },
      { name: "groups of 2+", type: "line", data: groups.rows.map((r) => r.groups), itemStyle: { color: "#81c784" } },
    ],
  }, groups.rows.length);
  const minutes = occupancy.minutes;
  render(occupancyChart, {
    tooltip: { trigger: "axis" },
    legend: legend(),
    grid: grid(),
    xAxis: { type: "category", data: minutes.map((m) => clock(new Date(m.minute), false)), ...axis() },
    yAxis: { type: "value", name: "people", ...axis() },
    series: [
      { name: "entries − exits", type: "line", showSymbol: false, data: minutes.map((m) => m.raw), lineStyle: { type: "dashed" }, itemStyle: { color: "#90a4ae" } },
      { name: "balanced", type: "line", showSymbol: false, data: minutes.map((m) => m.balanced), itemStyle: { color: "#4fc3f7" } },
      { name: "seen by cameras", type: "line", showSymbol: false, data: minutes.map((m) => m.seen), itemStyle: { color: "#81c784" } },
    ],
  }, minutes.length);
  const entries = groups.rows.reduce((s, r) => s + r.entries_people, 0);
  const parties = groups.rows.reduce((s, r) => s + r.entries_parties, 0);
  document.getElementById("summary").textContent =
    `${range.label}: ${entries.toLocaleString("en-GB")} people entered in ${parties.toLocaleString("en-GB")} parties; ` +
    `${staff.unique_visitors_staff_excluded.toLocaleString("en-GB")} visitors without staff ` +
    `(${staff.unique_visitors_with_staff.toLocaleString("en-GB")} with ${staff.staff_chains} staff)` +
    (occupancy.residual == null ? "" : `; the day's drift at closing: ${occupancy.residual}`);
}

every(update);
