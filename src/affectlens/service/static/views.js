// affectlens web page: the views that render what the CLI shows besides the bars, the VAD plane and the cue words
// (app.js): faces drawn over the uploaded image or video frame (as `analyze --annotate`), the timeline's legend,
// one row per tracked face (as `--tracks`), the transcript with its words and modalities (media with a transcript
// or `--words`), and every segment with its cues (as the CLI's tables).  Plain JS, loaded before app.js; the
// helpers it uses ($, el, svg, colorOf, topOf) live there.  User text only ever goes in through textContent.
"use strict";

// one colour per face track (vision/annotate.py's palette), so a box, its row and its timeline lane match
const TRACK_COLORS = ["#e6194b", "#3cb44b", "#0082c8", "#f58230", "#911eb4", "#46f0f0"];
function trackColor(seg, n) {
  return TRACK_COLORS[(typeof seg.track_id === "number" ? seg.track_id : n) % TRACK_COLORS.length];
}

// seconds as m:ss.ss (h:mm:ss.ss past an hour), as timeline.py's table
function clock(seconds) {
  if (typeof seconds !== "number") return "—";
  const minutes = Math.floor(seconds / 60), rest = seconds - 60 * minutes;
  const hours = Math.floor(minutes / 60), mm = minutes % 60, ss = rest.toFixed(2).padStart(5, "0");
  return hours ? `${hours}:${String(mm).padStart(2, "0")}:${ss}` : `${minutes}:${ss}`;
}

// the strongest cue (by |value| for prosody z-scores, else |weight|), as timeline.main_cue
function mainCue(seg) {
  let best = null, strength = -1;
  for (const cue of seg.cues || []) {
    const s = Math.abs(typeof cue.value === "number" ? cue.value : cue.weight);
    if (s > strength) { best = cue; strength = s; }
  }
  return best;
}

// -- faces over the image or the video frame (analyze --annotate) -------------------------------

// a face's (x, y, w, h) box in the image's pixels, as the face recognizers write it
function boxOf(seg) {
  return seg.extras && Array.isArray(seg.extras.box) && seg.extras.box.length === 4 ? seg.extras.box : null;
}

// the faces to draw: all of an image's; for a video the sampled frame with the most faces (the first such one)
function facesToDraw(segments) {
  const frames = new Map();
  for (const seg of segments.filter(boxOf)) {
    const key = seg.extras.frame !== undefined ? seg.extras.frame : seg.start;
    if (!frames.has(key)) frames.set(key, []);
    frames.get(key).push(seg);
  }
  let best = [];
  for (const faces of frames.values()) if (faces.length > best.length) best = faces;
  return best;
}

// boxes, "[track] label score" and the main cue over the picture; `media` = {url, kind} of the upload (or null:
// the boxes are drawn on a blank frame as large as they need)
function renderFaces(segments, media) {
  const block = $("faces-block"), box = $("faces");
  box.replaceChildren();
  const faces = facesToDraw(segments);
  block.hidden = faces.length === 0;
  if (!faces.length) return;
  const width = Math.max(...faces.map((s) => boxOf(s)[0] + boxOf(s)[2])) + 20;
  const height = Math.max(...faces.map((s) => boxOf(s)[1] + boxOf(s)[3])) + 20;
  const picture = svg("svg", { id: "faces-svg", viewBox: `0 0 ${width} ${height}`, width: "100%", role: "img",
                               "aria-label": "faces found, with their emotions" });
  picture.append(svg("rect", { class: "backdrop", x: 0, y: 0, width: "100%", height: "100%", fill: "#e5e7eb" }));
  const overlay = svg("g", { class: "faces" });
  faces.forEach((seg, n) => overlay.append(faceMark(seg, n, Math.max(width, height))));
  picture.append(overlay);
  box.append(picture);
  const frameTime = typeof faces[0].start === "number" ? faces[0].start : 0;
  if (media && media.url) drawBehind(picture, media, frameTime, (w, h) => {
    picture.setAttribute("viewBox", `0 0 ${w} ${h}`);
    overlay.replaceChildren(...faces.map((seg, n) => faceMark(seg, n, Math.max(w, h))));
  });
  const what = media && media.kind === "video" ? `the frame at ${clock(frameTime)} (the one with the most faces)`
    : "the image";
  box.append(el("p", { class: "muted" }, `${faces.length} face(s) in ${what}: box, track, top emotion and main cue`));
}

