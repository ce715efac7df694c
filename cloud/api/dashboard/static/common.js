// Shared by every dashboard page: the API key, API calls, the live stream, charts, time ranges.
/* global echarts */

export const site = document.body.dataset.site;
export const params = new URLSearchParams(location.search);
if (params.get("wall") === "1") document.body.classList.add("wall");

const KEY_NAME = `footfall-key:${site}`;

function takeKey() {
  // A wall screen may be opened once with #key=…: keep it for this tab, drop it from the address.
  const match = location.hash.match(/key=([^&]+)/);
  if (match) {
    sessionStorage.setItem(KEY_NAME, decodeURIComponent(match[1]));
    history.replaceState(null, "", location.pathname + location.search);
  }
  return sessionStorage.getItem(KEY_NAME);
}

function signIn(reason) {
  const next = location.pathname + location.search;
  const query = new URLSearchParams({ site, next, reason });
  location.replace(`/dashboard/?${query}`);
  return new Promise(() => {}); // never settles: the page is going away
}

const KEY = takeKey();
if (!KEY) await signIn("Sign in with this site's API key to open its dashboard.");

export function showProblem(message) {
  const box = document.getElementById("problem");
  box.textContent = message;
  box.hidden = false;
  console.error(message);
}

export function clearProblem() {
  document.getElementById("problem").hidden = true;
}

function url(path, query = {}) {
  return `/v1/sites/${encodeURIComponent(site)}/${path}?${new URLSearchParams(query)}`;
}

/** GET /v1/sites/{site}/{path}?query → JSON; a 401/403 sends the user to the sign-in page. */
export async function api(path, query = {}) {
  const res = await fetch(url(path, query), { headers: { "X-API-Key": KEY } });
  if (res.status === 401 || res.status === 403) {
    sessionStorage.removeItem(KEY_NAME);
    const body = await res.json().catch(() => ({}));
    return signIn(`The API refused the key: ${body.detail || res.statusText}.`);
  }
  if (!res.ok) {
    const body = await res.json().catch(() => ({}));
    throw new Error(`${path}: ${body.detail || res.statusText}`);
  }
  return res.json();
}

/** GET /v1/{path}?query with this tab's key: resources over several sites (the portfolio). */
export async function apiRoot(path, query = {}) {
  const res = await fetch(`/v1/${path}?${new URLSearchParams(query)}`, { headers: { "X-API-Key": KEY } });
  if (!res.ok) {
    const body = await res.json().catch(() => ({}));
    throw new Error(`${path}: ${body.detail || res.statusText}`);
  }
  return res.json();
}

export const layout = await api("layout");
// The site's name comes from the API, for a key it accepted (served HTML names no site).
document.querySelector(".site-name").textContent = layout.name;
document.title = `${document.body.dataset.title} · ${layout.name} · footfall`;
export const tz = layout.timezone;
// Zones of one name on several floors (a lift, restrooms) are told apart by their floor.
const floorName = (id) => layout.floors.find((f) => f.id === id)?.name ?? id;
const sharedNames = new Set(
  layout.zones.map((z) => z.name).filter((name, i, all) => all.indexOf(name) !== i),
);
export const zoneName = (id) => {
  const zone = layout.zones.find((z) => z.id === id);
  if (!zone) return id;
  return sharedNames.has(zone.name) ? `${zone.name} (${floorName(zone.floor)})` : zone.name;
};
export const cameraName = (id) => layout.cameras.find((c) => c.id === id)?.name ?? id;

const live = document.getElementById("live");
export function setLive(on) {
  live.classList.toggle("on", on);
}

