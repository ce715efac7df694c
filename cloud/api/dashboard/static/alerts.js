// Alerts: open and cleared alerts with their webhook deliveries, and the rules that make them.
import { api, axis, chart, dayTime, escapeHtml, every, fontPx, localIso, render, zoneName } from "./common.js";

const plot = chart(document.getElementById("alerts-chart"));

async function update() {
  const body = await api("alerts");
  const rows = body.rows;
  document.querySelector("#alert-table tbody").innerHTML = rows.length
    ? rows.map((a) => {
        const state = a.cleared_at ? "cleared" : "open";
        const delivery = a.deliveries ? `${a.delivered} of ${a.deliveries}${a.pending ? ` (${a.pending} retrying)` : ""}` : "–";
        return `<tr data-alert="${escapeHtml(a.alert_key)}" data-state="${state}">` +
          `<td><span class="badge ${state === "open" ? a.severity : "cleared"}">${state}</span></td>` +
          `<td>${escapeHtml(a.severity)}</td><td>${escapeHtml(a.message)}` +
          `${a.clear_message ? `<div class="hint">${escapeHtml(a.clear_message)}</div>` : ""}</td>` +
          `<td>${dayTime(new Date(a.fired_at))}</td><td>${a.cleared_at ? dayTime(new Date(a.cleared_at)) : "–"}</td>` +
          `<td class="num">${delivery}</td></tr>`;
      }).join("")
    : `<tr><td colspan="6" class="hint">No alerts in the last 7 days.</td></tr>`;
  document.querySelector("#rule-table tbody").innerHTML = body.rules.length
    ? body.rules.map((r) => `<tr><td>${escapeHtml(r.kind)}</td><td>${escapeHtml(r.kind === "occupancy" ? zoneName(r.subject) : r.subject)}</td>` +
        `<td>${escapeHtml(r.description)}</td></tr>`).join("") +
      (body.webhooks.length ? `<tr><td>webhooks</td><td colspan="2">${body.webhooks.map(escapeHtml).join(", ")}</td></tr>` : "")
    : `<tr><td colspan="3" class="hint">No alert rules: add an alerts: section to the site config.</td></tr>`;
  // Fired per site-local day, the last 7 days, zeros included.
  const days = new Map();
  for (let i = 6; i >= 0; i--) days.set(localIso(new Date(Date.now() - i * 86400e3)).slice(0, 10), 0);
  for (const a of rows) {
    const day = a.fired_at.slice(0, 10);
    if (days.has(day)) days.set(day, days.get(day) + 1);
  }
  render(
    plot,
    {
      tooltip: { trigger: "axis" },
      grid: { left: "2%", right: "3%", bottom: "3%", top: fontPx(2), containLabel: true },
      xAxis: { type: "category", data: [...days.keys()].map((d) => d.slice(5)), ...axis() },
      yAxis: { type: "value", minInterval: 1, ...axis() },
      series: [{ name: "Alerts fired", type: "bar", itemStyle: { color: "#f06292" }, data: [...days.values()] }],
    },
    days.size,
  );
  document.getElementById("summary").textContent =
    `${body.open} open; ${rows.length} in the last 7 days; sent to ${body.webhooks.length} webhook(s)`;
}

every(update, 30);
