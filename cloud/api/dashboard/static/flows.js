// Flows: zone-to-zone moves as a Sankey diagram (origins left, next zones right) and a table.
import { api, chart, escapeHtml, every, fontPx, rangePicker, render, zoneColor, zoneName } from "./common.js";

const sankey = chart(document.getElementById("flows"));
const picker = rangePicker(document.getElementById("range"), () => update(), "today");
const short = (id) => zoneName(id).replace(/ \(.*\)$/, "");

async function update() {
  const range = picker.current();
  const body = await api("flows", { from: range.from, to: range.to });
  const rows = body.rows.filter((r) => r.people > 0);
  // Origins and destinations are separate nodes, so A→B and B→A never make a cycle.
  const from = (id) => `${short(id)} ›`;
  const to = (id) => `› ${short(id)}`;
  const nodes = new Map();
  for (const r of rows) {
    nodes.set(from(r.from_zone), { name: from(r.from_zone), itemStyle: { color: zoneColor(r.from_zone) }, depth: 0 });
    nodes.set(to(r.to_zone), { name: to(r.to_zone), itemStyle: { color: zoneColor(r.to_zone) }, depth: 1 });
  }
  render(
    sankey,
    {
      tooltip: { trigger: "item", formatter: (p) => (p.dataType === "edge" ? `${escapeHtml(p.data.source)} ${escapeHtml(p.data.target)}: ${p.data.value} people` : escapeHtml(p.name)) },
      series: [
        {
          type: "sankey",
          left: "2%", right: "22%", top: "3%", bottom: "3%",
          nodeWidth: fontPx(1.2), nodeGap: fontPx(0.8), draggable: false,
          emphasis: { focus: "adjacency" },
          data: [...nodes.values()],
          links: rows.map((r) => ({ source: from(r.from_zone), target: to(r.to_zone), value: r.people })),
          lineStyle: { color: "gradient", opacity: 0.45, curveness: 0.5 },
          label: { color: "#e8edf2", fontSize: fontPx(0.9) },
        },
      ],
    },
    rows.length,
  );
  const top = [...rows].sort((a, b) => b.people - a.people).slice(0, 12);
  document.querySelector("#flows-table tbody").innerHTML = top
    .map((r) => `<tr><td><span style="color:${zoneColor(r.from_zone)}">■</span> ${escapeHtml(short(r.from_zone))}</td>` +
      `<td><span style="color:${zoneColor(r.to_zone)}">■</span> ${escapeHtml(short(r.to_zone))}</td><td class="num">${r.people}</td></tr>`)
    .join("");
  const moves = rows.reduce((s, r) => s + r.people, 0);
  document.getElementById("summary").textContent = `${moves.toLocaleString("en-GB")} moves between zones, ${range.label}`;
}

every(update);