/** Read a server-sent-event stream with fetch (so the key travels in a header), reconnecting. */
export async function stream(path, query, onEvent) {
  for (;;) {
    try {
      const res = await fetch(url(path, query), { headers: { "X-API-Key": KEY } });
      if (!res.ok) throw new Error(`${path}: ${res.status} ${res.statusText}`);
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value;
        let end;
        while ((end = buffer.indexOf("\n\n")) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const data = block
            .split("\n")
            .filter((l) => l.startsWith("data:"))
            .map((l) => l.slice(5).trim())
            .join("\n");
          if (data) {
            setLive(true);
            onEvent(JSON.parse(data));
          }
        }
      }
    } catch (err) {
      console.warn(`live stream interrupted (${err.message}); reconnecting in 5 s`);
    }
    setLive(false);
    await new Promise((r) => setTimeout(r, 5000));
  }
}

/** Run ``fn`` now and every ``?refresh=`` seconds (default 60); show when data last arrived. */
export function every(fn, seconds = Number(params.get("refresh") || 60)) {
  const stamp = document.getElementById("updated");
  const run = async () => {
    try {
      await fn();
      clearProblem();
      stamp.textContent = `updated ${clock(new Date())}`;
    } catch (err) {
      showProblem(`Could not load the data: ${err.message}`);
    }
  };
  run();
  setInterval(run, seconds * 1000);
}

// ---- time, in the site's time zone ----

const partsFormat = new Intl.DateTimeFormat("en-CA", {
  timeZone: tz, year: "numeric", month: "2-digit", day: "2-digit",
  hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23",
});

/** A Date as a naive site-local ISO string (the API reads naive times as site-local). */
export function localIso(date) {
  const p = Object.fromEntries(partsFormat.formatToParts(date).map((x) => [x.type, x.value]));
  return `${p.year}-${p.month}-${p.day}T${p.hour}:${p.minute}:${p.second}`;
}

/** The instant (ms) of a naive site-local ISO string: the inverse of localIso. */
export function instant(local) {
  const guess = Date.parse(`${local.length === 16 ? `${local}:00` : local}Z`);
  let at = guess;
  for (let i = 0; i < 2; i++) at = guess - (Date.parse(`${localIso(new Date(at))}Z`) - at);
  return at;
}

export function clock(date, seconds = true) {
  return date.toLocaleTimeString("en-GB", {
    timeZone: tz, hour: "2-digit", minute: "2-digit", ...(seconds ? { second: "2-digit" } : {}),
  });
}

export function dayTime(date) {
  return date.toLocaleString("en-GB", {
    timeZone: tz, weekday: "short", day: "numeric", month: "short", hour: "2-digit", minute: "2-digit",
  });
}

export function duration(seconds) {
  if (seconds == null) return "–";
  if (seconds < 60) return `${Math.round(seconds)} s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ${Math.round(seconds % 60)} s`;
  return `${Math.floor(seconds / 3600)} h ${Math.round((seconds % 3600) / 60)} min`;
}

const PRESETS = {
  "1h": ["Last hour", 3600],
  "3h": ["Last 3 hours", 3 * 3600],
  today: ["Today", null],
  "24h": ["Last 24 hours", 86400],
  "7d": ["Last 7 days", 7 * 86400],
  custom: ["Custom…", null],
};

/**
 * A time-range picker in ``el`` (preset or custom from/to, kept in the address so a screen can
 * be bookmarked). ``onChange`` is called on every change; ``current()`` gives {from, to, label}
 * as site-local ISO strings, relative presets measured from now, and {start, end}: the same
 * two instants in ms (for a chart's time axis).
 */
