// affectlens web page: plain JS, no dependencies, nothing loaded from outside this service.
// User text is only ever inserted with textContent / createTextNode (never innerHTML).
"use strict";

const $ = (id) => document.getElementById(id);
const SVG_NS = "http://www.w3.org/2000/svg";
const LABEL_COLORS = {
  joy: "#f59e0b", amusement: "#fbbf24", excitement: "#f97316", love: "#ec4899", admiration: "#d946ef",
  gratitude: "#eab308", pride: "#ca8a04", optimism: "#22c55e", approval: "#16a34a", caring: "#f472b6",
  relief: "#34d399", desire: "#c084fc", anger: "#dc2626", annoyance: "#ef4444", disapproval: "#b91c1c",
  disgust: "#65a30d", fear: "#7c3aed", nervousness: "#8b5cf6", sadness: "#2563eb", grief: "#1e3a8a",
  disappointment: "#3b82f6", remorse: "#6366f1", embarrassment: "#fb7185", surprise: "#06b6d4",
  realization: "#14b8a6", confusion: "#a3a3a3", curiosity: "#2dd4bf", neutral: "#9ca3af",
  positive: "#16a34a", negative: "#dc2626", trust: "#10b981", anticipation: "#fb923c",
  happy: "#f59e0b", sad: "#2563eb", angry: "#dc2626", fearful: "#7c3aed", surprised: "#06b6d4", calm: "#94a3b8",
  contempt: "#84cc16",
};
const FALLBACK = ["#0ea5e9", "#a855f7", "#10b981", "#f43f5e", "#eab308", "#64748b"];

function colorOf(label) {
  if (label in LABEL_COLORS) return LABEL_COLORS[label];
  let h = 0;
  for (const ch of String(label)) h = (h + ch.charCodeAt(0)) % 9973;
  return FALLBACK[h % FALLBACK.length];
}

function el(tag, attrs = {}, text) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text !== undefined) node.textContent = text;
  return node;
}

function svg(tag, attrs = {}, text) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (text !== undefined) node.textContent = text;
  return node;
}

function headers(extra = {}) {
  const key = $("api-key").value.trim();
  return key ? { ...extra, Authorization: "Bearer " + key } : extra;
}

async function call(method, url, body, isJson = true) {
  const init = { method, headers: headers(isJson && body ? { "Content-Type": "application/json" } : {}) };
  if (body) init.body = isJson ? JSON.stringify(body) : body;
  const response = await fetch(url, init);
  let data = null;
  try { data = await response.json(); } catch (_) { data = null; }
  if (!response.ok) {
    const message = data && data.error ? data.error : response.status + " " + response.statusText;
    throw new Error(message + " (HTTP " + response.status + ")");
  }
  return data;
}

function showError(message) {
  const box = $("error");
  box.textContent = message;
  box.hidden = !message;
}

function showProgress(message) {
  const box = $("progress");
  box.textContent = message || "";
  box.hidden = !message;
}

function busy(on) {
  $("analyze").disabled = on;
  $("upload").disabled = on;
}

// -- rendering --------------------------------------------------------------------------------

function renderBars(segment) {
  const box = $("top-emotions");
  box.replaceChildren();
  const ranked = Object.entries(segment.scores).sort((a, b) => b[1] - a[1]).slice(0, 6);
  for (const [label, score] of ranked) {
    const row = el("div", { class: "bar-row", "data-label": label });
    const name = el("span", { class: "bar-label" + (segment.labels.includes(label) ? " predicted" : "") }, label);
    const track = el("div", { class: "bar-track" });
    const fill = el("div", { class: "bar-fill" });
    fill.style.width = Math.max(1, Math.round(score * 100)) + "%";
    fill.style.background = colorOf(label);
    track.append(fill);
    row.append(name, track, el("span", { class: "bar-value" }, score.toFixed(2)));
    box.append(row);
  }
}

