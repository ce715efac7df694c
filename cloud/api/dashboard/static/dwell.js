// Dwell time: distribution per zone (box plot and histogram) and a table of the figures.
import {
  api, axis, chart, duration, escapeHtml, every, fontPx, legend, rangePicker, render, zoneColor, zoneName,
} from "./common.js";

const box = chart(document.getElementById("dwell-box"));
const hist = chart(document.getElementById("dwell-histogram"));
const picker = rangePicker(document.getElementById("range"), () => update(), "today");

function band(edges, i) {
  const f = (s) => (s < 60 ? `${s} s` : s < 3600 ? `${s / 60} min` : `${s / 3600} h`);
  if (i === 0) return `< ${f(edges[0])}`;
  if (i === edges.length) return `≥ ${f(edges[edges.length - 1])}`;
  return `${f(edges[i - 1])}–${f(edges[i])}`;
}

async function update() {
  const range = picker.current();
  const query = { from: range.from, to: range.to };
  const [dist, stats] = await Promise.all([api("dwell/distribution", query), api("dwell", query)]);
  const zones = [...dist.zones].sort((a, b) => b.quantiles_s.p50 - a.quantiles_s.p50);
  // Seconds while the longest whisker is under 3 minutes, minutes beyond.
  const inMinutes = Math.max(0, ...zones.map((z) => z.quantiles_s.p95)) >= 180;
  const unit = (s) => (inMinutes ? Math.round((s / 60) * 10) / 10 : Math.round(s * 10) / 10);
  render(
    box,
    {
      tooltip: {
        trigger: "item",
        formatter: (p) => {
          const q = zones[p.dataIndex].quantiles_s;
          return `<b>${escapeHtml(p.name)}</b><br>${zones[p.dataIndex].visits} visits<br>` +
            `5 %: ${duration(q.p05)}<br>25 %: ${duration(q.p25)}<br>median: ${duration(q.p50)}<br>` +
            `75 %: ${duration(q.p75)}<br>95 %: ${duration(q.p95)}`;
        },
      },
      grid: { left: "2%", right: "4%", top: "3%", bottom: fontPx(2.2), containLabel: true },
      xAxis: { type: "value", name: inMinutes ? "minutes" : "seconds", nameLocation: "middle", nameGap: fontPx(1.8), ...axis() },
      yAxis: { type: "category", data: zones.map((z) => zoneName(z.zone_id).replace(/ \(.*\)$/, "")), inverse: true, ...axis() },
      series: [
        {
          type: "boxplot",
          data: zones.map((z) => {
            const q = z.quantiles_s;
            return { value: [q.p05, q.p25, q.p50, q.p75, q.p95].map(unit), itemStyle: { color: `${zoneColor(z.zone_id)}55`, borderColor: zoneColor(z.zone_id), borderWidth: 2 } };
          }),
          boxWidth: ["40%", "70%"],
        },
      ],
    },
    zones.length * 5,
  );
  // Bands up to the longest one that has visits (and one more), not the empty long tail.
  let used = 0;
  for (const z of dist.zones) z.histogram.forEach((n, i) => { if (n > 0) used = Math.max(used, i); });
  const shown = Math.min(used + 2, dist.edges_s.length + 1);
  const bands = Array.from({ length: shown }, (_, i) => band(dist.edges_s, i));
  render(
    hist,
    {
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      legend: legend({ orient: "vertical", right: 0, top: "middle" }),
      grid: { left: "2%", right: "30%", bottom: "3%", top: fontPx(2), containLabel: true },
      xAxis: { type: "category", data: bands, name: "dwell", ...axis({ axisLabel: { ...axis().axisLabel, interval: 0, rotate: 30 } }) },
      yAxis: { type: "value", name: "visits", minInterval: 1, ...axis() },
      series: dist.zones.map((z) => ({
        name: zoneName(z.zone_id).replace(/ \(.*\)$/, ""),
        type: "bar",
        stack: "visits",
        itemStyle: { color: zoneColor(z.zone_id) },
        data: z.histogram.slice(0, shown),
      })),
    },
    dist.zones.reduce((s, z) => s + z.histogram.filter((n) => n > 0).length, 0),
  );
  const rows = [...stats.rows].sort((a, b) => b.visits - a.visits);
  document.querySelector("#dwell-table tbody").innerHTML = rows
    .map((r) => `<tr><td><span style="color:${zoneColor(r.zone_id)}">■</span> ${escapeHtml(zoneName(r.zone_id))}</td>` +
      `<td class="num">${r.visits}</td><td class="num">${duration(r.mean_s)}</td>` +
      `<td class="num">${duration(r.median_s)}</td><td class="num">${duration(r.p90_s)}</td></tr>`)
    .join("");
  const visits = rows.reduce((s, r) => s + r.visits, 0);
  document.getElementById("summary").textContent = `${visits.toLocaleString("en-GB")} zone visits of at least 5 s, ${range.label}`;
}

every(update);
