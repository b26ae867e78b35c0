// airwarn live map: zones coloured by state, shelter countdowns, tracks with predicted
// corridors, the event feed and a time scrubber. MapLibre GL JS is served locally.
"use strict";

const COLORS = { alert: "#d7191c", pre_alert: "#fdae61", clear: "#a6d9b0" };
const state = { zones: {}, live: true, range: [null, null], featureIds: {}, ready: false };
window.airwarn = state;

const map = new maplibregl.Map({
  container: "map",
  style: {
    version: 8,
    sources: {},
    layers: [{ id: "bg", type: "background", paint: { "background-color": "#dfe6ea" } }],
  },
  center: [31.0, 49.0],
  zoom: 5,
  attributionControl: false,
  fadeDuration: 0,
});
map.addControl(new maplibregl.NavigationControl({ showCompass: false }), "top-left");

const fmtTime = (t) => new Date(t * 1000).toISOString().slice(11, 19);

function countdown(z, now) {
  if (z.arrival_t == null) return { text: z.state === "alert" ? "shelter now" : "", now: z.state === "alert" };
  // people must be in shelter before arrival: time left to start moving
  const left = z.arrival_t - now - (z.shelter_s || 0);
  if (left <= 0) return { text: "shelter now", now: true };
  const m = Math.floor(left / 60), s = Math.floor(left % 60);
  return { text: `${m}:${String(s).padStart(2, "0")}`, now: false };
}

function setZoneState(z) {
  const fid = state.featureIds[z.zone];
  if (fid === undefined) return;
  map.setFeatureState({ source: "zones", id: fid }, { state: z.state });
  if (z.state === "clear") delete state.zones[z.zone];
  else state.zones[z.zone] = { ...(state.zones[z.zone] || {}), ...z };
}

function clearAll() {
  for (const zid of Object.keys(state.zones)) setZoneState({ zone: zid, state: "clear" });
}

function renderList() {
  const now = serviceNow();
  const items = Object.values(state.zones).sort(
    (a, b) => (a.state === b.state ? (a.arrival_t || 0) - (b.arrival_t || 0) : a.state === "alert" ? -1 : 1));
  document.getElementById("n-alert").textContent = items.filter((z) => z.state === "alert").length;
  document.getElementById("n-pre").textContent = items.filter((z) => z.state === "pre_alert").length;
  const ol = document.getElementById("zones");
  ol.replaceChildren(...items.slice(0, 200).map((z) => {
    const li = document.createElement("li");
    li.className = z.state;
    li.dataset.zone = z.zone;
    const cd = countdown(z, now);
    li.innerHTML = `<span></span><span class="countdown${cd.now ? " now" : ""}"></span>`;
    li.firstChild.textContent = `${z.name || z.zone} (${z.cls || "?"})`;
    li.lastChild.textContent = cd.text;
    return li;
  }));
}

function addFeed(ev) {
  const ol = document.getElementById("feed");
  const li = document.createElement("li");
  const what = ev.type === "alert"
    ? `${ev.name || ev.zone}: ${ev.state}${ev.cls ? " (" + ev.cls + ")" : ""}`
    : `operator ${ev.who}: ${ev.action} ${(ev.zones || []).concat(ev.regions || []).join(", ")} — ${ev.why}`;
  li.innerHTML = `<span class="t"></span><span></span>`;
  li.firstChild.textContent = fmtTime(ev.t);
  li.lastChild.textContent = what;
  ol.prepend(li);
  while (ol.children.length > 100) ol.lastChild.remove();
}

let clockOffset = 0; // service clock minus browser clock (replays run on a scenario clock)
function serviceNow() { return Date.now() / 1000 + clockOffset; }

async function getJSON(url) {
  const r = await fetch(url);
  if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
  return r.json();
}

async function refreshTracks(t) {
  const url = t == null ? "/api/v1/tracks" : `/api/v1/tracks?t=${t}`;
  const fc = await getJSON(url);
  map.getSource("tracks").setData(fc);
}

async function loadLive() {
  const d = await getJSON("/api/v1/alerts");
  clockOffset = d.t - Date.now() / 1000;
  clearAll();
  d.zones.forEach(setZoneState);
  renderList();
  await refreshTracks(null);
}

async function updateRange() {
  const h = await getJSON(`/api/v1/history?t=0`);
  state.range = h.range;
  const s = document.getElementById("scrubber");
  if (h.range[0] != null) {
    s.min = Math.floor(h.range[0]);
    s.max = Math.ceil(Math.max(h.range[1], serviceNow()));
    if (state.live) s.value = s.max;
  }
}

