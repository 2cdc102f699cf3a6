// The page's live 3D viewer: our own small canvas renderer (no libraries, nothing loaded from the internet).
// It draws the poses of app/viewer.py's payload (Y up, metres) with a perspective camera that orbits a target
// (the chosen person's pelvis path, when the payload has one, so that the view follows a walk):
// drag turns, shift-drag or right-drag moves, the wheel zooms, a double click resets. Its clock is the page's
// video (#video video) when one is loaded, so that video and skeleton show the same frame; the play button and
// the slider drive that video. Without a video it plays on its own clock. A distance chart (teacher against
// student) under the 3D view marks the current frame; a click on it seeks. Under it, the main subject's joint
// angles over time (a few plotted by default), the current frame marked the same way, and a table of every
// angle's minimum, maximum and range: a click on a row plots that angle or takes it off. The current frame is
// written to the root's data-frame attribute, and the frame the angle chart marks to data-angle-frame, for tests.
// The filming camera, where the payload has it, is drawn as a small pyramid that turns as the real camera did
// (the "camera" button hides it). With several people, the chosen one (the first) is drawn in the left/right
// colours, on top; every other person in their own colour, thinner, each with their label above the head; the
// view starts as far back as the payload's `distance`.
// `mountViewer(element, props, watch)` is called by Gradio's gr.HTML js_on_load (see app/ui.py). In live mode
// (`{ live: true }`, app/static/live.js) each payload is one frame that replaces the last: the view the user has
// turned to is kept, and there is no clock, slider or chart.