function renderVad(vad) {
  const box = $("vad");
  box.replaceChildren();
  if (!vad) { box.append(el("p", { class: "muted" }, "no valence/arousal from this model")); return; }
  const size = 180, pad = 22, half = (size - 2 * pad) / 2, cx = size / 2, cy = size / 2;
  const plot = svg("svg", { width: size, height: size, viewBox: `0 0 ${size} ${size}`, id: "vad-plot",
                            role: "img", "aria-label": "valence arousal plane" });
  plot.append(svg("rect", { x: pad, y: pad, width: 2 * half, height: 2 * half, fill: "#f9fafb", stroke: "#d1d5db" }));
  plot.append(svg("line", { x1: pad, y1: cy, x2: size - pad, y2: cy, stroke: "#d1d5db" }));
  plot.append(svg("line", { x1: cx, y1: pad, x2: cx, y2: size - pad, stroke: "#d1d5db" }));
  plot.append(svg("text", { x: size - pad, y: cy - 4, "text-anchor": "end" }, "valence +"));
  plot.append(svg("text", { x: pad, y: cy - 4 }, "−"));
  plot.append(svg("text", { x: cx + 4, y: pad + 10 }, "arousal +"));
  const x = cx + vad.valence * half, y = cy - vad.arousal * half;
  plot.append(svg("circle", { cx: x, cy: y, r: 7, fill: vad.valence >= 0 ? "#16a34a" : "#dc2626",
                              stroke: "#111827", "stroke-width": 1.5 }));
  box.append(plot);
  box.append(el("p", { id: "vad-values" },
    `valence ${vad.valence.toFixed(2)} · arousal ${vad.arousal.toFixed(2)} · dominance ${vad.dominance.toFixed(2)}`));
}

// the segment's text into ``box`` with its word cues marked (spans index the text)
function highlightInto(box, segment) {
  box.replaceChildren();
  const text = segment.text || "";
  const cues = (segment.cues || [])
    .filter((c) => Array.isArray(c.span) && c.weight > 0 && c.span[0] < c.span[1] && c.span[1] <= text.length)
    .sort((a, b) => a.span[0] - b.span[0]);
  let at = 0;
  for (const cue of cues) {
    const [start, end] = cue.span;
    if (start < at) continue; // overlapping cue: the first one wins
    box.append(document.createTextNode(text.slice(at, start)));
    const mark = el("mark", { class: "cue", "data-label": cue.label || "", title: `${cue.label || ""} ${cue.weight.toFixed(2)}` },
                    text.slice(start, end));
    mark.style.background = colorOf(cue.label || "") + "55";
    mark.style.borderBottom = "2px solid " + colorOf(cue.label || "");
    box.append(mark);
    at = end;
  }
  box.append(document.createTextNode(text.slice(at)));
  return text;
}

function renderHighlighted(segment) {
  $("text-block").hidden = !highlightInto($("highlighted"), segment);
}

// one list item per turn (numbered from 0, as in the JSON and the cue phrases): speaker, top emotion, valence, the text with its cue words, the
// emotion shift that the turn starts, and the earlier turns (or spans) that caused its emotion
function renderDialogue(segments) {
  const block = $("dialogue-block"), list = $("turns");
  list.replaceChildren();
  const turns = segments.filter((s) => typeof s.turn === "number").sort((a, b) => a.turn - b.turn);
  block.hidden = turns.length === 0;
  const textOf = Object.fromEntries(turns.map((s) => [s.turn, s]));
  for (const seg of turns) {
    const [label, score] = topOf(seg);
    const item = el("li", { id: "turn-" + seg.turn, "data-label": label });
    item.style.borderLeftColor = colorOf(label);
    const head = el("div", { class: "turn-head" });
    head.append(el("span", { class: "muted" }, String(seg.turn)), el("span", { class: "speaker" }, seg.speaker || "?"));
    const chip = el("span", { class: "chip" }, `${label} ${score.toFixed(2)}`);
    chip.style.background = colorOf(label) + "55";
    head.append(chip);
    if (seg.vad) head.append(el("span", { class: "muted" }, `valence ${seg.vad.valence.toFixed(2)}`));
    if (typeof seg.start === "number") {
      head.append(el("span", { class: "muted" }, `${clock(seg.start)}–${clock(seg.end)}`));
    }
    const body = el("p", { class: "turn-text" });
    wordsInto(body, seg);
    item.append(head, body);
    const modalities = modalitiesLine(seg); // a media file's turn: text, voice and face fused
    if (modalities) item.append(modalities);
    for (const cue of seg.cues || []) {
      if (cue.kind === "emotion_shift") item.append(el("div", { class: "shift" }, "↯ " + cue.phrase));
    }
    for (const cause of (seg.extras && seg.extras.causes) || []) {
      const line = el("div", { class: "cause" });
      const own = cause.turn === seg.turn;
      line.append(document.createTextNode(`cause (${cause.probability.toFixed(2)}): `));
      if (own) {
        line.append(document.createTextNode("this turn"));
      } else {
        const source = textOf[cause.turn];
        line.append(el("a", { href: "#turn-" + cause.turn }, `turn ${cause.turn}` + (source ? ` (${source.speaker || "?"})` : "")));
      }
      if (cause.span && cause.span.text) line.append(document.createTextNode(` “${cause.span.text}”`));
      item.append(line);
    }
    const extras = seg.extras || {};
    if (extras.strategy) item.append(el("div", { class: "strategy" }, "strategy used: " + extras.strategy));
    if (extras.support) item.append(renderSupport(extras.support));
    list.append(item);
  }
}

