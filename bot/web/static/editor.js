// The mask editor. The mask is one byte per image pixel (1 = change) at the image's full resolution;
// every tool writes that array directly, so the exported PNG is pure black/white (black = change)
// whatever the zoom. The pink overlay is only a view of it. No framework, no build step.
"use strict";

(() => {
  // relative to the page (…/e/<token>), so the editor also works behind a proxy under a path prefix
  const page = location.pathname.replace(/\/+$/, "");
  const api = (path) => `${page}/${path}`;
  const $ = (id) => document.getElementById(id);
  const surface = $("surface"), layers = $("layers"), photo = $("photo"), overlay = $("overlay");
  const photoCtx = photo.getContext("2d", { willReadFrequently: true });
  const overlayCtx = overlay.getContext("2d");
  const status = $("status"), promptBox = $("prompt");
  const TINT = [255, 0, 255, 115];
  // the page's sentences, in the draft's language (the server fills them in; see editor_routes.py)
  const TEXTS = JSON.parse($("texts").textContent);
  const LANG = document.documentElement.lang || "en-US";
  const t = (id, values = {}) => TEXTS[id].replace(/\{(\w+)\}/g, (_, name) => String(values[name] ?? ""));
  const HEADERS = { "Accept-Language": LANG }; // so the server answers errors in the page's language
  const UNDO_BYTES = 256 * 1024 * 1024;

  let W = 0, H = 0, mask = null, pixels = null;
  let tool = "brush", scale = 1, tx = 0, ty = 0, spaceHeld = false, done = false;
  let undoStack = [], redoStack = [], undoBytes = 0;
  let op = null; // the gesture in progress
  const pointers = new Map(); // pointerId -> {x, y} in surface coordinates

  // --- status ------------------------------------------------------------------------------------

  function say(text, kind) {
    status.textContent = text;
    status.className = kind || "";
  }

  async function errorOf(response) {
    try {
      const body = await response.json();
      return body.message || t("web-error-status", { status: response.status });
    } catch (e) {
      return t("web-error-status", { status: response.status });
    }
  }

  // --- start -------------------------------------------------------------------------------------

  async function init() {
    const response = await fetch(api("draft"), { cache: "no-store", headers: HEADERS });
    if (!response.ok) {
      fail(await errorOf(response));
      return;
    }
    const draft = await response.json();
    W = draft.width;
    H = draft.height;
    promptBox.value = draft.prompt;
    for (const canvas of [photo, overlay]) {
      canvas.width = W;
      canvas.height = H;
    }
    layers.style.width = `${W}px`;
    layers.style.height = `${H}px`;
    $("guide").setAttribute("viewBox", `0 0 ${W} ${H}`);
    const image = new Image();
    image.src = api("image");
    await image.decode();
    photoCtx.drawImage(image, 0, 0, W, H);
    mask = new Uint8Array(W * H);
    if (draft.has_mask) await loadMask();
    fit();
    render(0, 0, W, H);
    updateButtons();
    const until = new Date(draft.expires_at).toLocaleTimeString(LANG, { hour: "2-digit", minute: "2-digit" });
    say(t("web-link-until", { until }));
    document.body.dataset.ready = "1";
  }

  async function loadMask() {
    const response = await fetch(api("mask"), { cache: "no-store", headers: HEADERS });
    if (response.status !== 200) return;
    const image = new Image();
    image.src = URL.createObjectURL(await response.blob());
    await image.decode();
    const canvas = document.createElement("canvas");
    canvas.width = W;
    canvas.height = H;
    const ctx = canvas.getContext("2d");
    ctx.drawImage(image, 0, 0, W, H);
    const data = ctx.getImageData(0, 0, W, H).data;
    for (let i = 0; i < W * H; i++) mask[i] = data[i * 4] < 128 ? 1 : 0;
    URL.revokeObjectURL(image.src);
  }

  function fail(text) {
    done = true;
    say(text, "error");
    for (const button of document.querySelectorAll("button")) button.disabled = true;
  }

  // --- view: zoom and pan ------------------------------------------------------------------------

  function applyView() {
    layers.style.transform = `translate(${tx}px, ${ty}px) scale(${scale})`;
    layers.classList.toggle("pixels", scale >= 2);
  }

  function fit() {
    const box = surface.getBoundingClientRect();
    scale = Math.min(box.width / W, box.height / H);
    tx = (box.width - W * scale) / 2;
    ty = (box.height - H * scale) / 2;
    applyView();
  }

  function zoomAt(factor, cx, cy) {
    const box = surface.getBoundingClientRect();
    const least = Math.min(box.width / W, box.height / H) / 2;
    const next = Math.min(32, Math.max(least, scale * factor));
    tx = cx - (cx - tx) * (next / scale);
    ty = cy - (cy - ty) * (next / scale);
    scale = next;
    applyView();
  }

  function zoomCentre(factor) {
    const box = surface.getBoundingClientRect();
    zoomAt(factor, box.width / 2, box.height / 2);
  }

  // --- coordinates -------------------------------------------------------------------------------

  function local(event) {
    const box = surface.getBoundingClientRect();
    return { x: event.clientX - box.left, y: event.clientY - box.top };
  }

  function toImage(event) {
    const box = overlay.getBoundingClientRect();
    return { x: ((event.clientX - box.left) * W) / box.width, y: ((event.clientY - box.top) * H) / box.height };
  }

  function brushRadius() {
    const box = overlay.getBoundingClientRect();
    return Math.max(0.5, ((Number($("size").value) / 2) * W) / box.width); // size is in screen pixels
  }

  // --- drawing on the mask -----------------------------------------------------------------------

  function grow(bounds, x0, y0, x1, y1) {
    bounds.x0 = Math.max(0, Math.min(bounds.x0, Math.floor(x0)));
    bounds.y0 = Math.max(0, Math.min(bounds.y0, Math.floor(y0)));
    bounds.x1 = Math.min(W, Math.max(bounds.x1, Math.ceil(x1)));
    bounds.y1 = Math.min(H, Math.max(bounds.y1, Math.ceil(y1)));
  }

  function capsule(a, b, r, value, bounds) {
    // every pixel whose centre lies within r of the segment a-b
    const x0 = Math.max(0, Math.floor(Math.min(a.x, b.x) - r)), x1 = Math.min(W, Math.ceil(Math.max(a.x, b.x) + r));
    const y0 = Math.max(0, Math.floor(Math.min(a.y, b.y) - r)), y1 = Math.min(H, Math.ceil(Math.max(a.y, b.y) + r));
    const dx = b.x - a.x, dy = b.y - a.y, len2 = dx * dx + dy * dy, r2 = r * r;
    for (let y = y0; y < y1; y++) {
      const py = y + 0.5;
      for (let x = x0; x < x1; x++) {
        const px = x + 0.5;
        let t = len2 ? ((px - a.x) * dx + (py - a.y) * dy) / len2 : 0;
        t = t < 0 ? 0 : t > 1 ? 1 : t;
        const ex = a.x + t * dx - px, ey = a.y + t * dy - py;
        if (ex * ex + ey * ey <= r2) mask[y * W + x] = value;
      }
    }
    grow(bounds, x0, y0, x1, y1);
    render(x0, y0, x1, y1);
  }

  function fillRect(a, b, value, bounds) {
    const x0 = Math.max(0, Math.round(Math.min(a.x, b.x))), x1 = Math.min(W, Math.round(Math.max(a.x, b.x)));
    const y0 = Math.max(0, Math.round(Math.min(a.y, b.y))), y1 = Math.min(H, Math.round(Math.max(a.y, b.y)));
    for (let y = y0; y < y1; y++) mask.fill(value, y * W + x0, y * W + x1);
    grow(bounds, x0, y0, x1, y1);
  }

  function fillPolygon(points, value, bounds) {
    // even-odd scanline fill through pixel centres
    if (points.length < 3) return;
    let ymin = H, ymax = 0;
    for (const p of points) {
      ymin = Math.min(ymin, p.y);
      ymax = Math.max(ymax, p.y);
    }
    const y0 = Math.max(0, Math.floor(ymin)), y1 = Math.min(H, Math.ceil(ymax));
    for (let y = y0; y < y1; y++) {
      const py = y + 0.5, xs = [];
      for (let i = 0, j = points.length - 1; i < points.length; j = i++) {
        const a = points[i], b = points[j];
        if (a.y > py !== b.y > py) xs.push(a.x + ((py - a.y) * (b.x - a.x)) / (b.y - a.y));
      }
      xs.sort((p, q) => p - q);
      for (let k = 0; k + 1 < xs.length; k += 2) {
        const from = Math.max(0, Math.ceil(xs[k] - 0.5)), to = Math.min(W, Math.floor(xs[k + 1] - 0.5) + 1);
        if (to > from) {
          mask.fill(value, y * W + from, y * W + to);
          grow(bounds, from, y, to, y + 1);
        }
      }
    }
  }

  function wand(at, value, bounds) {
    // 4-connected flood fill of the pixels whose colour is within the tolerance of the clicked one
    if (!pixels) pixels = photoCtx.getImageData(0, 0, W, H).data;
    const sx = Math.floor(at.x), sy = Math.floor(at.y);
    if (sx < 0 || sy < 0 || sx >= W || sy >= H) return;
    const tol = Number($("tolerance").value), s = (sy * W + sx) * 4;
    const r0 = pixels[s], g0 = pixels[s + 1], b0 = pixels[s + 2];
    const seen = new Uint8Array(W * H);
    const near = (i) => {
      const k = i * 4;
      return Math.abs(pixels[k] - r0) <= tol && Math.abs(pixels[k + 1] - g0) <= tol && Math.abs(pixels[k + 2] - b0) <= tol;
    };
    const stack = [sy * W + sx];
    seen[sy * W + sx] = 1;
    while (stack.length) {
      const i = stack.pop(), x = i % W, y = (i - x) / W;
      mask[i] = value;
      grow(bounds, x, y, x + 1, y + 1);
      const next = [x > 0 ? i - 1 : -1, x < W - 1 ? i + 1 : -1, y > 0 ? i - W : -1, y < H - 1 ? i + W : -1];
      for (const n of next) {
        if (n >= 0 && !seen[n]) {
          seen[n] = 1;
          if (near(n)) stack.push(n);
        }
      }
    }
  }

  function render(x0, y0, x1, y1) {
    x0 = Math.max(0, Math.floor(x0));
    y0 = Math.max(0, Math.floor(y0));
    x1 = Math.min(W, Math.ceil(x1));
    y1 = Math.min(H, Math.ceil(y1));
    const w = x1 - x0, h = y1 - y0;
    if (w <= 0 || h <= 0) return;
    const image = overlayCtx.createImageData(w, h), out = image.data;
    for (let y = 0; y < h; y++) {
      let i = (y0 + y) * W + x0, o = y * w * 4;
      for (let x = 0; x < w; x++, i++, o += 4) {
        if (mask[i]) {
          out[o] = TINT[0];
          out[o + 1] = TINT[1];
          out[o + 2] = TINT[2];
          out[o + 3] = TINT[3];
        }
      }
    }
    overlayCtx.putImageData(image, x0, y0);
  }

  // --- undo and redo: the changed rectangle before and after ----------------------------------------

  function crop(source, b) {
    const w = b.x1 - b.x0, out = new Uint8Array(w * (b.y1 - b.y0));
    for (let y = b.y0; y < b.y1; y++) out.set(source.subarray(y * W + b.x0, y * W + b.x1), (y - b.y0) * w);
    return out;
  }

  function paste(data, b) {
    const w = b.x1 - b.x0;
    for (let y = b.y0; y < b.y1; y++) mask.set(data.subarray((y - b.y0) * w, (y - b.y0 + 1) * w), y * W + b.x0);
    render(b.x0, b.y0, b.x1, b.y1);
  }

  function emptyBounds() {
    return { x0: W, y0: H, x1: 0, y1: 0 };
  }

  function commit(before, bounds) {
    if (bounds.x1 <= bounds.x0 || bounds.y1 <= bounds.y0) return;
    const step = { b: bounds, before: crop(before, bounds), after: crop(mask, bounds) };
    undoStack.push(step);
    undoBytes += step.before.length * 2;
    while (undoBytes > UNDO_BYTES && undoStack.length > 1) undoBytes -= undoStack.shift().before.length * 2;
    redoStack = [];
    render(bounds.x0, bounds.y0, bounds.x1, bounds.y1);
    updateButtons();
  }

  function undo() {
    const step = undoStack.pop();
    if (!step) return;
    paste(step.before, step.b);
    redoStack.push(step);
    updateButtons();
  }

  function redo() {
    const step = redoStack.pop();
    if (!step) return;
    paste(step.after, step.b);
    undoStack.push(step);
    updateButtons();
  }

  function whole(change) {
    const before = mask.slice();
    change();
    commit(before, { x0: 0, y0: 0, x1: W, y1: H });
  }

  function updateButtons() {
    if (done) return;
    $("undo").disabled = undoStack.length === 0;
    $("redo").disabled = redoStack.length === 0;
  }

  // --- pointer input: mouse, pen and touch ---------------------------------------------------------

  function setTool(name) {
    tool = name;
    for (const button of document.querySelectorAll("[data-tool]")) {
      button.setAttribute("aria-pressed", String(button.dataset.tool === name));
    }
    surface.classList.toggle("panning", name === "pan");
  }

  function guide(kind, points) {
    const rect = $("guide-rect"), line = $("guide-line");
    rect.toggleAttribute("hidden", kind !== "rect"); // SVG elements have no .hidden property
    line.toggleAttribute("hidden", kind !== "line");
    if (kind === "rect") {
      const [a, b] = points;
      rect.setAttribute("x", Math.min(a.x, b.x));
      rect.setAttribute("y", Math.min(a.y, b.y));
      rect.setAttribute("width", Math.abs(a.x - b.x));
      rect.setAttribute("height", Math.abs(a.y - b.y));
    } else if (kind === "line") {
      line.setAttribute("points", points.map((p) => `${p.x},${p.y}`).join(" "));
    }
  }

  function cancelOp() {
    if (op && op.before) {
      mask.set(op.before);
      render(0, 0, W, H);
    }
    guide(null);
    op = null;
  }

  function onDown(event) {
    if (!mask || done) return;
    surface.focus({ preventScroll: true });
    surface.setPointerCapture(event.pointerId);
    pointers.set(event.pointerId, local(event));
    if (pointers.size === 2) {
      cancelOp(); // a second finger: pinch and pan instead of drawing
      const [p, q] = [...pointers.values()];
      op = { kind: "pinch", dist: Math.hypot(p.x - q.x, p.y - q.y), mid: { x: (p.x + q.x) / 2, y: (p.y + q.y) / 2 } };
      return;
    }
    if (pointers.size > 2) return;
    event.preventDefault();
    // Alt, the right mouse button and a pen's eraser end remove from the area instead of adding
    const at = toImage(event), value = event.altKey || event.button === 2 || event.button === 5 ? 0 : 1;
    if (tool === "pan" || spaceHeld || event.button === 1) {
      op = { kind: "pan", last: local(event) };
    } else if (tool === "brush" || tool === "eraser") {
      op = { kind: "stroke", before: mask.slice(), bounds: emptyBounds(), last: at, value: tool === "eraser" ? 1 - value : value, r: brushRadius() };
      capsule(at, at, op.r, op.value, op.bounds);
    } else if (tool === "rectangle") {
      op = { kind: "rect", start: at, end: at, value };
      guide("rect", [at, at]);
    } else if (tool === "lasso") {
      op = { kind: "lasso", points: [at], value };
      guide("line", op.points);
    } else if (tool === "wand") {
      const before = mask.slice(), bounds = emptyBounds();
      wand(at, value, bounds);
      commit(before, bounds);
    }
  }

  function onMove(event) {
    if (!pointers.has(event.pointerId) || !op) return;
    pointers.set(event.pointerId, local(event));
    const events = event.getCoalescedEvents ? event.getCoalescedEvents() : [];
    if (op.kind === "pinch" && pointers.size === 2) {
      const [p, q] = [...pointers.values()];
      const dist = Math.hypot(p.x - q.x, p.y - q.y), mid = { x: (p.x + q.x) / 2, y: (p.y + q.y) / 2 };
      tx += mid.x - op.mid.x;
      ty += mid.y - op.mid.y;
      if (op.dist > 0) zoomAt(dist / op.dist, mid.x, mid.y);
      else applyView();
      op.dist = dist;
      op.mid = mid;
    } else if (op.kind === "pan") {
      const now = local(event);
      tx += now.x - op.last.x;
      ty += now.y - op.last.y;
      op.last = now;
      applyView();
    } else if (op.kind === "stroke") {
      for (const e of events.length ? events : [event]) {
        const at = toImage(e);
        capsule(op.last, at, op.r, op.value, op.bounds);
        op.last = at;
      }
    } else if (op.kind === "rect") {
      op.end = toImage(event);
      guide("rect", [op.start, op.end]);
    } else if (op.kind === "lasso") {
      for (const e of events.length ? events : [event]) op.points.push(toImage(e));
      guide("line", op.points);
    }
  }

  function onUp(event) {
    if (!pointers.delete(event.pointerId)) return;
    if (!op) return;
    if (op.kind === "pinch") {
      if (pointers.size === 0) op = null;
      return;
    }
    if (event.type === "pointercancel") {
      cancelOp();
      return;
    }
    if (op.kind === "stroke") {
      commit(op.before, op.bounds);
    } else if (op.kind === "rect") {
      const before = mask.slice(), bounds = emptyBounds();
      fillRect(op.start, toImage(event), op.value, bounds);
      commit(before, bounds);
    } else if (op.kind === "lasso") {
      const before = mask.slice(), bounds = emptyBounds();
      op.points.push(toImage(event));
      fillPolygon(op.points, op.value, bounds);
      commit(before, bounds);
    }
    guide(null);
    op = null;
  }

  surface.addEventListener("pointerdown", onDown);
  surface.addEventListener("pointermove", onMove);
  surface.addEventListener("pointerup", onUp);
  surface.addEventListener("pointercancel", onUp);
  surface.addEventListener("contextmenu", (event) => event.preventDefault());
  surface.addEventListener(
    "wheel",
    (event) => {
      event.preventDefault();
      const at = local(event);
      zoomAt(Math.exp(-event.deltaY / 300), at.x, at.y);
    },
    { passive: false },
  );
  window.addEventListener("resize", () => mask && fit());

  // --- buttons and keys ----------------------------------------------------------------------------

  for (const button of document.querySelectorAll("[data-tool]")) {
    button.addEventListener("click", () => setTool(button.dataset.tool));
  }
  $("invert").addEventListener("click", () => mask && whole(() => { for (let i = 0; i < mask.length; i++) mask[i] ^= 1; }));
  $("clear").addEventListener("click", () => mask && whole(() => mask.fill(0)));
  $("undo").addEventListener("click", undo);
  $("redo").addEventListener("click", redo);
  $("zoom-in").addEventListener("click", () => zoomCentre(1.25));
  $("zoom-out").addEventListener("click", () => zoomCentre(0.8));
  $("fit").addEventListener("click", fit);
  $("preview").addEventListener("click", preview);
  $("confirm").addEventListener("click", confirm);

  const KEYS = { b: "brush", e: "eraser", r: "rectangle", l: "lasso", w: "wand", h: "pan" };
  document.addEventListener("keydown", (event) => {
    if (event.target === promptBox || done) return;
    const key = event.key.toLowerCase(), mod = event.ctrlKey || event.metaKey;
    if (mod && key === "z") {
      event.preventDefault();
      if (event.shiftKey) redo();
      else undo();
    } else if (mod && key === "y") {
      event.preventDefault();
      redo();
    } else if (mod) {
      return;
    } else if (KEYS[key]) {
      setTool(KEYS[key]);
    } else if (key === "i") {
      $("invert").click();
    } else if (key === "delete" || key === "backspace") {
      $("clear").click();
    } else if (key === "[" || key === "]") {
      const size = $("size");
      size.value = String(Number(size.value) * (key === "]" ? 1.25 : 0.8));
    } else if (key === "+" || key === "=") {
      zoomCentre(1.25);
    } else if (key === "-") {
      zoomCentre(0.8);
    } else if (key === "0") {
      fit();
    } else if (key === " ") {
      spaceHeld = true;
      surface.classList.add("panning");
      event.preventDefault();
    }
  });
  document.addEventListener("keyup", (event) => {
    if (event.key === " ") {
      spaceHeld = false;
      surface.classList.toggle("panning", tool === "pan");
    }
  });

  // --- preview and confirm -------------------------------------------------------------------------

  function maskPng() {
    const canvas = document.createElement("canvas");
    canvas.width = W;
    canvas.height = H;
    const ctx = canvas.getContext("2d");
    const image = ctx.createImageData(W, H), out = image.data;
    for (let i = 0, o = 0; i < mask.length; i++, o += 4) {
      const v = mask[i] ? 0 : 255; // black = change
      out[o] = out[o + 1] = out[o + 2] = v;
      out[o + 3] = 255;
    }
    ctx.putImageData(image, 0, 0);
    return new Promise((resolve) => canvas.toBlob(resolve, "image/png"));
  }

  async function send(path) {
    const form = new FormData();
    form.append("prompt", promptBox.value);
    form.append("mask", await maskPng(), "mask.png");
    return fetch(api(path), { method: "POST", body: form, cache: "no-store", headers: HEADERS });
  }

  function marked() {
    if (mask && mask.includes(1)) return true;
    say(t("web-mark-first"), "error");
    return false;
  }

  async function preview() {
    if (!marked()) return;
    say(t("web-making-preview"));
    const response = await send("preview");
    if (!response.ok) {
      say(await errorOf(response), "error");
      return;
    }
    const img = $("preview-img");
    if (img.src) URL.revokeObjectURL(img.src);
    img.src = URL.createObjectURL(await response.blob());
    $("preview-box").hidden = false;
    say(t("web-preview-ready"));
  }

  async function confirm() {
    if (!marked() || done) return;
    $("confirm").disabled = true;
    say(t("web-queueing"));
    try {
      const response = await send("confirm");
      if (!response.ok) {
        const text = await errorOf(response);
        if ([403, 409, 410].includes(response.status)) fail(text);
        else say(text, "error");
        return;
      }
      const job = await response.json();
      const place = job.place || t("editor-place-command-channel");
      const where = job.private ? t("web-where-private") : t("web-where-posted", { place });
      done = true;
      for (const button of document.querySelectorAll("button")) button.disabled = true;
      promptBox.readOnly = true;
      say(t("web-queued", { job: job.job_id, where }), "ok");
    } finally {
      if (!done) $("confirm").disabled = false;
    }
  }

  init().catch((error) => fail(t("web-could-not-start", { error: error.message || error })));
})();