async function scrubTo(t) {
  state.live = false;
  const mode = document.getElementById("mode");
  mode.textContent = "HISTORY";
  mode.className = "history";
  document.getElementById("scrub-t").textContent = new Date(t * 1000).toISOString().slice(0, 19) + "Z";
  const h = await getJSON(`/api/v1/history?t=${t}`);
  clearAll();
  h.zones.forEach((c) => setZoneState({ ...c, arrival_t: c.eta_s != null ? c.t + c.eta_s : null }));
  renderList();
  await refreshTracks(t);
}

async function goLive() {
  state.live = true;
  const mode = document.getElementById("mode");
  mode.textContent = "LIVE";
  mode.className = "live";
  document.getElementById("scrub-t").textContent = "live";
  await loadLive();
  await updateRange();
}

function connect() {
  const es = new EventSource("/api/v1/stream");
  es.addEventListener("alert", (m) => {
    const ev = JSON.parse(m.data);
    addFeed(ev);
    if (state.live) { setZoneState(ev); renderList(); }
  });
  es.addEventListener("operator", (m) => addFeed(JSON.parse(m.data)));
  let lastTracks = 0;
  es.addEventListener("tick", (m) => {
    const ev = JSON.parse(m.data);
    if (state.live && Date.now() - lastTracks > 1000) {
      lastTracks = Date.now();
      refreshTracks(null).catch(() => {});
      const s = document.getElementById("scrubber");
      s.max = Math.ceil(ev.t);
      s.value = s.max;
    }
  });
}

map.on("load", async () => {
  const zones = await getJSON("/api/v1/zones.geojson");
  let minx = 180, miny = 90, maxx = -180, maxy = -90;
  const walk = (c) => {
    if (typeof c[0] === "number") {
      minx = Math.min(minx, c[0]); maxx = Math.max(maxx, c[0]);
      miny = Math.min(miny, c[1]); maxy = Math.max(maxy, c[1]);
    } else c.forEach(walk);
  };
  zones.features.forEach((f) => { state.featureIds[f.properties.id] = f.id; walk(f.geometry.coordinates); });
  map.addSource("zones", { type: "geojson", data: zones });
  map.addSource("tracks", { type: "geojson", data: { type: "FeatureCollection", features: [] } });
  const stateColor = ["match", ["coalesce", ["feature-state", "state"], "clear"],
    "alert", COLORS.alert, "pre_alert", COLORS.pre_alert, COLORS.clear];
  map.addLayer({ id: "zones-fill", type: "fill", source: "zones",
    paint: { "fill-color": stateColor,
      "fill-opacity": ["match", ["coalesce", ["feature-state", "state"], "clear"], "clear", 0.25, 0.75] } });
  map.addLayer({ id: "zones-line", type: "line", source: "zones",
    paint: { "line-color": "#5b6b78", "line-width": 0.4 } });
  map.addLayer({ id: "corridors", type: "fill", source: "tracks",
    filter: ["==", ["get", "kind"], "corridor"],
    paint: { "fill-color": "#7b3294", "fill-opacity": 0.18, "fill-outline-color": "#7b3294" } });
  map.addLayer({ id: "tracks", type: "circle", source: "tracks",
    filter: ["==", ["get", "kind"], "track"],
    paint: { "circle-radius": 5, "circle-color": ["case", ["get", "confirmed"], "#1c2630", "#8a99a6"],
      "circle-stroke-color": "#fff", "circle-stroke-width": 1.5 } });
  if (minx <= maxx) map.fitBounds([[minx, miny], [maxx, maxy]], { padding: 30, duration: 0 });
  map.on("click", "zones-fill", (e) => {
    const p = e.features[0].properties;
    const z = state.zones[p.id];
    new maplibregl.Popup().setLngLat(e.lngLat)
      .setText(`${p.name} (${p.region}) — ${z ? z.state : "clear"}; shelter ${Math.round(p.shelter_s)} s`)
      .addTo(map);
  });
  document.getElementById("scrubber").addEventListener("input", (e) => scrubTo(Number(e.target.value)));
  document.getElementById("live-btn").addEventListener("click", goLive);
  await goLive();
  connect();
  const everySecond = () => {
    document.getElementById("clock").textContent = fmtTime(state.live ? serviceNow() : Number(document.getElementById("scrubber").value));
    renderList();
  };
  everySecond();
  setInterval(everySecond, 1000);
  if (map.loaded()) state.ready = true;
  else map.once("idle", () => { state.ready = true; });
});