function faceMark(seg, n, size) {
  const [x, y, w, h] = boxOf(seg);
  const color = trackColor(seg, n), [label, score] = topOf(seg), font = Math.max(6, Math.round(size / 40));
  const group = svg("g", { class: "face", "data-label": label, "data-track": seg.track_id ?? "" });
  group.append(svg("rect", { x, y, width: w, height: h, fill: "none", stroke: color,
                             "stroke-width": Math.max(2, size / 300) }));
  const who = typeof seg.track_id === "number" ? `#${seg.track_id} ` : "";
  const lines = [`${who}${label} ${score.toFixed(2)}`];
  const cue = mainCue(seg);
  if (cue) lines.push(cue.phrase);
  const above = y > font * 1.4 * lines.length + 4;
  lines.forEach((text, i) => {
    const ty = above ? y - 6 - (lines.length - 1 - i) * font * 1.3 : y + h + (i + 1) * font * 1.3;
    const chars = text.length * font * 0.58 + 6;
    group.append(svg("rect", { x, y: ty - font, width: chars, height: font * 1.25, fill: color, opacity: 0.85 }));
    group.append(svg("text", { class: i ? "face-cue" : "face-label", x: x + 3, y: ty, fill: "#fff",
                               style: `fill:#fff;font-size:${i ? font * 0.85 : font}px` }, text));
  });
  return group;
}

// the uploaded picture (or the video's frame at `time`) behind the boxes, at its natural pixel size
function drawBehind(picture, media, time, sized) {
  const place = (href, w, h) => {
    sized(w, h);
    const image = svg("image", { href, x: 0, y: 0, width: w, height: h });
    picture.querySelector(".backdrop").replaceWith(image);
  };
  if (media.kind === "video") {
    const video = document.createElement("video");
    video.muted = true;
    video.preload = "auto";
    video.addEventListener("loadeddata", () => {
      video.currentTime = Math.min(time, video.duration || time);
    }, { once: true });
    video.addEventListener("seeked", () => {
      const canvas = document.createElement("canvas");
      canvas.width = video.videoWidth;
      canvas.height = video.videoHeight;
      canvas.getContext("2d").drawImage(video, 0, 0);
      place(canvas.toDataURL("image/jpeg", 0.85), canvas.width, canvas.height);
    }, { once: true });
    video.src = media.url;
  } else {
    const image = new Image();
    image.addEventListener("load", () => place(media.url, image.naturalWidth, image.naturalHeight), { once: true });
    image.src = media.url;
  }
}

// -- the timeline's legend: which colour is which emotion ---------------------------------------

function renderLegend(labels) {
  const box = $("timeline-legend");
  box.replaceChildren();
  for (const label of [...new Set(labels)]) {
    const item = el("span", { class: "legend-item", "data-label": label });
    const swatch = el("span", { class: "swatch" });
    swatch.style.background = colorOf(label);
    item.append(swatch, document.createTextNode(label));
    box.append(item);
  }
}

// -- one row per tracked face (analyze --tracks; vision/tracks.track_summaries) -----------------

function trackSummaries(segments) {
  const groups = new Map();
  for (const seg of segments) {
    if (typeof seg.track_id !== "number") continue;
    if (!groups.has(seg.track_id)) groups.set(seg.track_id, []);
    groups.get(seg.track_id).push(seg);
  }
  return [...groups.entries()].map(([track, segs]) => {
    const mean = {};
    for (const label of Object.keys(segs[0].scores)) {
      mean[label] = segs.reduce((sum, s) => sum + (s.scores[label] || 0), 0) / segs.length;
    }
    const top = Object.keys(mean).reduce((a, b) => (mean[b] > mean[a] ? b : a));
    const vads = segs.filter((s) => s.vad).map((s) => s.vad);
    const avg = (key) => (vads.length ? vads.reduce((sum, v) => sum + v[key], 0) / vads.length : null);
    const starts = segs.filter((s) => typeof s.start === "number").map((s) => s.start);
    const ends = segs.map((s) => (typeof s.end === "number" ? s.end : s.start)).filter((t) => typeof t === "number");
    return { track, first: starts.length ? Math.min(...starts) : null, last: ends.length ? Math.max(...ends) : null,
             faces: segs.length, top, score: mean[top],
             share: segs.filter((s) => topOf(s)[0] === top).length / segs.length,
             valence: avg("valence"), arousal: avg("arousal") };
  });
}

