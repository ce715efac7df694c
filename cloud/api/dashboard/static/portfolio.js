// Portfolio: every site this key may see, side by side.
import { apiRoot, axis, chart, escapeHtml, every, fontPx, legend, params, render } from "./common.js";

const plot = chart(document.getElementById("portfolio-chart"));
const dayInput = document.getElementById("day");
dayInput.value = params.get("day") || "";
dayInput.addEventListener("change", () => {
  const q = new URLSearchParams(location.search);
  if (dayInput.value) q.set("day", dayInput.value); else q.delete("day");
  history.replaceState(null, "", `${location.pathname}?${q}`);
  update();
});
const change = (c) => (c == null ? "–" : `<span class="${c >= 0 ? "up" : "down"}">${c >= 0 ? "+" : ""}${(c * 100).toFixed(1)} %</span>`);

// Unique visitors of a day past the raw retention are not kept: a dash with the reason, not 0.
const visitors = (s) =>
  s.unique_visitors == null
    ? `<td class="num" title="${escapeHtml(s.unavailable?.unique_visitors || "not available")}">–</td>`
    : `<td class="num">${s.unique_visitors.toLocaleString("en-GB")}</td>`;

async function update() {
  const body = await apiRoot("portfolio", dayInput.value ? { day: dayInput.value } : {});
  const sites = body.sites;
  document.querySelector("#portfolio-table tbody").innerHTML = sites
    .map((s) => `<tr data-site="${escapeHtml(s.id)}"><td><a href="/dashboard/${encodeURIComponent(s.id)}/overview">${escapeHtml(s.name)}</a></td>` +
      `<td class="num">${s.entries.toLocaleString("en-GB")}</td><td class="num">${change(s.change_last_week)}</td>` +
      `<td class="num">${change(s.change_last_year)}</td>${visitors(s)}` +
      `<td class="num">${s.transactions}</td><td class="num">${s.conversion == null ? "–" : `${(s.conversion * 100).toFixed(1)} %`}</td>` +
      `<td class="num">${s.open_alerts}</td></tr>`)
    .join("");
  render(
    plot,
    {
      tooltip: { trigger: "axis" },
      legend: legend({ data: ["This day", "Last week", "Last year"] }),
      grid: { left: "2%", right: "3%", bottom: "3%", top: fontPx(3.2), containLabel: true },
      xAxis: { type: "category", data: sites.map((s) => s.name), ...axis() },
      yAxis: { type: "value", name: "entries", minInterval: 1, ...axis() },
      series: [
        { name: "This day", type: "bar", itemStyle: { color: "#4fc3f7" }, data: sites.map((s) => s.entries) },
        { name: "Last week", type: "bar", itemStyle: { color: "#90a4ae" }, data: sites.map((s) => s.entries_last_week) },
        { name: "Last year", type: "bar", itemStyle: { color: "#ba68c8" }, data: sites.map((s) => s.entries_last_year) },
      ],
    },
    sites.length,
  );
  const t = body.totals;
  document.getElementById("summary").textContent =
    `${sites.length} site(s); ${t.entries.toLocaleString("en-GB")} entries, ${t.open_alerts} open alert(s); ` +
    `${dayInput.value ? `on ${dayInput.value}` : "today, in each site's time zone, up to now"}`;
}

every(update, 60);
