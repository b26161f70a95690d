/* Recording and uploading: a file or a MediaRecorder recording goes to the tool with the tus
   protocol (tus-js-client, served by the tool), so an interrupted upload resumes where it
   stopped. After the upload the page follows the tool's processing. Texts come from the page. */
(function () {
  "use strict";
  var root = document.getElementById("recorder");
  if (!root || !window.tus) { return; }
  var statusEl = document.getElementById("upload-status");
  var progress = document.getElementById("upload-progress");
  var maxBytes = Number(root.dataset.maxBytes);
  var maxSeconds = Number(root.dataset.maxSeconds);
  var msg = function (name) { return root.dataset["msg" + name] || ""; };
  var say = function (text) { statusEl.textContent = text; };

  function upload(blob, filename, source) {
    if (blob.size > maxBytes) { say(msg("Toolarge")); return; }
    progress.hidden = false;
    progress.value = 0;
    var job = new tus.Upload(blob, {
      endpoint: root.dataset.uploadsUrl,
      headers: { "X-CSRF-Token": root.dataset.csrf },
      metadata: { filename: filename, filetype: blob.type || "", source: source },
      chunkSize: Number(root.dataset.chunkSize || 0) || 64 * 1024 * 1024,
      retryDelays: [0, 1000, 2000, 4000, 8000, 15000],
      storeFingerprintForResuming: true,
      removeFingerprintOnSuccess: true,
      onShouldRetry: function (err, attempt, options) {
        var status = err.originalResponse ? err.originalResponse.getStatus() : 0;
        var retry = !status || status === 409 || status === 423 || status >= 500 && status !== 507;
        if (retry) { say(msg("Retry")); }
        return retry;
      },
      onProgress: function (sent, total) {
        var p = total ? Math.floor(sent / total * 100) : 0;
        progress.value = p;
        say(msg("Uploading").replace("{p}", p));
      },
      onError: function (err) {
        var detail = "";
        if (err.originalResponse) {
          try { detail = JSON.parse(err.originalResponse.getBody()).error || ""; } catch (e) { detail = ""; }
        }
        say(msg("Failed") + " " + (detail || err.message || ""));
        root.dataset.uploadState = "failed";
        poll();
      },
      onSuccess: function () {
        progress.value = 100;
        say(msg("Uploaded"));
        root.dataset.uploadState = "done";
        poll();
      }
    });
    root.dataset.uploadState = "uploading";
    window.lttUpload = job;  // for the browser tests
    job.findPreviousUploads().then(function (previous) {
      if (previous.length) { job.resumeFromPreviousUpload(previous[0]); }
      job.start();
    });
  }

  // --- the list of recordings follows processing --------------------------------------
  var pollTimer = null;
  function render(rows) {
    var body = document.querySelector("#recordings tbody");
    body.textContent = "";
    rows.forEach(function (r) {
      var tr = document.createElement("tr");
      tr.id = "recording-" + r.id;
      tr.dataset.state = r.state;
      var name = document.createElement("td"); name.textContent = r.title;
      var state = document.createElement("td"); state.className = "state";
      var badge = document.createElement("span"); badge.className = "badge"; badge.textContent = r.label;
      state.appendChild(badge);
      if (r.error) { var e = document.createElement("span"); e.className = "bad"; e.textContent = " " + r.error; state.appendChild(e); }
      var open = document.createElement("td");
      if (r.play) { var a = document.createElement("a"); a.href = r.play; a.textContent = "▶"; a.setAttribute("aria-label", r.title); open.appendChild(a); }
      tr.append(name, state, open);
      body.appendChild(tr);
    });
  }
  function poll() {
    clearTimeout(pollTimer);
    fetch(root.dataset.statusUrl, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (data) {
        render(data.recordings);
        var busy = data.recordings.some(function (r) { return r.state === "uploading" || r.state === "processing"; });
        if (busy) { pollTimer = setTimeout(poll, 2000); }
      })
      .catch(function () { pollTimer = setTimeout(poll, 5000); });
  }

  document.getElementById("upload-start").addEventListener("click", function () {
    var input = document.getElementById("file");
    if (input.files.length) { upload(input.files[0], input.files[0].name, "upload"); }
  });

  // --- recording in the browser ----------------------------------------------------------
  var startBtn = document.getElementById("rec-start");
  var stopBtn = document.getElementById("rec-stop");
  var indicator = document.getElementById("rec-indicator");
  var live = document.getElementById("rec-live");
  var review = document.getElementById("rec-review");
  var preview = document.getElementById("rec-preview");
  var recorder = null, stream = null, chunks = [], recorded = null, clock = null, started = 0;

  function capture() {
    var kind = document.querySelector("input[name=capture]:checked").value;
    var md = navigator.mediaDevices;
    if (!md || !window.MediaRecorder) { return Promise.reject(new Error("unsupported")); }
    if (kind === "audio") { return md.getUserMedia({ audio: true }); }
    if (kind === "camera") { return md.getUserMedia({ video: { width: 1280, height: 720 }, audio: true }); }
    return md.getDisplayMedia({ video: true }).then(function (screen) {
      return md.getUserMedia({ audio: true }).then(function (mic) {
        mic.getAudioTracks().forEach(function (t) { screen.addTrack(t); });
        return screen;
      }, function () { return screen; });
    });
  }
  function mime() {
    var kinds = ["video/webm;codecs=vp8,opus", "video/webm", "audio/webm"];
    for (var i = 0; i < kinds.length; i++) { if (MediaRecorder.isTypeSupported(kinds[i])) { return kinds[i]; } }
    return "";
  }
  function stopTracks() { if (stream) { stream.getTracks().forEach(function (t) { t.stop(); }); stream = null; } }

  startBtn.addEventListener("click", function () {
    review.hidden = true;
    capture().then(function (s) {
      stream = s;
      live.srcObject = s; live.hidden = !s.getVideoTracks().length; live.play();
      chunks = [];
      recorder = new MediaRecorder(s, { mimeType: mime() });
      recorder.ondataavailable = function (e) { if (e.data.size) { chunks.push(e.data); } };
      recorder.onstop = function () {
        clearInterval(clock);
        indicator.hidden = true;
        live.hidden = true; live.srcObject = null;
        stopTracks();
        recorded = new Blob(chunks, { type: (recorder.mimeType || "video/webm").split(";")[0] });
        preview.src = URL.createObjectURL(recorded);
        review.hidden = false;
        startBtn.disabled = false; stopBtn.disabled = true;
        root.dataset.recordState = "review";
        document.getElementById("rec-save").focus();
      };
      recorder.start(1000);
      started = Date.now();
      indicator.hidden = false;
      indicator.textContent = msg("Recording").replace("{s}", "0");
      clock = setInterval(function () {
        var s = Math.floor((Date.now() - started) / 1000);
        indicator.textContent = msg("Recording").replace("{s}", s);
        if (s >= maxSeconds) { recorder.stop(); }
      }, 500);
      startBtn.disabled = true; stopBtn.disabled = false;
      root.dataset.recordState = "recording";
      stopBtn.focus();
    }, function () { say(msg("Nocamera")); });
  });
  stopBtn.addEventListener("click", function () { if (recorder && recorder.state !== "inactive") { recorder.stop(); } });
  document.getElementById("rec-discard").addEventListener("click", function () {
    review.hidden = true; recorded = null; preview.removeAttribute("src"); startBtn.focus();
  });
  document.getElementById("rec-save").addEventListener("click", function () {
    if (!recorded) { return; }
    var stamp = new Date().toISOString().slice(0, 16).replace(/[:T]/g, "-");
    upload(recorded, "recording-" + stamp + ".webm", "browser");
    review.hidden = true;
  });
  poll();
})();