function renderTracks(segments) {
  const block = $("tracks-block"), box = $("tracks");
  box.replaceChildren();
  const rows = trackSummaries(segments);
  block.hidden = rows.length === 0;
  if (!rows.length) return;
  const table = el("table", { class: "rows", id: "tracks-table" });
  const head = el("tr");
  for (const name of ["track", "first seen", "last seen", "faces", "dominant emotion", "share", "valence", "arousal"]) {
    head.append(el("th", {}, name));
  }
  table.append(head);
  const fixed = (v) => (v === null ? "—" : v.toFixed(2));
  for (const row of rows) {
    const tr = el("tr", { "data-track": row.track });
    const id = el("td", {}, "#" + row.track);
    id.style.borderLeft = "4px solid " + TRACK_COLORS[row.track % TRACK_COLORS.length];
    tr.append(id, el("td", {}, clock(row.first)), el("td", {}, clock(row.last)), el("td", {}, String(row.faces)),
              chipCell(row.top, row.score), el("td", {}, Math.round(row.share * 100) + "%"),
              el("td", {}, fixed(row.valence)), el("td", {}, fixed(row.arousal)));
    table.append(tr);
  }
  box.append(table);
}

function chipCell(label, score) {
  const cell = el("td");
  const chip = el("span", { class: "chip", "data-label": label }, `${label} ${score.toFixed(2)}`);
  chip.style.background = colorOf(label) + "55";
  cell.append(chip);
  return cell;
}

// -- the transcript of a media file: times, speaker, words, and each modality's own emotion ------

// "text 0.81 joy · speech 0.64 anger · disagreement 0.31" for a fused segment
function modalitiesLine(seg) {
  const extras = seg.extras || {};
  const parts = Object.entries(extras.modalities || {}).map(([name, own]) => {
    const [label, score] = topOf(own);
    return `${name}: ${label} ${score.toFixed(2)}`;
  });
  if (typeof extras.disagreement === "number") parts.push(`disagreement ${extras.disagreement.toFixed(2)}`);
  if ((extras.missing || []).length) parts.push("missing: " + extras.missing.join(", "));
  return parts.length ? el("div", { class: "modalities" }, parts.join(" · ")) : null;
}

// the segment's words, each with its time (and ASR probability) in its tooltip; else its text with cue words
function wordsInto(box, seg) {
  const words = (seg.extras && seg.extras.words) || [];
  if (!words.length) { highlightInto(box, seg); return; }
  words.forEach((w, i) => {
    if (i) box.append(document.createTextNode(" "));
    const sure = typeof w.probability === "number" ? ` p=${w.probability.toFixed(2)}` : "";
    const tip = `${clock(w.start)}–${clock(w.end)}${sure}`;
    box.append(el("span", { class: "word", title: tip }, String(w.word).trim()));
  });
}

function renderTranscript(segments) {
  const block = $("transcript-block"), list = $("transcript");
  list.replaceChildren();
  // turns of a dialogue are in the dialogue view; here: timed stretches of a recording that have words
  const lines = segments.filter((s) => typeof s.turn !== "number" && typeof s.start === "number" &&
                                       (s.text || ((s.extras || {}).words || []).length));
  block.hidden = lines.length === 0;
  for (const seg of lines) {
    const [label, score] = topOf(seg);
    const item = el("li", { "data-label": label });
    item.style.borderLeftColor = colorOf(label);
    const head = el("div", { class: "turn-head" });
    head.append(el("span", { class: "muted" }, `${clock(seg.start)}–${clock(seg.end)}`));
    if (seg.speaker) head.append(el("span", { class: "speaker" }, seg.speaker));
    const chip = el("span", { class: "chip" }, `${label} ${score.toFixed(2)}`);
    chip.style.background = colorOf(label) + "55";
    head.append(chip);
    const body = el("p", { class: "turn-text" });
    wordsInto(body, seg);
    item.append(head, body);
    const modalities = modalitiesLine(seg);
    if (modalities) item.append(modalities);
    list.append(item);
  }
}

