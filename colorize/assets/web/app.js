// colorize's page: drop or pick photos, each is sent to POST /api/colorize one at a time
// (the server runs the model one photo at a time anyway), shown gray | colour with a
// divider, and offered as a full-resolution PNG download. No libraries, no build step.
"use strict";

const state = {
  maxBytes: 40e6,
  renderSizes: [192, 256, 384, 512, 768, 1024],
  defaultRenderSize: 192,
  fixedSize: null,
  queue: [],
  busy: false,
};

const $ = (selector, root = document) => root.querySelector(selector);
const SLIDER_STEP = 5; // percent per arrow key (PageUp / PageDown: four steps)

function sizeLabel(size) {
  const names = { 256: "standard", 384: "finer", 512: "fine", 768: "very fine", 1024: "finest" };
  const name = names[size] ? ` (${names[size]})` : "";
  return `${size} px${name}`;
}

function fillRenderSizes(select, chosen) {
  select.textContent = "";
  if (state.fixedSize) {
    select.append(new Option(`${state.fixedSize} px (this model's size)`, "default"));
    select.disabled = true;
    return;
  }
  const sizes = [...new Set([state.defaultRenderSize, ...state.renderSizes])].sort((a, b) => a - b);
  for (const size of sizes) {
    const option = new Option(sizeLabel(size), String(size));
    option.selected = String(size) === String(chosen);
    select.append(option);
  }
}

function megabytes(bytes) {
  return `${(bytes / 1e6).toFixed(bytes < 1e7 ? 1 : 0)} MB`;
}

function colorizedName(name) {
  const dot = name.lastIndexOf(".");
  return `${dot > 0 ? name.slice(0, dot) : name}_colorized.png`;
}

function addPhoto(file) {
  const card = $("#card-template").content.firstElementChild.cloneNode(true);
  const item = {
    file, card, renderSize: $("#render-size").value, strength: $("#strength").value,
    faces: $("#faces").checked, resultUrl: null,
  };
  const originalUrl = URL.createObjectURL(file);
  $(".name", card).textContent = file.name;
  $(".name", card).title = file.name;

  const compare = $(".compare", card);
  const before = $(".before", card);
  before.addEventListener("load", () => {
    compare.hidden = false;
    if (!item.resultUrl) $(".size", card).textContent = `${before.naturalWidth} × ${before.naturalHeight} px`;
  });
  // Browsers cannot show every format (TIFF): the result's own gray then stands in.
  before.addEventListener("error", () => {
    if (item.resultUrl && before.src !== item.resultUrl) before.src = item.resultUrl;
  });
  before.src = originalUrl;

  const slider = $(".slider", card);
  const moveDivider = () => compare.style.setProperty("--pos", `${slider.value}%`);
  slider.addEventListener("input", moveDivider);
  // Dragging is smooth (step "any"); keys move in steps of a few percent, Home / End to the ends.
  slider.addEventListener("keydown", (event) => {
    const value = Number(slider.value);
    const moves = {
      ArrowLeft: value - SLIDER_STEP, ArrowDown: value - SLIDER_STEP,
      ArrowRight: value + SLIDER_STEP, ArrowUp: value + SLIDER_STEP,
      PageDown: value - 4 * SLIDER_STEP, PageUp: value + 4 * SLIDER_STEP,
      Home: 0, End: 100,
    };
    if (!(event.key in moves)) return;
    event.preventDefault();
    slider.value = String(Math.min(100, Math.max(0, moves[event.key])));
    moveDivider();
  });

  const select = $(".card-render-size", card);
  fillRenderSizes(select, item.renderSize);
  select.addEventListener("change", () => {
    item.renderSize = select.value;
    enqueue(item);
  });

  $("#results").prepend(card);
  if (file.size > state.maxBytes) {
    fail(item, `This file is ${megabytes(file.size)}; the limit is ${megabytes(state.maxBytes)}.`);
    return;
  }
  enqueue(item);
}

function setStatus(item, text) {
  $(".status", item.card).textContent = text;
}

function fail(item, message) {
  $(".download", item.card).hidden = true; // no result, nothing to download
  item.card.classList.add("failed");
  item.card.classList.remove("working");
  setStatus(item, "Failed");
  $(".progress", item.card).hidden = true;
  const error = $(".error", item.card);
  error.textContent = message;
  error.hidden = false;
}

function enqueue(item) {
  if (state.queue.includes(item)) return;
  item.card.classList.remove("failed", "done");
  item.card.classList.add("working");
  $(".error", item.card).hidden = true;
  $(".download", item.card).hidden = true; // until this render's result exists
  $(".card-render-size", item.card).disabled = true;
  setStatus(item, "Waiting…");
  state.queue.push(item);
  next();
}

function next() {
  if (state.busy || state.queue.length === 0) return;
  state.busy = true;
  const item = state.queue.shift();
  colorize(item).finally(() => {
    $(".card-render-size", item.card).disabled = Boolean(state.fixedSize);
    state.busy = false;
    next();
  });
}