// the supporter's next move after this turn: the suggested strategy and the runner-up, why, or "route to a person"
function renderSupport(point) {
  const box = el("div", { class: "support" });
  if (point.route_to_person) {
    box.classList.add("crisis");
    box.append(el("strong", {}, "Route to a person: "), document.createTextNode(point.message || ""));
    return box;
  }
  const probs = point.probabilities || {};
  const ranked = Object.keys(probs).sort((a, b) => probs[b] - probs[a]);
  box.append(el("strong", {}, `next: ${ranked[0]} ${probs[ranked[0]].toFixed(2)}`),
    document.createTextNode(ranked[1] ? ` (then ${ranked[1]} ${probs[ranked[1]].toFixed(2)})` : ""));
  if (point.seeker_emotion && point.seeker_emotion.emotion) {
    box.append(document.createTextNode(` · seeker: ${point.seeker_emotion.emotion}`));
  }
  for (const cue of (point.cues || []).slice(0, 3)) box.append(el("div", { class: "muted" }, "· " + cue.phrase));
  box.append(el("div", { class: "muted" }, point.notice || ""));
  return box;
}

// "Ann: I got the job!" per line -> turns; a line without "name:" continues with speaker "unknown"
function parseDialogue(text) {
  return text.split(/\r?\n/).map((line) => line.trim()).filter(Boolean).map((line) => {
    const match = /^([^:]{1,40}):\s*(.*)$/.exec(line);
    return match ? { speaker: match[1].trim(), text: match[2] } : { speaker: "unknown", text: line };
  });
}

// segments on a time axis (media) or a row axis (tables): bar height = top score, colour = top label (the legend
// below names the colours); faces of a video get one lane per track (`lane`), as the CLI's plot has one row each
function renderTimeline(points, axisName) {
  const block = $("timeline-block"), box = $("timeline");
  box.replaceChildren();
  renderLegend(points.map((p) => p.label));
  block.hidden = points.length === 0;
  if (!points.length) return;
  $("timeline-title").textContent = "Timeline (" + axisName + ")";
  const lanes = [...new Set(points.map((p) => (p.lane === undefined ? null : p.lane)))].sort((a, b) => a - b);
  const laneH = lanes.length > 1 ? 70 : 150;
  const width = 860, left = lanes.length > 1 ? 56 : 36, right = 10, top = 12, bottom = 28;
  const height = top + bottom + laneH * lanes.length;
  const seconds = axisName === "seconds";
  const x0 = seconds ? Math.min(0, ...points.map((p) => p.start)) : Math.min(...points.map((p) => p.start));
  const x1 = Math.max(...points.map((p) => p.end));
  const span = Math.max(1e-9, x1 - x0), plotW = width - left - right;
  const X = (t) => left + ((t - x0) / span) * plotW;
  const plot = svg("svg", { width: "100%", viewBox: `0 0 ${width} ${height}`, id: "timeline-svg", role: "img",
                            "aria-label": "emotion timeline" });
  lanes.forEach((lane, n) => {
    const base = top + laneH * (n + 1), h0 = laneH - 8;
    plot.append(svg("line", { x1: left, y1: base, x2: width - right, y2: base, stroke: "#9ca3af" }));
    plot.append(svg("line", { x1: left, y1: base - h0 / 2, x2: width - right, y2: base - h0 / 2,
                              stroke: "#e5e7eb", "stroke-dasharray": "4 3" }));
    if (lane !== null) {
      const name = lane < 0 ? "no track" : "track #" + lane;
      plot.append(svg("text", { class: "lane-label", x: 2, y: base - h0 / 2 + 4 }, name));
    } else {
      plot.append(svg("text", { x: 2, y: base - h0 + 9 }, "1.0"), svg("text", { x: 2, y: base }, "0"));
    }
    const line = [];
    for (const p of points.filter((q) => (q.lane === undefined ? null : q.lane) === lane)) {
      const xa = X(p.start), xb = Math.max(xa + 2, X(p.end) - 1);
      const h = Math.max(2, p.score * h0);
      const rect = svg("rect", { class: "segment", x: xa, y: base - h, width: xb - xa, height: h,
                                 fill: colorOf(p.label), opacity: 0.85, "data-label": p.label });
      rect.append(svg("title", {}, `${p.label} ${p.score.toFixed(2)} [${p.start}–${p.end}]`));
      plot.append(rect);
      if (p.valence !== null) line.push(`${(xa + xb) / 2},${base - h0 / 2 - (p.valence * h0) / 2}`);
    }
    if (line.length > 1) {
      plot.append(svg("polyline", { points: line.join(" "), fill: "none", stroke: "#111827", "stroke-width": 1.5 }));
    }
  });
  // rows are drawn as [i, i + 1): the last row's number is x1 - 1
  plot.append(svg("text", { x: left, y: height - 8 }, x0.toFixed(seconds ? 1 : 0)));
  plot.append(svg("text", { x: width - right, y: height - 8, "text-anchor": "end" },
                  (seconds ? x1.toFixed(1) : String(x1 - 1)) + " " + axisName));
  box.append(plot);
  box.append(el("p", { class: "muted" }, "bars: top emotion and its score; line: valence (dashed = 0)"));
}

