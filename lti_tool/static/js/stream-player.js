/* The live player: asks the tool for a short-lived signed playlist URL, plays it with hls.js
   (served by the tool itself) and renews the URL while the viewer may still watch. Every HLS
   request goes to the newest signed path, so a viewer the tool refuses loses the stream when
   the last URL expires (at most a few minutes). Texts come from the page (translated). */
(function () {
  "use strict";
  var root = document.getElementById("stream-player");
  if (!root) { return; }
  var video = document.getElementById("stream-video");
  var status = document.getElementById("stream-status");
  var badge = document.getElementById("live-badge");
  var renewMs = Number(root.dataset.renew || 120) * 1000;
  var pollMs = 4000;
  var quickRetries = 0;  // nginx writes the playlist ~1-2 s after the encoder is accepted
  var hls = null;
  var base = null;       // the current signed prefix: <hls>/<sig>/<expires>/<viewer>/<stream>/
  var timer = null;

  function show(kind) {
    var text = root.dataset["msg" + kind.charAt(0).toUpperCase() + kind.slice(1)];
    if (text && status.textContent !== text) { status.textContent = text; }
    root.dataset.state = kind;
    badge.hidden = kind !== "live";
  }

  function stop() {
    if (hls) { hls.destroy(); hls = null; }
    base = null;
    video.removeAttribute("src");
    video.load();
  }

  function later(ms) {
    clearTimeout(timer);
    timer = setTimeout(refresh, ms);
  }

  function current(url) {
    // hls.js asks for a URL under an older signed prefix: fetch it under the newest one.
    return base + url.substring(url.lastIndexOf("/") + 1);
  }

  function start(url) {
    if (window.Hls && window.Hls.isSupported()) {
      hls = new window.Hls({
        liveSyncDurationCount: 2,
        manifestLoadingMaxRetry: 2,
        levelLoadingMaxRetry: 2,
        fragLoadingMaxRetry: 2,
        xhrSetup: function (xhr, requested) { xhr.open("GET", current(requested), true); }
      });
      hls.on(window.Hls.Events.MANIFEST_PARSED, function () {
        quickRetries = 0;
        var playing = video.play();
        if (playing && playing.catch) { playing.catch(function () { /* user presses play */ }); }
      });
      hls.on(window.Hls.Events.ERROR, function (_event, data) {
        if (!data.fatal) { return; }
        if (data.type === window.Hls.ErrorTypes.MEDIA_ERROR) { hls.recoverMediaError(); return; }
        stop();
        if (data.details === window.Hls.ErrorDetails.MANIFEST_LOAD_ERROR && quickRetries < 5) {
          quickRetries += 1;  // just gone live: the playlist is about to appear
          later(1000);
          return;
        }
        show("error");
        later(pollMs);
      });
      hls.loadSource(url);
      hls.attachMedia(video);
    } else if (video.canPlayType("application/vnd.apple.mpegurl")) {
      video.src = url;
      video.play().catch(function () { /* user presses play */ });
    } else {
      show("unsupported");
      return false;
    }
    return true;
  }

  function apply(body) {
    if (body.state === "live" && body.url) {
      var fresh = body.url.substring(0, body.url.lastIndexOf("/") + 1);
      if (!hls && !video.getAttribute("src")) {
        base = fresh;
        if (!start(body.url)) { return; }
      } else {
        base = fresh;
      }
      show("live");
      later(Math.min(renewMs, Math.max(10000, (body.expires * 1000 - Date.now()) / 2)));
    } else {
      if (hls || video.getAttribute("src")) { stop(); }
      show(body.state === "ended" ? "ended" : "idle");
      later(pollMs);
    }
  }

  function refresh() {
    fetch(root.dataset.linkUrl, {
      credentials: "same-origin",
      headers: { "Accept": "application/json" },
      cache: "no-store"
    }).then(function (response) {
      if (response.status === 401 || response.status === 403 || response.status === 404 ||
          response.status === 409) {
        stop();
        show("denied");
        return null;
      }
      if (!response.ok) { throw new Error("HTTP " + response.status); }
      return response.json();
    }).then(function (body) {
      if (body) { apply(body); }
    }).catch(function () {
      show("error");
      later(pollMs * 2);
    });
  }

  // Live streams end without an end marker: when playback stalls, ask the tool at once.
  video.addEventListener("waiting", function () {
    if (root.dataset.state === "live") { later(3000); }
  });

  refresh();
}());