// -- every segment with its emotions and cues (the CLI's table / timeline table) -----------------

function whereOf(seg, result, n) {
  if (typeof seg.turn === "number") return `turn ${seg.turn}` + (seg.speaker ? ` ${seg.speaker}` : "");
  if (typeof seg.start === "number") return `${clock(seg.start)}–${clock(seg.end)}`;
  return seg.record_id || result.record_id || `#${n + 1}`;
}

function renderSegments(result) {
  const block = $("segments-block"), box = $("segments");
  box.replaceChildren();
  const segments = result.segments || [];
  block.hidden = segments.length === 0;
  if (!segments.length) return;
  const tracked = segments.some((s) => typeof s.track_id === "number");
  const table = el("table", { class: "rows", id: "segments-table" });
  const head = el("tr");
  const names = ["where", ...(tracked ? ["track"] : []), "modality", "emotions", "valence", "arousal", "conf", "cues"];
  for (const name of names) head.append(el("th", {}, name));
  table.append(head);
  segments.slice(0, 500).forEach((seg, n) => {
    const tr = el("tr", { class: "segment-row" });
    tr.append(el("td", {}, whereOf(seg, result, n)));
    if (tracked) tr.append(el("td", {}, typeof seg.track_id === "number" ? "#" + seg.track_id : "—"));
    tr.append(el("td", {}, seg.modality));
    const emotions = el("td");
    for (const [label, score] of Object.entries(seg.scores).sort((a, b) => b[1] - a[1]).slice(0, 3)) {
      const predicted = seg.labels.includes(label);
      const line = el("div", { class: predicted ? "predicted" : "muted" }, `${label} ${score.toFixed(2)}`);
      line.style.color = predicted ? colorOf(label) : "";
      emotions.append(line);
    }
    tr.append(emotions);
    const vad = seg.vad;
    tr.append(el("td", {}, vad ? vad.valence.toFixed(2) : "—"), el("td", {}, vad ? vad.arousal.toFixed(2) : "—"),
              el("td", {}, seg.confidence.toFixed(2)), cuesCell(seg));
    table.append(tr);
  });
  box.append(table);
  if (segments.length > 500) {
    box.append(el("p", { class: "muted" }, `first 500 of ${segments.length} segments (all in the JSON)`));
  }
}

// a cue's kind, weight and where it points: a time range, a face region (x, y, w, h), a turn, a z-score
function cueWhere(cue) {
  const parts = [cue.kind, "weight " + cue.weight.toFixed(2)];
  if (Array.isArray(cue.time)) parts.push(`${clock(cue.time[0])}–${clock(cue.time[1])}`);
  if (Array.isArray(cue.region)) parts.push("region " + cue.region.join(","));
  if (typeof cue.turn === "number") parts.push("turn " + cue.turn);
  if (typeof cue.value === "number") parts.push("value " + cue.value.toFixed(2));
  return parts.join(" · ");
}

// the strongest supporting cues (up to 3, as the CLI's cues column), else the main cue of any sign
function cuesCell(seg) {
  const cell = el("td", { class: "cues" });
  const positive = (seg.cues || []).filter((c) => c.weight > 0).sort((a, b) => b.weight - a.weight).slice(0, 3);
  const main = mainCue(seg);
  const shown = positive.length ? positive : main ? [main] : [];
  for (const cue of shown) {
    const line = el("div", { class: "cue-line", "data-kind": cue.kind, title: cueWhere(cue) }, cue.phrase);
    if (cue.label) line.style.borderLeft = "3px solid " + colorOf(cue.label);
    cell.append(line);
  }
  return cell;
}