function topOf(segment) {
  let best = "", score = -1;
  for (const [label, value] of Object.entries(segment.scores)) if (value > score) { best = label; score = value; }
  return [best, score];
}

function renderRows(results) {
  const box = $("rows");
  box.replaceChildren();
  if (!results.length) return;
  const table = el("table", { class: "rows" });
  const head = el("tr");
  for (const name of ["id", "top emotion", "valence", "text / warning", "cues"]) head.append(el("th", {}, name));
  table.append(head);
  for (const result of results.slice(0, 200)) {
    const tr = el("tr");
    const seg = result.segments[0];
    tr.append(el("td", {}, result.record_id || ""));
    if (seg) {
      const [label, score] = topOf(seg);
      tr.append(el("td", {}, `${label} ${score.toFixed(2)}`));
      tr.append(el("td", {}, seg.vad ? seg.vad.valence.toFixed(2) : ""));
      tr.append(el("td", {}, (seg.text || "").slice(0, 160)), cuesCell(seg));
    } else {
      tr.append(el("td", {}, "—"), el("td", {}, ""), el("td", {}, result.warnings.join("; ")));
    }
    table.append(tr);
  }
  box.append(table);
}

function renderWarnings(warnings) {
  const list = $("warnings");
  list.replaceChildren();
  for (const w of warnings) list.append(el("li", {}, w));
}

// one EmotionResult: bars/VAD/cues of the strongest segment; the faces over the uploaded picture (`media`: its
// object URL and kind, or null); the transcript, the dialogue, the timeline with a lane per face track, one row per
// track, and every segment with its cues
function renderResult(result, media = null) {
  $("result").hidden = false;
  $("raw").textContent = JSON.stringify(result, null, 2);
  renderWarnings(result.warnings || []);
  $("rows").replaceChildren();
  const segments = result.segments || [];
  renderDialogue(segments);
  renderFaces(segments, media);
  renderTracks(segments);
  renderTranscript(segments);
  renderSegments(result);
  if (!segments.length) {
    $("top-emotions").replaceChildren(el("p", { class: "muted" }, "no segment: see the warnings"));
    $("vad").replaceChildren();
    $("text-block").hidden = true;
    renderTimeline([], "");
    return;
  }
  const main = segments.reduce((a, b) => (b.confidence > a.confidence ? b : a));
  $("result-model").textContent = `${main.provenance.recognizer} ${main.provenance.version} · ${main.label_set}`;
  renderBars(main);
  renderVad(main.vad);
  renderHighlighted(main);
  if (segments.some((s) => typeof s.turn === "number")) {
    renderTimeline(segments.filter((s) => typeof s.turn === "number").map((s) => {
      const [label, score] = topOf(s);
      return { start: s.turn, end: s.turn + 1, label, score, valence: s.vad ? s.vad.valence : null };
    }), "turns");
    $("text-block").hidden = true; // each turn shows its own cue words
    return;
  }
  if (!$("transcript-block").hidden) $("text-block").hidden = true; // each line shows its own words
  const timed = segments.filter((s) => typeof s.start === "number");
  const tracked = timed.some((s) => typeof s.track_id === "number");
  renderTimeline(timed.map((s) => {
    const [label, score] = topOf(s);
    return { start: s.start, end: typeof s.end === "number" ? s.end : s.start, label, score,
             valence: s.vad ? s.vad.valence : null, ...(tracked ? { lane: s.track_id ?? -1 } : {}) };
  }), "seconds");
}