function mountViewer(element, props, watch, options = {}) {
  const VIDEO = "#video video";
  const DEFAULT_VIEW = { yaw: 0.6, pitch: 0.21, distance: 3.8 };
  const CHART_COLOURS = ["#ffd54f", "#4dd0e1", "#aed581"];
  const CAMERA_COLOUR = "#90caf9";
  const root = element.querySelector(".scjd-viewer") || element;
  root.innerHTML = `
    <div class="sv-stage">
      <canvas class="sv-canvas"></canvas>
      <div class="sv-legend"></div>
    </div>
    <div class="sv-controls">
      <button class="sv-play" type="button">&#9654; play</button>
      <button class="sv-camera" type="button" aria-pressed="true">camera</button>
      <input class="sv-scrub" type="range" min="0" max="0" step="1" value="0" aria-label="frame">
      <span class="sv-time">no poses yet</span>
    </div>
    <div class="sv-help">3D view: drag to turn &middot; shift-drag or right-drag to move &middot; wheel to zoom
      &middot; double click to reset. Play, pause and the slider also drive the video.</div>
    <canvas class="sv-chart"></canvas>
    <canvas class="sv-angles"></canvas>
    <div class="sv-angle-help">Click an angle in the table to plot it (or take it off); click the chart to seek.</div>
    <table class="sv-angle-table"></table>`;
  const canvas = root.querySelector(".sv-canvas");
  const chart = root.querySelector(".sv-chart");
  const angleChart = root.querySelector(".sv-angles");
  const angleTable = root.querySelector(".sv-angle-table");
  const angleHelp = root.querySelector(".sv-angle-help");
  const legend = root.querySelector(".sv-legend");
  const playButton = root.querySelector(".sv-play");
  const cameraButton = root.querySelector(".sv-camera");
  const scrub = root.querySelector(".sv-scrub");
  const timeLabel = root.querySelector(".sv-time");
  const context = canvas.getContext("2d");
  const chartContext = chart.getContext("2d");
  const angleContext = angleChart.getContext("2d");
  const ANGLE_COLOURS = ["#ffd54f", "#4dd0e1", "#aed581", "#f48fb1", "#ffffff", "#ce93d8", "#ffab91", "#90caf9"];
  let plotted = [];
  let data = null;
  let camera = { ...DEFAULT_VIEW, pan: [0, 0, 0] };
  let frame = 0;
  let ownClock = { playing: false, start: 0, startFrame: 0 };
  let dirty = true;
  let drag = null;
  let frameLabel = "";
  let showCamera = true;

  function video() {
    if (options.live) return null;
    const element = document.querySelector(VIDEO);
    return element && element.readyState >= 1 && Number.isFinite(element.duration) ? element : null;
  }

  function clampFrame(value) {
    return data ? Math.min(Math.max(value, 0), data.num_frames - 1) : 0;
  }

  function load(json) {
    const kept = options.live && data;
    data = json ? JSON.parse(json) : null;
    if (options.live && kept && data) {  // the next live frame: keep the user's view
      legend.innerHTML = legendHtml();
      dirty = true;
      return;
    }
    frame = 0;
    ownClock = { playing: false, start: 0, startFrame: 0 };
    scrub.max = data ? String(data.num_frames - 1) : "0";
    resetView();
    legend.innerHTML = data ? legendHtml() : "";
    chart.style.display = data && data.comparison ? "block" : "none";
    const angles = data && data.angles;
    plotted = angles ? angles.plotted.slice() : [];
    for (const element of [angleChart, angleTable, angleHelp]) element.style.display = angles ? "" : "none";
    fillAngleTable();
    resize();
  }

  function resetView() {
    camera = { ...DEFAULT_VIEW, distance: (data && data.distance) || DEFAULT_VIEW.distance, pan: [0, 0, 0] };
    dirty = true;
  }

  function swatch(colour, text) {
    return `<span class="sv-key"><i style="background:${colour}"></i>${text}</span>`;
  }

  function legendHtml() {
    if (!data.models.length) return "";
    const [first, ...others] = data.models;
    let html = swatch(data.colours.left, `${first.label} left`) + swatch(data.colours.right, "right")
      + swatch(data.colours.centre, "spine, head");
    html += others.map((model) => swatch(data.colours.second, model.label)).join("");
    if (first.people.length === 1) return html + `<span class="sv-key">person #${first.people[0].track_id}</span>`;
    return html + first.people.map((person) => person.colour
      ? swatch(person.colour, `#${person.track_id}`)
      : `<span class="sv-key"><b>#${person.track_id}</b> (left/right)</span>`).join("");
  }

  function resize() {
    const ratio = window.devicePixelRatio || 1;
    const width = Math.max(root.clientWidth, 200);
    const height = Math.round(Math.min(Math.max(width * 0.85, 400), 760));
    for (const [target, h] of [[canvas, height], [chart, 190], [angleChart, 230]]) {
      target.style.width = `${width}px`;
      target.style.height = `${h}px`;
      target.width = Math.round(width * ratio);
      target.height = Math.round(h * ratio);
    }
    dirty = true;
  }

  // what the camera looks at: the first chosen person's pelvis path at this frame where there is one (so that
  // the view follows a walk through the world), else the middle of all poses; plus the user's own move (pan)
  function lookAt() {
    const person = data.models.length && data.models[0].people.find(
      (p) => p.trajectory && frame >= p.first_frame && frame < p.first_frame + p.trajectory.length);
    const base = person ? person.trajectory[frame - person.first_frame] : data.target;
    return [base[0] + camera.pan[0], data.target[1] + camera.pan[1], base[2] + camera.pan[2]];
  }

  // camera basis: the eye orbits the target; returns a function from a world point to [x, y, depth] on screen
  function projector(width, height) {
    const { yaw, pitch, distance } = camera;
    const target = lookAt();
    const eye = [
      target[0] + distance * Math.sin(yaw) * Math.cos(pitch),
      target[1] + distance * Math.sin(pitch),
      target[2] + distance * Math.cos(yaw) * Math.cos(pitch),
    ];
    const forward = normalise(sub(target, eye));
    const right = normalise(cross(forward, [0, 1, 0]));
    const up = cross(right, forward);
    const focal = 1.5 * Math.min(width, height * 1.2);
    return {
      right, up,
      focal,
      project(point) {
        const d = sub(point, eye);
        const depth = dot(d, forward);
        if (depth < 0.05) return null;
        return [width / 2 + (focal * dot(d, right)) / depth, height * 0.55 - (focal * dot(d, up)) / depth, depth];
      },
    };
  }

  function sub(a, b) { return [a[0] - b[0], a[1] - b[1], a[2] - b[2]]; }
  function dot(a, b) { return a[0] * b[0] + a[1] * b[1] + a[2] * b[2]; }
  function cross(a, b) { return [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]]; }
  function normalise(a) { const n = Math.hypot(...a) || 1; return [a[0] / n, a[1] / n, a[2] / n]; }

  function line(view, a, b, colour, width) {
    const p = view.project(a);
    const q = view.project(b);
    if (!p || !q) return;
    context.strokeStyle = colour;
    context.lineWidth = width;
    context.beginPath();
    context.moveTo(p[0], p[1]);
    context.lineTo(q[0], q[1]);
    context.stroke();
  }

  function drawFloor(view) {
    const { floor_y: y, grid } = data;
    context.lineCap = "butt";
    for (let t = grid.min; t <= grid.max + 1e-6; t += grid.step) {
      const colour = Math.abs(t) < 1e-6 ? "#5a6070" : "#3a3f4a";
      line(view, [t, y, grid.min], [t, y, grid.max], colour, 1);
      line(view, [grid.min, y, t], [grid.max, y, t], colour, 1);
    }
  }

  // the filming camera at this frame: a pyramid from its centre to a 0.4 m deep picture of its field of view
  function drawCamera(view) {
    const camera = data.camera;
    if (!camera || !showCamera) return;
    const t = Math.min(Math.max(frame - camera.first_frame, 0), camera.forward.length - 1);
    const [forward, up, right] = [camera.forward[t], camera.up[t], camera.right[t]];
    const depth = 0.4;
    const halfWidth = depth * Math.tan((camera.fov_deg * Math.PI) / 360);
    const halfHeight = halfWidth / camera.aspect;
    const at = (x, y) => camera.position.map((c, i) => c + depth * forward[i] + x * right[i] + y * up[i]);
    const corners = [at(-halfWidth, halfHeight), at(halfWidth, halfHeight), at(halfWidth, -halfHeight),
      at(-halfWidth, -halfHeight)];
    context.lineCap = "round";
    corners.forEach((corner, i) => {
      line(view, camera.position, corner, CAMERA_COLOUR, 1.5);
      line(view, corner, corners[(i + 1) % 4], CAMERA_COLOUR, 1.5);
    });
    line(view, at(-halfWidth * 0.5, halfHeight), at(0, halfHeight * 1.5), CAMERA_COLOUR, 1.5);  // its top
    line(view, at(0, halfHeight * 1.5), at(halfWidth * 0.5, halfHeight), CAMERA_COLOUR, 1.5);
  }

  function boneColour(bone, model, person) {
    if (model > 0) return data.colours.second;
    return person.colour || data.colours[data.sides[bone]];
  }

  function drawPerson(view, person, model, t, scale) {
    const pose = person.poses[t];
    const width = (model > 0 ? 2.5 : person.colour ? 3 : 4) * scale;
    context.lineCap = "round";
    data.bones.forEach(([parent, child], bone) =>
      line(view, pose[parent], pose[child], boneColour(bone, model, person), width));
    for (const joint of pose) {
      const p = view.project(joint);
      if (!p) continue;
      context.fillStyle = model > 0 ? data.colours.second : person.colour || "#e8e8e8";
      context.beginPath();
      context.arc(p[0], p[1], (model > 0 ? 2 : 3) * scale, 0, 2 * Math.PI);
      context.fill();
    }
  }

  function drawTrajectory(view, person, t) {
    if (!person.trajectory) return;
    const path = person.trajectory.map((point) => view.project([point[0], data.floor_y, point[2]]));
    context.lineWidth = 2;
    for (let i = 1; i < path.length; i++) {
      if (!path[i - 1] || !path[i]) continue;
      context.strokeStyle = i <= t ? "#f5f5f5" : "rgba(245, 245, 245, 0.25)";
      context.beginPath();
      context.moveTo(path[i - 1][0], path[i - 1][1]);
      context.lineTo(path[i][0], path[i][1]);
      context.stroke();
    }
  }

  function text(message, x, y, size, align = "left", colour = "#ffffff") {
    context.font = `${size}px sans-serif`;
    context.textAlign = align;
    context.lineWidth = 3;
    context.strokeStyle = "rgba(0, 0, 0, 0.8)";
    context.strokeText(message, x, y);
    context.fillStyle = colour;
    context.fillText(message, x, y);
  }

  function draw() {
    const ratio = window.devicePixelRatio || 1;
    const width = canvas.width;
    const height = canvas.height;
    context.fillStyle = "#181a20";
    context.fillRect(0, 0, width, height);
    if (!data) {
      const message = options.live ? "Press Start: the live 3D appears here." : "Run a video: its 3D skeleton appears here.";
      text(message, width / 2, height / 2, 16 * ratio, "center");
      return;
    }
    const view = projector(width, height);
    drawFloor(view);
    drawCamera(view);
    if (!data.models.length) {  // a live frame without a 3D pose yet
      text(data.message || "", width / 2, height * 0.45, 16 * ratio, "center");
      return;
    }
    const [first, ...others] = data.models;
    const missing = [];
    const order = first.people.map((person, index) => index).sort(
      (a, b) => Boolean(first.people[b].colour) - Boolean(first.people[a].colour));  // the chosen one last, on top
    order.forEach((index) => {
      const person = first.people[index];
      const t = frame - person.first_frame;
      drawTrajectory(view, person, t);
      if (t < 0 || t >= person.poses.length) {
        missing.push(`#${person.track_id}`);
        return;
      }
      others.forEach((model, m) => drawPerson(view, model.people[index], m + 1, t, ratio));
      drawPerson(view, person, 0, t, ratio);
      if (person.label) {
        const head = view.project(person.poses[t][10]);
        if (head) text(person.label, head[0], head[1] - 12 * ratio, 13 * ratio, "center", person.colour || "#ffffff");
      }
    });
    if (missing.length === first.people.length) {
      const who = missing.length > 1 ? "The chosen people are" : `The chosen person (${missing[0]}) is`;
      text(`${who} out of view in this frame.`, width / 2, height * 0.45, 18 * ratio, "center");
    } else if (missing.length) {
      text(`out of view in this frame: ${missing.join(", ")}`, 10 * ratio, height - 12 * ratio, 13 * ratio);
    }
    if (!options.live) text(frameLabel, width - 10 * ratio, height - 12 * ratio, 12 * ratio, "right");
  }

  function timeTicks(c, x, baseline) {
    // start, middle and end of the clip under a chart; a photo (one frame) gets one label
    const last = data.num_frames - 1;
    const ticks = last > 0 ? [[0, "left"], [Math.floor(last / 2), "center"], [last, "right"]] : [[0, "left"]];
    for (const [f, align] of ticks) {
      c.textAlign = align;
      c.fillText(`${(f / data.fps).toFixed(1)} s`, x(f), baseline);
    }
  }

  function drawChart() {
    const comparison = data && data.comparison;
    if (!comparison) return;
    const ratio = window.devicePixelRatio || 1;
    const width = chart.width;
    const height = chart.height;
    const c = chartContext;
    const left = 48 * ratio, right = width - 12 * ratio, bottom = height - 26 * ratio;
    const series = [{ name: "mean over joints", mm: comparison.mean_mm, colour: "#ffffff", width: 2.5 }].concat(
      comparison.worst.map((joint, i) => ({ name: joint.joint, mm: joint.mm, colour: CHART_COLOURS[i], width: 1.3 })));
    c.font = `${12 * ratio}px sans-serif`;
    const keys = [];  // the key: a swatch and a label per series, wrapped onto more lines when narrow
    let keyX = left, keyY = 30 * ratio;
    for (const s of series) {
      const label = `${s.name} (mean ${average(s.mm).toFixed(0)} mm)`;
      const keyWidth = 14 * ratio + c.measureText(label).width;
      if (keyX > left && keyX + keyWidth > right) {
        keyX = left;
        keyY += 15 * ratio;
      }
      keys.push({ s, label, x: keyX, y: keyY });
      keyX += keyWidth + 14 * ratio;
    }
    const top = keyY + 12 * ratio;
    const peak = Math.max(1, ...series.flatMap((s) => s.mm));
    const x = (f) => left + ((right - left) * f) / Math.max(1, data.num_frames - 1);
    const y = (mm) => bottom - ((bottom - top) * mm) / peak;
    c.fillStyle = "#181a20";
    c.fillRect(0, 0, width, height);
    c.textAlign = "left";
    c.fillStyle = "#ffffff";
    c.fillText(comparison.title, left, 15 * ratio, right - left);  // squeezed to fit a narrow chart
    for (const key of keys) {
      c.fillStyle = key.s.colour;
      c.fillRect(key.x, key.y - 6 * ratio, 10 * ratio, 4 * ratio);
      c.fillStyle = "#d0d0d0";
      c.fillText(key.label, key.x + 14 * ratio, key.y);
    }
    c.strokeStyle = "#3a3f4a";
    c.lineWidth = 1;
    c.fillStyle = "#a0a0a0";
    c.textAlign = "right";
    for (const mm of [0, peak / 2, peak]) {
      c.beginPath();
      c.moveTo(left, y(mm));
      c.lineTo(right, y(mm));
      c.stroke();
      c.fillText(`${mm.toFixed(0)} mm`, left - 4 * ratio, y(mm) + 4 * ratio);
    }
    timeTicks(c, x, height - 8 * ratio);
    for (const s of series.slice().reverse()) {
      c.strokeStyle = s.colour;
      c.lineWidth = s.width * ratio;
      c.beginPath();
      s.mm.forEach((mm, i) => {
        const f = comparison.first_frame + i;
        i ? c.lineTo(x(f), y(mm)) : c.moveTo(x(f), y(mm));
      });
      c.stroke();
    }
    c.strokeStyle = "#ff5252";
    c.lineWidth = 2 * ratio;
    c.beginPath();
    c.moveTo(x(frame), top - 4 * ratio);
    c.lineTo(x(frame), bottom);
    c.stroke();
  }

  // the table of every angle's minimum, maximum and range; a plotted angle's row shows its colour
  function fillAngleTable() {
    const angles = data && data.angles;
    if (!angles) {
      angleTable.innerHTML = "";
      return;
    }
    const rows = angles.names.map((name) => {
      const [low, high, span] = angles.ranges[name];
      const index = plotted.indexOf(name);
      const key = index < 0 ? "" : `<i style="background:${angleColour(index)}"></i>`;
      return `<tr data-angle="${name}" class="${index < 0 ? "" : "sv-plotted"}"><td>${key}${name}</td>`
        + `<td>${low.toFixed(1)}</td><td>${high.toFixed(1)}</td><td>${span.toFixed(1)}</td></tr>`;
    });
    angleTable.innerHTML = "<thead><tr><th>angle (degrees)</th><th>min</th><th>max</th><th>range</th></tr></thead>"
      + `<tbody>${rows.join("")}</tbody>`;
  }

  function angleColour(index) {
    return ANGLE_COLOURS[index % ANGLE_COLOURS.length];
  }

  function drawAngles() {
    const angles = data && data.angles;
    if (!angles) return;
    const ratio = window.devicePixelRatio || 1;
    const width = angleChart.width;
    const height = angleChart.height;
    const c = angleContext;
    const left = 48 * ratio, right = width - 12 * ratio, bottom = height - 26 * ratio;
    c.fillStyle = "#181a20";
    c.fillRect(0, 0, width, height);
    c.font = `${12 * ratio}px sans-serif`;
    c.textAlign = "left";
    c.fillStyle = "#ffffff";
    c.fillText(angles.title, left, 15 * ratio, right - left);
    const t = frame - angles.first_frame;
    let keyX = left, keyY = 30 * ratio;
    plotted.forEach((name, i) => {  // the key: each plotted angle with its value at the current frame
      const deg = t >= 0 && t < angles.values[name].length ? angles.values[name][t] : null;
      const label = `${name} ${deg === null ? "-" : deg.toFixed(0) + "\u00b0"}`;
      const keyWidth = 14 * ratio + c.measureText(label).width;
      if (keyX > left && keyX + keyWidth > right) {
        keyX = left;
        keyY += 15 * ratio;
      }
      c.fillStyle = angleColour(i);
      c.fillRect(keyX, keyY - 6 * ratio, 10 * ratio, 4 * ratio);
      c.fillStyle = "#d0d0d0";
      c.fillText(label, keyX + 14 * ratio, keyY);
      keyX += keyWidth + 14 * ratio;
    });
    const top = keyY + 12 * ratio;
    const spans = plotted.map((name) => angles.ranges[name]);
    let low = Math.min(0, ...spans.map((s) => s[0]));
    let high = Math.max(10, ...spans.map((s) => s[1]));
    low = 10 * Math.floor(low / 10);
    high = 10 * Math.ceil(high / 10);
    const x = (f) => left + ((right - left) * f) / Math.max(1, data.num_frames - 1);
    const y = (deg) => bottom - ((bottom - top) * (deg - low)) / Math.max(1, high - low);
    c.strokeStyle = "#3a3f4a";
    c.lineWidth = 1;
    c.fillStyle = "#a0a0a0";
    c.textAlign = "right";
    for (const deg of [low, (low + high) / 2, high]) {
      c.beginPath();
      c.moveTo(left, y(deg));
      c.lineTo(right, y(deg));
      c.stroke();
      c.fillText(`${deg.toFixed(0)}\u00b0`, left - 4 * ratio, y(deg) + 4 * ratio);
    }
    timeTicks(c, x, height - 8 * ratio);
    plotted.forEach((name, i) => {
      c.strokeStyle = angleColour(i);
      c.lineWidth = 1.6 * ratio;
      c.beginPath();
      let drawing = false;
      angles.values[name].forEach((deg, j) => {
        if (deg === null) {
          drawing = false;
          return;
        }
        const f = angles.first_frame + j;
        drawing ? c.lineTo(x(f), y(deg)) : c.moveTo(x(f), y(deg));
        drawing = true;
      });
      c.stroke();
    });
    c.strokeStyle = "#ff5252";
    c.lineWidth = 2 * ratio;
    c.beginPath();
    c.moveTo(x(frame), top - 4 * ratio);
    c.lineTo(x(frame), bottom);
    c.stroke();
    root.dataset.angleFrame = String(frame);
  }

  function average(values) {
    return values.reduce((sum, v) => sum + v, 0) / Math.max(1, values.length);
  }

  function seek(target) {
    const f = clampFrame(Math.round(target));
    const v = video();
    if (v) {
      v.currentTime = (f + 0.5) / data.fps;
    } else {
      ownClock = { playing: ownClock.playing, start: performance.now(), startFrame: f };
    }
    frame = f;
    dirty = true;
  }

  function currentFrame() {
    const v = video();
    if (v) return clampFrame(Math.floor(v.currentTime * data.fps + 1e-3));
    if (!ownClock.playing) return clampFrame(ownClock.startFrame);
    const elapsed = ((performance.now() - ownClock.start) / 1000) * data.fps;
    return Math.floor(ownClock.startFrame + elapsed) % data.num_frames;
  }

  function tick() {
    if (data) {
      const now = currentFrame();
      if (now !== frame) {
        frame = now;
        dirty = true;
      }
      const v = video();
      const playing = v ? !v.paused : ownClock.playing;
      playButton.innerHTML = playing ? "&#10074;&#10074; pause" : "&#9654; play";
      if (document.activeElement !== scrub) scrub.value = String(frame);
      frameLabel = `frame ${frame + 1} / ${data.num_frames} \u00b7 ${(frame / data.fps).toFixed(2)} s`;
      timeLabel.textContent = frameLabel;
      root.dataset.frame = String(frame);
    }
    if (dirty) {
      dirty = false;
      draw();
      drawChart();
      drawAngles();
    }
    requestAnimationFrame(tick);
  }

  playButton.addEventListener("click", () => {
    if (!data) return;
    const v = video();
    if (v) {
      v.paused ? v.play() : v.pause();
    } else {
      ownClock = { playing: !ownClock.playing, start: performance.now(), startFrame: frame };
    }
  });
  cameraButton.addEventListener("click", () => {
    showCamera = !showCamera;
    cameraButton.setAttribute("aria-pressed", String(showCamera));
    dirty = true;
  });
  scrub.addEventListener("input", () => data && seek(Number(scrub.value)));
  chart.addEventListener("click", (event) => {
    if (!data) return;
    const box = chart.getBoundingClientRect();
    const left = 48, right = box.width - 12;
    seek(((event.clientX - box.left - left) / (right - left)) * (data.num_frames - 1));
  });

  angleChart.addEventListener("click", (event) => {
    if (!data) return;
    const box = angleChart.getBoundingClientRect();
    const left = 48, right = box.width - 12;
    seek(((event.clientX - box.left - left) / (right - left)) * (data.num_frames - 1));
  });
  angleTable.addEventListener("click", (event) => {
    const row = event.target.closest("tr[data-angle]");
    if (!row) return;
    const name = row.dataset.angle;
    plotted = plotted.includes(name) ? plotted.filter((n) => n !== name) : plotted.concat([name]);
    fillAngleTable();
    dirty = true;
  });

  canvas.addEventListener("contextmenu", (event) => event.preventDefault());
  canvas.addEventListener("dblclick", resetView);
  canvas.addEventListener("pointerdown", (event) => {
    canvas.setPointerCapture(event.pointerId);
    drag = { x: event.clientX, y: event.clientY, move: event.button === 2 || event.shiftKey };
  });
  canvas.addEventListener("pointerup", () => { drag = null; });
  canvas.addEventListener("pointermove", (event) => {
    if (!drag) return;
    const dx = event.clientX - drag.x;
    const dy = event.clientY - drag.y;
    drag.x = event.clientX;
    drag.y = event.clientY;
    if (drag.move) {
      const ratio = window.devicePixelRatio || 1;
      const view = projector(canvas.width, canvas.height);
      const metresPerPixel = (camera.distance / view.focal) * ratio;
      for (let i = 0; i < 3; i++) {
        camera.pan[i] += metresPerPixel * (-dx * view.right[i] + dy * view.up[i]);
      }
    } else {
      camera.yaw -= dx * 0.01;
      camera.pitch = Math.min(Math.max(camera.pitch + dy * 0.01, -0.3), 1.5);
    }
    dirty = true;
  });
  canvas.addEventListener("wheel", (event) => {
    event.preventDefault();
    camera.distance = Math.min(Math.max(camera.distance * Math.exp(event.deltaY * 0.001), 0.8), 40);
    dirty = true;
  }, { passive: false });

  if (options.live) {
    for (const part of [".sv-controls", ".sv-help", ".sv-angle-help"]) root.querySelector(part).style.display = "none";
  }
  new ResizeObserver(resize).observe(root);
  load(props.value);
  watch("value", () => load(props.value));
  requestAnimationFrame(tick);
}
