/* The recording player: asks the tool for a short-lived signed media URL (for this viewer
   only) and renews it while the page is open; a range request with an expired URL is refused
   by nginx, then the player takes a new URL and continues at the same moment. */
(function () {
  "use strict";
  var root = document.getElementById("recording-player");
  if (!root) { return; }
  var video = document.getElementById("recording-video");
  var status = document.getElementById("player-status");
  var renewMs = Number(root.dataset.renew || 120) * 1000;
  var timer = null;
  var current = null;

  video.addEventListener("contextmenu", function (e) { e.preventDefault(); });

  function fetchLink() {
    return fetch(root.dataset.linkUrl, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (r) {
        if (!r.ok) { throw new Error("denied"); }
        return r.json();
      });
  }
  function load(first) {
    fetchLink().then(function (link) {
      current = link;
      if (first) {
        if (link.poster) { video.poster = link.poster; }
        video.src = link.url;
      }
      clearTimeout(timer);
      timer = setTimeout(function () { load(false); }, renewMs);
    }, function () {
      status.textContent = root.dataset.msgDenied;
      video.removeAttribute("src");
      video.load();
    });
  }
  video.addEventListener("error", function () {
    // An expired link: continue with a fresh one at the same position.
    var at = video.currentTime, playing = !video.paused;
    fetchLink().then(function (link) {
      current = link;
      video.src = link.url;
      video.currentTime = at;
      if (playing) { video.play(); }
    }, function () { status.textContent = root.dataset.msgDenied; });
  });
  load(true);
})();