export function rangePicker(el, onChange, preset = "today") {
  const chosen = params.get("range") || preset;
  el.innerHTML = `<label>Time range <select class="preset">${Object.entries(PRESETS)
    .map(([k, [name]]) => `<option value="${k}"${k === chosen ? " selected" : ""}>${name}</option>`)
    .join("")}</select></label>
    <span class="custom" hidden><input type="datetime-local" class="from" step="60"> to
    <input type="datetime-local" class="to" step="60"> <button type="button">Apply</button></span>`;
  const select = el.querySelector(".preset");
  const custom = el.querySelector(".custom");
  const from = el.querySelector(".from");
  const to = el.querySelector(".to");
  const now = new Date();
  from.value = params.get("from") || localIso(new Date(now - 86400e3)).slice(0, 16);
  to.value = params.get("to") || localIso(now).slice(0, 16);
  const remember = () => {
    const q = new URLSearchParams(location.search);
    q.set("range", select.value);
    if (select.value === "custom") {
      q.set("from", from.value);
      q.set("to", to.value);
    } else {
      q.delete("from");
      q.delete("to");
    }
    history.replaceState(null, "", `${location.pathname}?${q}`);
  };
  select.addEventListener("change", () => {
    custom.hidden = select.value !== "custom";
    remember();
    if (select.value !== "custom") onChange();
  });
  el.querySelector("button").addEventListener("click", () => {
    remember();
    onChange();
  });
  custom.hidden = select.value !== "custom";
  return {
    current() {
      const key = select.value;
      const end = new Date();
      const range = (a, b, label) => ({ from: a, to: b, label, start: instant(a), end: instant(b) });
      if (key === "custom") return range(from.value, to.value, `${from.value} – ${to.value}`);
      if (key === "today") return range(`${localIso(end).slice(0, 10)}T00:00:00`, localIso(end), "today");
      const [name, seconds] = PRESETS[key];
      return range(localIso(new Date(end - seconds * 1000)), localIso(end), name.toLowerCase());
    },
  };
}

// ---- charts ----

const charts = [];
window.addEventListener("resize", () => charts.forEach((c) => c.resize()));

export function fontPx(scale = 0.9) {
  return parseFloat(getComputedStyle(document.body).fontSize) * scale;
}

export function chart(el) {
  const c = echarts.init(el, "dark");
  charts.push(c);
  return c;
}

/**
 * Draw ``option`` and, once drawn, mark the container: data-ready="1" and data-points = how
 * many data points the chart shows (what the browser tests and a person can check).
 */
export function render(c, option, points) {
  const el = c.getDom();
  el.dataset.ready = "0";
  c.off("finished");
  c.on("finished", () => {
    el.dataset.points = String(points);
    el.dataset.ready = "1";
  });
  const fs = fontPx();
  c.setOption(
    {
      backgroundColor: "transparent",
      animationDuration: 400,
      textStyle: { fontSize: fs },
      tooltip: { textStyle: { fontSize: fs } },
      ...option,
    },
    true,
  );
}

/** Axis defaults sized to the page's font. */
export function axis(extra = {}) {
  const fs = fontPx(0.85);
  return {
    axisLabel: { fontSize: fs, color: "#c3ccd5" },
    nameTextStyle: { fontSize: fs, color: "#98a6b3" },
    splitLine: { lineStyle: { color: "#26313b" } },
    ...extra,
  };
}

export function legend(extra = {}) {
  const fs = fontPx(0.85);
  return {
    textStyle: { fontSize: fs, color: "#c3ccd5" }, itemWidth: fs * 2, itemHeight: fs * 0.9,
    top: 0, type: "scroll", ...extra,
  };
}

export const PALETTE = [
  "#4fc3f7", "#ffb74d", "#81c784", "#f06292", "#ba68c8", "#fff176", "#4db6ac", "#a1887f",
  "#9575cd", "#aed581", "#ff8a65", "#90a4ae",
];
export const zoneColor = (id) => PALETTE[Math.max(0, layout.zones.findIndex((z) => z.id === id)) % PALETTE.length];

export function escapeHtml(text) {
  return String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** GET an image (or other file) of the API as an object URL for <img> or a chart. */
export async function apiObjectUrl(path) {
  const res = await fetch(url(path), { headers: { "X-API-Key": KEY } });
  if (!res.ok) throw new Error(`${path}: ${res.status} ${res.statusText}`);
  return URL.createObjectURL(await res.blob());
}