function renderTable(results) {
  const withSegments = results.filter((r) => r.segments.length);
  const first = withSegments[0];
  if (first) renderResult({ ...first, warnings: [] }); else renderResult({ segments: [], warnings: [] });
  $("raw").textContent = JSON.stringify(results.slice(0, 50), null, 2);
  renderWarnings(results.flatMap((r) => r.warnings).slice(0, 20));
  renderTimeline(results.map((r, i) => {
    const seg = r.segments[0];
    if (!seg) return null;
    const [label, score] = topOf(seg);
    return { start: i + 1, end: i + 2, label, score, valence: seg.vad ? seg.vad.valence : null };
  }).filter(Boolean), "rows");
  renderRows(results);
  $("segments-block").hidden = true; // the rows table has every row's emotion and cues
}

// -- actions ------------------------------------------------------------------------------------

async function analyzeText() {
  const text = $("text").value;
  if (!text.trim()) { showError("Type or paste a text first."); return; }
  showError("");
  busy(true);
  try {
    const labels = $("labels").value;
    if ($("dialogue").checked || $("support").checked) {
      const body = { turns: parseDialogue(text) };
      if (labels) body.labels = labels;
      if ($("support").checked) {
        body.support = true;
        if ($("supporter").value.trim()) body.supporter = $("supporter").value.trim();
      }
      renderResult(await call("POST", "/v1/analyze/dialogue", body));
    } else {
      const body = { text };
      if (labels) body.labels = labels;
      if ($("occlusion").checked) body.cues = "occlusion";
      renderResult(await call("POST", "/v1/analyze/text", body));
    }
  } catch (err) {
    showError(err.message);
  } finally {
    busy(false);
  }
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function runJob(file) {
  const form = new FormData();
  form.append("file", file);
  if ($("column").value.trim()) form.append("column", $("column").value.trim());
  if ($("labels").value) form.append("labels", $("labels").value);
  let job = await call("POST", "/v1/jobs", form, false);
  while (job.status === "queued" || job.status === "running") {
    const p = job.progress;
    showProgress(`job ${job.status}: ${p.done} ${p.unit}` + (p.fraction !== null ? ` (${Math.round(p.fraction * 100)}%)` : ""));
    await sleep(300);
    job = await call("GET", "/v1/jobs/" + job.id);
  }
  showProgress("");
  if (job.status !== "done") throw new Error(`job ${job.status}: ${job.error || ""}`);
  const data = await call("GET", "/v1/jobs/" + job.id + "/result");
  if (job.kind === "table") renderTable(data.results); else renderResult(data.results[0]);
}

// the uploaded image or video, to draw its faces on: the browser's own copy (an object URL), no image comes back
let mediaUrl = null;
function uploadedMedia(file, kind) {
  if (mediaUrl) URL.revokeObjectURL(mediaUrl);
  mediaUrl = ["image", "video"].includes(kind) ? URL.createObjectURL(file) : null;
  return mediaUrl ? { url: mediaUrl, kind } : null;
}

async function analyzeFile() {
  const file = $("file").files[0];
  if (!file) { showError("Choose a file first."); return; }
  showError("");
  busy(true);
  try {
    const name = file.name.toLowerCase();
    if (/\.(txt|md|text)$/.test(name)) {
      $("text").value = await file.text();
      busy(false);
      await analyzeText();
      return;
    }
    if (/\.(csv|tsv|jsonl|ndjson|parquet)$/.test(name)) { await runJob(file); return; }
    const kind = (file.type || "").split("/")[0];
    if (!["audio", "image", "video"].includes(kind)) throw new Error("unsupported file type: " + (file.type || name));
    const form = new FormData();
    form.append("file", file);
    if ($("labels").value) form.append("labels", $("labels").value);
    // a transcript (.srt/.vtt) fuses the words', the voice's and the faces' emotions per turn
    const transcript = $("transcript-file").files[0];
    if (transcript && kind !== "image") form.append("transcript", await transcript.text());
    renderResult(await call("POST", "/v1/analyze/" + kind, form, false), uploadedMedia(file, kind));
  } catch (err) {
    showError(err.message);
  } finally {
    showProgress("");
    busy(false);
  }
}

async function checkReady() {
  const badge = $("status");
  try {
    const response = await fetch("/readyz");
    const data = await response.json();
    badge.textContent = data.ready ? "ready · " + data.model : "not ready: " + (data.error || "loading");
    badge.className = "badge " + (data.ready ? "ok" : "bad");
    if (!data.ready) setTimeout(checkReady, 1500);
  } catch (_) {
    badge.textContent = "offline";
    badge.className = "badge bad";
  }
}

$("analyze").addEventListener("click", analyzeText);
$("upload").addEventListener("click", analyzeFile);
$("text").addEventListener("keydown", (e) => { if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) analyzeText(); });
$("api-key").value = sessionStorage.getItem("affectlens-key") || "";
$("api-key").addEventListener("change", () => sessionStorage.setItem("affectlens-key", $("api-key").value));
checkReady();
