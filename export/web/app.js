// Attribute transfer in the browser (paper Sec. 5.4, Fig. 4): G(mean z(content), mean e(style)) and
// the reference version G(mean z(content), e_r); conditional synthesis (Fig. 3): G(mean z(content), e)
// with e ~ N(0, I); with ONNX Runtime Web on the graphs of `python cli.py export --web`. The page
// opens on the pair the export computed (metadata.json `web.opening`) while its model loads.
// Images are prepared by the rule PREPROCESSING of export/ort_common.py (function `prepare`
// below); metadata.json names it and the page refuses an export whose rule it does not implement.
import * as ort from "./ort/ort.wasm.bundle.min.mjs";

const RULE = "rgb-centre-square-area-resize-round8-v1";
const $ = (id) => document.getElementById(id);

// Read by the browser test (tests/export/test_web.py): inputs, counters, errors.
const state = { meta: null, sessions: {}, samples: [], content: null, style: null, runs: 0, grids: 0,
                error: null, threads: null, lastMs: null, lastResult: null, lastReference: null,
                ready: false, opened: false, generations: 0, seed: 0, lastE: null, lastGenerated: null };
window.rbvae = state;

function setStatus(text, kind) {
  const status = $("status");
  status.textContent = text;
  status.dataset.state = kind;
}

// --- preprocessing: the rule `rgb-centre-square-area-resize-round8-v1` ------------------------

// (nOut, nIn) row-major matrix of an area resize, computed as ort_common.area_matrix does.
function areaMatrix(nIn, nOut) {
  const ratio = nIn / nOut;
  const matrix = new Float64Array(nOut * nIn);
  for (let i = 0; i < nOut; i++) {
    const lo = i * ratio;
    for (let j = 0; j < nIn; j++) {
      const overlap = Math.min(lo + ratio, j + 1) - Math.max(lo, j);
      if (overlap > 0) matrix[i * nIn + j] = overlap / ratio;
    }
  }
  return matrix;
}

