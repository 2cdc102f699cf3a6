// The Live tab's script (see app/live_web.py): the webcam beside a live 3D view, and the readout (#live-status).
// On Start the server puts a session token in this component's value; the script then opens the camera and posts
// frames as JPEGs to live/frame at the camera's rate, at most two in flight: one processed, one waiting (a newer
// one replaces a waiting one on the server, which answers that it dropped it). A frame the camera gives while two
// are in flight is dropped here; the readout counts both kinds. Each answer brings the frame's 2D skeleton, drawn
// over the video, and the 3D payload, handed to the page's viewer (viewer.js's mountViewer, live mode). Latency
// = now - the capture of the frame whose 3D is shown, in this page's clock. A click on #live-stop stops it.
// `mountLive(element, props, watch)` is called by Gradio's gr.HTML js_on_load (after viewer.js).

function mountLive(element, props, watch) {
  const SEND_HZ = 30;
  const MAX_IN_FLIGHT = 2;
  const RATE_WINDOW_MS = 2000;
  const root = element.querySelector(".scjd-live") || element;
  root.innerHTML = `
    <div class="sl-row">
      <div class="sl-camera"><video class="sl-video" muted playsinline></video><canvas class="sl-2d"></canvas></div>
      <div class="sl-3d"><div class="scjd-viewer"></div></div>
    </div>
    <div id="live-status" class="sl-status">Press Start to begin.</div>`;
  const video = root.querySelector(".sl-video");
  const overlay = root.querySelector(".sl-2d");
  const status = root.querySelector("#live-status");
  const capture = document.createElement("canvas");
  const viewerProps = { value: null };
  let viewerChanged = () => {};
  mountViewer(root.querySelector(".sl-3d"), viewerProps, (name, callback) => { viewerChanged = callback; },
    { live: true });

  let token = null;
  let stream = null;
  let timer = null;
  let inFlight = 0;
  let start = 0;
  let processed = [];
  let latency = null;
  let skipped = 0;

  function stop(message) {
    clearInterval(timer);
    timer = null;
    if (stream) stream.getTracks().forEach((track) => track.stop());
    stream = null;
    token = null;
    if (message) status.textContent = message;
  }

  async function begin(newToken) {
    stop();
    status.textContent = "Opening the camera...";
    try {
      stream = await navigator.mediaDevices.getUserMedia({ video: { width: 640, height: 480 }, audio: false });
    } catch (error) {
      status.textContent = `The camera is not available (${error.name}): allow it in the browser, or check that `
        + "no other program holds it.";
      return;
    }
    video.srcObject = stream;
    await video.play();
    token = newToken;
    start = performance.now();
    processed = [];
    latency = null;
    skipped = 0;
    status.textContent = "Live: waiting for the first frames...";
    timer = setInterval(send, 1000 / SEND_HZ);
  }

  function send() {
    if (!token || video.readyState < 2) return;
    if (inFlight >= MAX_IN_FLIGHT) {  // the server has a frame in hand and one waiting: this one is dropped here
      skipped += 1;
      return;
    }
    const width = video.videoWidth;
    const height = video.videoHeight;
    capture.width = width;
    capture.height = height;
    capture.getContext("2d").drawImage(video, 0, 0, width, height);
    const t = (performance.now() - start) / 1000;
    const url = new URL(`live/frame?token=${encodeURIComponent(token)}&t=${t.toFixed(4)}`, window.location.href);
    const sentWith = token;
    inFlight += 1;
    capture.toBlob(async (blob) => {
      try {
        const response = await fetch(url, { method: "POST", body: blob, headers: { "Content-Type": "image/jpeg" } });
        if (sentWith !== token) return;  // stopped (or restarted) meanwhile
        if (response.status === 404) return stop("This live take has ended.");
        if (!response.ok) return stop(`The server refused a frame (${response.status}).`);
        show(await response.json(), width, height);
      } catch (error) {
        if (sentWith === token) stop(`The connection to the server failed (${error.message}).`);
      } finally {
        inFlight -= 1;
      }
    }, "image/jpeg", 0.85);
  }

  function show(answer, width, height) {
    const now = performance.now();
    if (!answer.dropped) {
      processed.push(now);
      draw2d(answer.keypoints, answer.payload, width, height);
      if (answer.pose_time !== null) latency = now - (start + 1000 * answer.pose_time);
      viewerProps.value = JSON.stringify(answer.payload);
      viewerChanged();
    }
    processed = processed.filter((time) => now - time <= RATE_WINDOW_MS);
    const span = processed.length > 1 ? processed[processed.length - 1] - processed[0] : 0;
    const fps = span > 0 ? (processed.length - 1) / (span / 1000) : 0;
    const words = [`${fps.toFixed(1)} fps`, latency === null ? "waiting for the 3D" : `${latency.toFixed(0)} ms latency`,
      `${answer.dropped_total + skipped} frames dropped`];
    if (!answer.dropped && answer.keypoints === null) words.push("nobody in view");
    status.textContent = [words.join(", "), ...(answer.lifters || [])].join("; ");
    root.dataset.fps = fps.toFixed(2);
    if (latency !== null) root.dataset.latency = latency.toFixed(0);
  }

  function draw2d(keypoints, payload, width, height) {
    const shownWidth = video.clientWidth;
    const shownHeight = video.clientHeight;
    const ratio = window.devicePixelRatio || 1;
    overlay.width = Math.round(shownWidth * ratio);
    overlay.height = Math.round(shownHeight * ratio);
    overlay.style.width = `${shownWidth}px`;
    overlay.style.height = `${shownHeight}px`;
    const context = overlay.getContext("2d");
    context.clearRect(0, 0, overlay.width, overlay.height);
    if (!keypoints) return;
    const scale = Math.min(overlay.width / width, overlay.height / height);
    const left = (overlay.width - width * scale) / 2;
    const top = (overlay.height - height * scale) / 2;
    const at = (point) => [left + point[0] * scale, top + point[1] * scale];
    context.lineWidth = 3 * ratio;
    context.lineCap = "round";
    payload.bones.forEach(([parent, child], bone) => {
      const [a, b] = [at(keypoints[parent]), at(keypoints[child])];
      context.strokeStyle = payload.colours[payload.sides[bone]];
      context.beginPath();
      context.moveTo(a[0], a[1]);
      context.lineTo(b[0], b[1]);
      context.stroke();
    });
  }

  document.addEventListener("click", (event) => {
    if (event.target.closest && event.target.closest("#live-stop") && token) stop("Stopped: processing the take...");
  }, true);
  watch("value", () => {
    const value = props.value ? JSON.parse(props.value) : null;
    if (value && value.token) begin(value.token);
  });
}
