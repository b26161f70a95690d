// Setup wizard: show the rule that applies as soon as the answers allow, without a reload.
// The server renders the decision (POST to the form's data-preview-url); the page works
// without this script through its "Show what applies" button.
(function () {
  var form = document.getElementById("item-setup");
  var region = document.getElementById("decision");
  if (!form || !region || !window.fetch) { return; }
  var url = form.getAttribute("data-preview-url");
  var timer = null;
  var latest = 0;

  // The decision without the teacher's ticks, to tell whether anything really changed.
  function normalised(html) {
    var box = document.createElement("div");
    box.innerHTML = html;
    box.querySelectorAll("input[name=confirm]").forEach(function (b) { b.removeAttribute("checked"); });
    return box.innerHTML;
  }

  function show(html) {
    if (normalised(html) === normalised(region.innerHTML)) { return; }  // keep focus and ticks
    var ticked = {};
    region.querySelectorAll("input[name=confirm]").forEach(function (b) { ticked[b.value] = b.checked; });
    region.innerHTML = html;
    region.querySelectorAll("input[name=confirm]").forEach(function (b) { b.checked = !!ticked[b.value]; });
  }

  function refresh() {
    var asked = ++latest;
    var data = new FormData(form);
    data.delete("confirm");  // ticks stay in the page; the decision does not depend on them
    fetch(url, {
      method: "POST",
      body: data,
      credentials: "same-origin",
      headers: { "X-CSRF-Token": data.get("csrf_token"), "Accept": "text/html" }
    }).then(function (response) {
      return response.text();
    }).then(function (html) {
      if (asked === latest) { show(html); }
    }).catch(function () { /* keep the last decision; the button still works */ });
  }

  form.addEventListener("change", function (event) {
    if (region.contains(event.target)) { return; }  // ticking a condition changes no decision
    window.clearTimeout(timer);
    timer = window.setTimeout(refresh, 150);
  });
})();