// numpy's rint: round half to even.
function rint(x) {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

// RGBA pixels (width x height) -> Float32Array (size * size * 3) in [-1, 1]: the centre square,
// area-resized to `size`, rounded to 8 bits, mapped with x / 127.5 - 1. Alpha is ignored.
export function prepare(rgba, width, height, size) {
  const side = Math.min(width, height);
  const top = Math.floor((height - side) / 2), left = Math.floor((width - side) / 2);
  const resize = areaMatrix(side, size);
  const rows = new Float64Array(size * side * 3);  // resized along the height
  for (let i = 0; i < size; i++) {
    for (let h = 0; h < side; h++) {
      const weight = resize[i * side + h];
      if (weight === 0) continue;
      const source = ((top + h) * width + left) * 4, target = i * side * 3;
      for (let w = 0; w < side; w++) {
        for (let c = 0; c < 3; c++) rows[target + w * 3 + c] += weight * rgba[source + w * 4 + c];
      }
    }
  }
  const out = new Float32Array(size * size * 3);
  for (let i = 0; i < size; i++) {
    for (let j = 0; j < size; j++) {
      for (let c = 0; c < 3; c++) {
        let sum = 0;
        for (let w = 0; w < side; w++) {
          const weight = resize[j * side + w];
          if (weight !== 0) sum += weight * rows[(i * side + w) * 3 + c];
        }
        out[(i * size + j) * 3 + c] = Math.min(255, Math.max(0, rint(sum))) / 127.5 - 1;
      }
    }
  }
  return out;
}

// A File, Blob or URL -> prepared Float32Array, decoded without colour conversion.
async function load(source, size) {
  const blob = typeof source === "string" ? await (await fetch(source)).blob() : source;
  let bitmap;
  try {
    bitmap = await createImageBitmap(blob, { colorSpaceConversion: "none", premultiplyAlpha: "none" });
  } catch (error) {
    throw new Error(`not a readable image: ${source.name || source}`);
  }
  const canvas = document.createElement("canvas");
  canvas.width = bitmap.width;
  canvas.height = bitmap.height;
  const context = canvas.getContext("2d", { willReadFrequently: true });
  context.drawImage(bitmap, 0, 0);
  const pixels = context.getImageData(0, 0, bitmap.width, bitmap.height).data;
  return prepare(pixels, bitmap.width, bitmap.height, size);
}

// --- drawing ----------------------------------------------------------------------------------

// float32 in [-1, 1] -> uint8 as ort_common.to_uint8 (float32 arithmetic, half to even).
function toUint8(value) {
  return Math.min(255, Math.max(0, rint(Math.fround(Math.fround(value + 1) * 127.5))));
}

function tileImage(data, offset, size) {
  const image = new ImageData(size, size);
  for (let p = 0; p < size * size; p++) {
    for (let c = 0; c < 3; c++) image.data[p * 4 + c] = toUint8(data[offset + p * 3 + c]);
    image.data[p * 4 + 3] = 255;
  }
  return image;
}

function drawTile(canvas, data, index = 0) {
  const size = state.meta.image_size;
  canvas.width = canvas.height = size;
  canvas.getContext("2d").putImageData(tileImage(data, index * size * size * 3, size), 0, 0);
}

// A row of `count` tiles of `data`, padded 1 px in black, as make_grid with one row.
function drawRow(canvas, data, count) {
  const size = state.meta.image_size, pad = 1;
  canvas.width = count * (size + pad) + pad;
  canvas.height = size + 2 * pad;
  const context = canvas.getContext("2d");
  context.fillStyle = "#000";
  context.fillRect(0, 0, canvas.width, canvas.height);
  for (let k = 0; k < count; k++) context.putImageData(tileImage(data, k * size * size * 3, size), pad + k * (size + pad), pad);
}

// --- e ~ N(0, I) ------------------------------------------------------------------------------

// mulberry32: a small seeded generator of uniform numbers in [0, 1), so a row can be redrawn.
function uniforms(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// `count` standard normal numbers (Box-Muller) from the seed.
function normals(count, seed) {
  const next = uniforms(seed), out = new Float32Array(count);
  for (let k = 0; k < count; k += 2) {
    const radius = Math.sqrt(-2 * Math.log(1 - next())), angle = 2 * Math.PI * next();
    out[k] = radius * Math.cos(angle);
    if (k + 1 < count) out[k + 1] = radius * Math.sin(angle);
  }
  return out;
}

// --- inference --------------------------------------------------------------------------------

let queue = Promise.resolve();  // one session.run at a time
function serial(job) {
  queue = queue.then(job, job);
  return queue;
}

function tensor(data, batch) {
  const size = state.meta.image_size;
  return new ort.Tensor("float32", data, [batch, size, size, 3]);
}

function concat(arrays) {
  const out = new Float32Array(arrays.reduce((n, a) => n + a.length, 0));
  let offset = 0;
  for (const a of arrays) { out.set(a, offset); offset += a.length; }
  return out;
}

// G(mean z(images), e) for a batch of prepared images and their e (batch x target_dim), or e_r
// for every image when `e` is not given.
async function generate(images, batch, e = null) {
  const z = (await state.sessions.encoder_z.run({ images: tensor(images, batch) })).mean;
  const dims = state.meta.target_dim;
  if (e === null) {
    e = new Float32Array(batch * dims);
    for (let b = 0; b < batch; b++) e.set(state.meta.reference_target, b * dims);
  }
  const feeds = { z, e: new ort.Tensor("float32", e, [batch, dims]) };
  return (await state.sessions.generator.run(feeds)).images.data;
}

const referenceVersion = (images, batch) => generate(images, batch);

function runTransfer() {
  return serial(async () => {
    if (!state.ready || !state.content || !state.style) return;
    setStatus("transferring…", "busy");
    try {
      const started = performance.now();
      const out = await state.sessions.transfer.run({ content: tensor(state.content, 1), style: tensor(state.style, 1) });
      state.lastMs = performance.now() - started;
      state.lastResult = out.images.data;
      state.lastReference = await referenceVersion(state.content, 1);
      drawTile($("result"), state.lastResult);
      drawTile($("reference"), state.lastReference);
      state.runs += 1;
      setStatus(`transfer ${state.runs}: ${state.lastMs.toFixed(1)} ms (ONNX Runtime Web ${state.meta.web.onnxruntime_web}, ` +
                `WebAssembly, ${state.threads} thread${state.threads === 1 ? "" : "s"})`, "done");
    } catch (error) {
      fail(error);
    }
  });
}

// The grid: a header row of style samples; then per content sample: the sample, its reference
// version G(z, e_r) and its transfer to every style sample. Pad 1 px, black, as make_grid.
function drawGrid() {
  return serial(async () => {
    setStatus("drawing the grid…", "busy");
    try {
      const size = state.meta.image_size, n = state.samples.length, pad = 1;
      const content = [], style = [];
      for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) { content.push(state.samples[i]); style.push(state.samples[j]); }
      const started = performance.now();
      const transfers = (await state.sessions.transfer.run({ content: tensor(concat(content), n * n),
                                                             style: tensor(concat(style), n * n) })).images.data;
      const references = await referenceVersion(concat(state.samples), n);
      const ms = performance.now() - started;
      const canvas = $("grid"), context = canvas.getContext("2d");
      canvas.width = (n + 2) * (size + pad) + pad;
      canvas.height = (n + 1) * (size + pad) + pad;
      context.fillStyle = "#000";
      context.fillRect(0, 0, canvas.width, canvas.height);
      const put = (data, index, row, column) =>
        context.putImageData(tileImage(data, index * size * size * 3, size), pad + column * (size + pad), pad + row * (size + pad));
      for (let j = 0; j < n; j++) put(state.samples[j], 0, 0, j + 2);
      for (let i = 0; i < n; i++) {
        put(state.samples[i], 0, i + 1, 0);
        put(references, i, i + 1, 1);
        for (let j = 0; j < n; j++) put(transfers, i * n + j, i + 1, j + 2);
      }
      state.grids += 1;
      setStatus(`grid: ${n * n} transfers and ${n} reference versions in ${ms.toFixed(1)} ms`, "done");
    } catch (error) {
      fail(error);
    }
  });
}

// Conditional synthesis (paper Fig. 3): the content, its reference version G(z, e_r), then
// SAMPLES_E images G(z, e_k) with e_k ~ N(0, I) drawn from `state.seed`; z = mean z(content).
const SAMPLES_E = 8;
function drawGenerations() {
  return serial(async () => {
    if (!state.ready || !state.content) return;
    setStatus("drawing samples of e…", "busy");
    try {
      const size = state.meta.image_size, dims = state.meta.target_dim, n = SAMPLES_E;
      const e = new Float32Array((n + 1) * dims);
      e.set(state.meta.reference_target, 0);
      e.set(normals(n * dims, state.seed), dims);
      const contents = concat(Array.from({ length: n + 1 }, () => state.content));
      const started = performance.now();
      const images = await generate(contents, n + 1, e);
      const ms = performance.now() - started;
      state.lastE = e.slice(dims);
      state.lastGenerated = images;
      const row = new Float32Array((n + 2) * size * size * 3);
      row.set(state.content, 0);
      row.set(images, size * size * 3);
      drawRow($("generations"), row, n + 2);
      state.generations += 1;
      setStatus(`samples ${state.generations} (seed ${state.seed}): ${n} samples of e and the reference version ` +
                `in ${ms.toFixed(1)} ms`, "done");
    } catch (error) {
      fail(error);
    }
  });
}

function resample() {
  state.seed += 1;
  return drawGenerations();
}

// Raw timings for export/bench_web.py: `repeats` calls of the transfer graph on a batch
// of `batch` sample pairs, after one untimed call; milliseconds per call.
state.bench = (batch, repeats) => serial(async () => {
  const pick = (offset) => concat(Array.from({ length: batch }, (_, k) => state.samples[(k + offset) % state.samples.length]));
  const feeds = { content: tensor(pick(0), batch), style: tensor(pick(1), batch) };
  await state.sessions.transfer.run(feeds);
  const times = [];
  for (let r = 0; r < repeats; r++) {
    const started = performance.now();
    await state.sessions.transfer.run(feeds);
    times.push(performance.now() - started);
  }
  return times;
});

function fail(error) {
  state.error = String(error && error.message || error);
  setStatus(`error: ${state.error}`, "error");
}

// --- page -------------------------------------------------------------------------------------

// Marks sample `index` (null: none, a file was chosen) in the strips of `slot`; the content's
// strips are those of the Transfer and the Samples view.
function mark(slot, index) {
  for (const strip of slot === "content" ? ["content", "generate"] : [slot]) {
    for (const button of $(`${strip}-samples`).children) button.classList.toggle("chosen", Number(button.dataset.index) === index);
  }
}

// A new content or style image (sample `index`, or null for a file): drawn, marked and run.
function choose(slot, data, index) {
  state[slot] = data;
  drawTile($(slot), data);
  mark(slot, index);
  if (!state.ready) {  // not the opening pair any more: its result is drawn once the model is ready
    for (const canvas of ["result", "reference"]) $(canvas).getContext("2d").clearRect(0, 0, $(canvas).width, $(canvas).height);
    setStatus("loading the model to run it in this page…", "opening");
  }
  runTransfer();
  if (slot === "content" && state.generations > 0) drawGenerations();  // the same e, the new z
}

function sampleButtons(strip, slot) {
  state.meta.web.samples.forEach((file, k) => {
    const button = document.createElement("button");
    button.type = "button";
    button.dataset.index = k;
    button.title = file;
    const img = document.createElement("img");
    img.src = file;
    img.alt = `sample ${k}`;
    button.append(img);
    button.addEventListener("click", () => choose(slot, state.samples[k], k));
    $(`${strip}-samples`).append(button);
  });
}

function wireSlot(slot) {
  const size = state.meta.image_size;
  const fromFile = async (file) => {
    try {
      choose(slot, await load(file, size), null);
    } catch (error) {
      fail(error);
    }
  };
  $(`${slot}-file`).addEventListener("change", (event) => event.target.files[0] && fromFile(event.target.files[0]));
  const figure = $(`${slot}-slot`);
  figure.addEventListener("dragover", (event) => { event.preventDefault(); figure.classList.add("dragging"); });
  figure.addEventListener("dragleave", () => figure.classList.remove("dragging"));
  figure.addEventListener("drop", (event) => {
    event.preventDefault();
    figure.classList.remove("dragging");
    if (event.dataTransfer.files[0]) fromFile(event.dataTransfer.files[0]);
  });
  sampleButtons(slot, slot);
}

const VIEWS = ["transfer", "generate", "grid"];
let shown = "transfer";
function showView(name) {
  shown = name;
  for (const view of VIEWS) {
    $(`view-${view}`).hidden = view !== name;
    $(`tab-${view}`).classList.toggle("active", view === name);
  }
  if (name === "grid" && state.grids === 0) drawGrid();
  if (name === "generate" && state.generations === 0) drawGenerations();
}

// Before the model has loaded: the export's opening pair, its transfer and reference version.
async function showOpening(meta) {
  const opening = meta.web.opening, size = meta.image_size;
  const [result, reference] = await Promise.all([load(opening.transfer, size), load(opening.reference, size)]);
  state.content = state.samples[opening.content];
  state.style = state.samples[opening.style];
  for (const slot of ["content", "style"]) {
    drawTile($(slot), state[slot]);
    mark(slot, opening[slot]);
  }
  drawTile($("result"), result);
  drawTile($("reference"), reference);
  state.opened = true;
  setStatus(`sample ${opening.content + 1} with the style of sample ${opening.style + 1}, computed at export; ` +
            "loading the model to run it in this page…", "opening");
}

async function main() {
  try {
    const meta = await (await fetch("metadata.json")).json();
    state.meta = meta;
    $("rule").textContent = meta.preprocessing;
    if (meta.preprocessing !== RULE) throw new Error(`this page implements the preprocessing ${RULE}, the export asks for ${meta.preprocessing}`);
    $("model").textContent = `${meta.model}${meta.preset ? ` (${meta.preset} preset)` : ""}: ${meta.image_size} px, ` +
      `e ${meta.target_dim} / z ${meta.common_dim} dims`;
    state.samples = await Promise.all(meta.web.samples.map((file) => load(file, meta.image_size)));
    wireSlot("content");
    wireSlot("style");
    sampleButtons("generate", "content");
    for (const view of VIEWS) $(`tab-${view}`).addEventListener("click", () => showView(view));
    $("resample").addEventListener("click", resample);
    await showOpening(meta);

    const asked = new URLSearchParams(location.search).get("threads");
    state.threads = asked ? Math.max(1, parseInt(asked, 10) || 1) : meta.web.wasm_threads;
    ort.env.wasm.numThreads = state.threads;
    // The bundle carries its JavaScript glue; only the .wasm file is fetched, from ort/.
    ort.env.wasm.wasmPaths = { wasm: new URL("ort/ort-wasm-simd-threaded.wasm", location.href).href };
    const options = { executionProviders: ["wasm"], graphOptimizationLevel: "all" };
    for (const [name, file] of Object.entries(meta.web.graphs)) {
      state.sessions[name] = await ort.InferenceSession.create(file, options);
    }
    state.threads = ort.env.wasm.numThreads;  // ORT falls back to 1 without cross-origin isolation
    state.ready = true;
    runTransfer();  // the current pair (the opening one, or what was chosen meanwhile), now in this page
    if (shown === "generate") drawGenerations();
    if (shown === "grid") drawGrid();
    await queue;
    document.body.dataset.ready = "true";
  } catch (error) {
    fail(error);
  }
}

main();