function colorize(item) {
  return new Promise((resolve) => {
    const progress = $(".progress", item.card);
    const bar = $(".bar", progress);
    progress.hidden = false;
    progress.classList.remove("busy");
    bar.style.width = "0%";
    setStatus(item, "Uploading…");

    const body = new FormData();
    body.append("image", item.file, item.file.name);
    if (item.renderSize && item.renderSize !== "default") body.append("render_size", item.renderSize);
    if (item.strength) body.append("strength", item.strength);
    body.append("faces", item.faces ? "on" : "off");

    const request = new XMLHttpRequest();
    request.open("POST", "/api/colorize");
    request.responseType = "blob";
    request.upload.addEventListener("progress", (event) => {
      if (event.lengthComputable) bar.style.width = `${(100 * event.loaded) / event.total}%`;
    });
    request.upload.addEventListener("load", () => {
      bar.style.width = "";
      progress.classList.add("busy");
      setStatus(item, "Colorizing…");
    });
    request.addEventListener("load", async () => {
      if (request.status === 200) {
        show(item, request.response);
      } else {
        fail(item, await errorMessage(request));
      }
      resolve();
    });
    request.addEventListener("error", () => {
      fail(item, "Could not reach the colorize server. Is `colorize serve` still running?");
      resolve();
    });
    request.send(body);
  });
}

async function errorMessage(request) {
  let message = `The server answered ${request.status}.`;
  try {
    const parsed = JSON.parse(await request.response.text());
    if (parsed.error) message = parsed.error;
  } catch (ignored) {
    // not JSON: keep the status line
  }
  if (request.status === 413) return `Too large: ${message}`;
  if (request.status === 415) return `Not an image this tool can read: ${message}`;
  return message;
}

function show(item, blob) {
  const card = item.card;
  if (item.resultUrl) URL.revokeObjectURL(item.resultUrl);
  item.resultUrl = URL.createObjectURL(blob);
  const after = $(".after", card);
  after.addEventListener(
    "load",
    () => {
      $(".size", card).textContent = `${after.naturalWidth} × ${after.naturalHeight} px`;
      card.classList.remove("working");
      card.classList.add("done");
      $(".compare", card).classList.add("has-colour");
      $(".compare", card).hidden = false;
      $(".download", card).hidden = false; // the result exists: offer it
      setStatus(item, "Done");
    },
    { once: true },
  );
  after.src = item.resultUrl;
  const before = $(".before", card);
  if (before.complete && before.naturalWidth === 0) before.src = item.resultUrl; // unreadable original
  $(".progress", card).hidden = true;
  const download = $(".download", card);
  download.href = item.resultUrl;
  download.download = colorizedName(item.file.name);
}

function addFiles(files) {
  for (const file of files) addPhoto(file);
}

async function loadSettings() {
  try {
    const health = await (await fetch("/api/health")).json();
    state.maxBytes = health.max_upload_mb * 1e6;
    state.renderSizes = health.render_sizes;
    state.defaultRenderSize = health.default_render_size;
    state.fixedSize = health.fixed_size;
    state.strengths = health.strengths;
    state.faces = health.faces;
    $("#limit").textContent = String(health.max_upload_mb);
    $("#model").textContent = `Model: ${health.model} (${health.model_file}) · colorize ${health.version}`;
  } catch (error) {
    $("#model").textContent = "Could not read the server's settings; using the defaults.";
  }
  fillRenderSizes($("#render-size"), state.defaultRenderSize);
  fillStrengths($("#strength"), state.strengths || {});
  if (typeof state.faces === "boolean") $("#faces").checked = state.faces;
}

// The bundled model's presets (natural / default / vivid) as a colour-strength choice;
// hidden for a model without the control.
function fillStrengths(select, strengths) {
  select.textContent = "";
  for (const [name, strength] of Object.entries(strengths)) {
    const option = new Option(name, String(strength));
    option.selected = name === "default";
    select.append(option);
  }
  $("#strength-choice").hidden = select.options.length === 0;
}

document.addEventListener("DOMContentLoaded", () => {
  const drop = $("#drop");
  const input = $("#files");
  input.addEventListener("change", () => {
    addFiles(input.files);
    input.value = "";
  });
  drop.addEventListener("keydown", (event) => {
    if (event.key === "Enter" || event.key === " ") input.click();
  });
  // The whole window takes dropped photos (and never navigates away to show one).
  window.addEventListener("dragover", (event) => {
    event.preventDefault();
    drop.classList.add("over");
  });
  window.addEventListener("dragleave", (event) => {
    if (!event.relatedTarget) drop.classList.remove("over");
  });
  window.addEventListener("drop", (event) => {
    event.preventDefault();
    drop.classList.remove("over");
    if (event.dataTransfer && event.dataTransfer.files.length) addFiles(event.dataTransfer.files);
  });
  loadSettings();
});
