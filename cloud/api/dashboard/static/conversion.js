// Conversion: transactions from the tills against the visitors who entered each store's zone.
import { api, axis, chart, clock, escapeHtml, every, fontPx, layout, legend, rangePicker, render, zoneName } from "./common.js";

const plot = chart(document.getElementById("conversion-chart"));
const picker = rangePicker(document.getElementById("range"), () => update(), "today");
const stores = layout.zones.filter((z) => z.kind === "store");
const select = document.getElementById("store");
select.innerHTML = `<option value="">All stores</option>` +
  stores.map((z) => `<option value="${escapeHtml(z.id)}">${escapeHtml(zoneName(z.id))}</option>`).join("");
select.addEventListener("change", () => update());
const pct = (v) => (v == null ? "–" : `${(v * 100).toFixed(1)} %`);

async function update() {
  const range = picker.current();
  const query = { from: range.from, to: range.to, by: "hour" };
  if (select.value) query.store = select.value;
  const body = await api("conversion", query);
  // Every hour of the range, with or without data, so a quiet hour shows as zero.
  const hours = new Map();
  const start = new Date(`${range.from.slice(0, 13)}:00:00Z`).getTime();
  const end = new Date(`${range.to.slice(0, 16)}:00Z`).getTime();
  for (let t = start; t < end; t += 3600e3) hours.set(new Date(t).toISOString().slice(0, 13), { visitors: 0, transactions: 0 });
  for (const r of body.rows) {
    const key = r.bucket.slice(0, 13);
    const h = hours.get(key) ?? { visitors: 0, transactions: 0 };
    h.visitors += r.visitors;
    h.transactions += r.transactions;
    hours.set(key, h);
  }
  const labels = [...hours.keys()].map((k) => `${k.slice(11, 13)}:00`);
  const values = [...hours.values()];
  const grid = { left: "2%", right: "3%", bottom: "3%", top: fontPx(3.2), containLabel: true };
  render(
    plot,
    {
      tooltip: { trigger: "axis" },
      legend: legend({ data: ["Visitors", "Transactions", "Conversion %"] }),
      grid,
      xAxis: { type: "category", data: labels, ...axis() },
      yAxis: [
        { type: "value", name: "people", minInterval: 1, ...axis() },
        { type: "value", name: "%", ...axis({ splitLine: { show: false } }) },
      ],
      series: [
        { name: "Visitors", type: "bar", itemStyle: { color: "#4fc3f7" }, data: values.map((v) => v.visitors) },
        { name: "Transactions", type: "bar", itemStyle: { color: "#ffb74d" }, data: values.map((v) => v.transactions) },
        {
          name: "Conversion %", type: "line", yAxisIndex: 1, itemStyle: { color: "#81c784" },
          data: values.map((v) => (v.visitors ? Math.round((1000 * v.transactions) / v.visitors) / 10 : null)),
        },
      ],
    },
    values.length,
  );
  const totals = body.stores;
  const sold = totals.reduce((s, t) => s + t.transactions, 0);
  const seen = totals.reduce((s, t) => s + t.visitors, 0);
  document.getElementById("kpi-conversion").textContent = pct(seen ? sold / seen : null);
  document.getElementById("kpi-transactions").textContent = sold.toLocaleString("en-GB");
  document.getElementById("kpi-visitors").textContent = seen.toLocaleString("en-GB");
  document.querySelector("#conversion-table tbody").innerHTML = totals.length
    ? totals.map((t) => `<tr data-store="${escapeHtml(t.store_id)}"><td>${escapeHtml(zoneName(t.store_id))}</td>` +
        `<td class="num">${t.visitors}</td><td class="num">${t.transactions}</td><td class="num">${pct(t.conversion)}</td></tr>`).join("")
    : `<tr><td colspan="4" class="hint">This site has no zone of kind store.</td></tr>`;
  document.getElementById("summary").textContent =
    `${range.label}, per hour${body.staff_excluded ? ", staff excluded" : ""}; updated ${clock(new Date())}`;
}

every(update, 60);
