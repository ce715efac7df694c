// Comparisons: every KPI over the chosen range against last week and last year.
import { api, axis, chart, escapeHtml, every, fontPx, legend, rangePicker, render } from "./common.js";

const plot = chart(document.getElementById("compare-chart"));
const picker = rangePicker(document.getElementById("range"), () => update(), "today");

// A figure the kept rows cannot answer (older than the raw retention) is null with the reason.
const cell = (kpi, v, why) =>
  why ? `<td class="num" title="${escapeHtml(why)}">n/a</td>` : `<td class="num">${show(kpi, v)}</td>`;

function show(kpi, v) {
  if (v == null) return "–";
  if (kpi === "conversion") return `${(v * 100).toFixed(1)} %`;
  if (kpi === "dwell_mean_s") return `${Math.round(v)} s`;
  return Math.round(v).toLocaleString("en-GB");
}
const change = (c) => (c == null ? "–" : `<span class="${c >= 0 ? "up" : "down"}">${c >= 0 ? "+" : ""}${(c * 100).toFixed(1)} %</span>`);

async function update() {
  const range = picker.current();
  const body = await api("compare", { from: range.from, to: range.to });
  const k = body.kpis;
  document.querySelector("#compare-table tbody").innerHTML = k
    .map((r) => `<tr data-kpi="${r.kpi}"><td>${escapeHtml(r.label)}</td>${cell(r.kpi, r.value, r.unavailable)}` +
      `${cell(r.kpi, r.last_week.value, r.last_week.unavailable)}<td class="num">${change(r.last_week.change)}</td>` +
      `${cell(r.kpi, r.last_year.value, r.last_year.unavailable)}<td class="num">${change(r.last_year.change)}</td></tr>`)
    .join("");
  const pct = (c) => (c == null ? 0 : Math.round(c * 1000) / 10);
  render(
    plot,
    {
      tooltip: { trigger: "axis" },
      legend: legend({ data: ["vs last week", "vs last year"] }),
      grid: { left: "2%", right: "3%", bottom: "3%", top: fontPx(3.2), containLabel: true },
      xAxis: { type: "category", data: k.map((r) => r.kpi.replaceAll("_", " ")), ...axis() },
      yAxis: { type: "value", name: "%", ...axis() },
      series: [
        { name: "vs last week", type: "bar", itemStyle: { color: "#4fc3f7" }, data: k.map((r) => pct(r.last_week.change)) },
        { name: "vs last year", type: "bar", itemStyle: { color: "#ba68c8" }, data: k.map((r) => pct(r.last_year.change)) },
      ],
    },
    k.length,
  );
  document.getElementById("summary").textContent =
    `${range.label} against the same hours 7 and 364 days before (the same weekdays)`;
}

every(update, 60);
