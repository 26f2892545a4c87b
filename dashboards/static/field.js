/* Field staff's pages: photos from the phone's camera, uploaded at once, their ids carried by
   the form they belong to (attachment_ids); the grid's filters kept in the address bar. */
(function () {
  "use strict";

  function upload(box, file) {
    var list = box.querySelector("[data-thumbs]");
    var error = box.querySelector("[data-photo-error]");
    var form = box.closest("form");
    var li = document.createElement("li");
    li.className = "pending";
    li.textContent = "…";
    list.appendChild(li);
    var data = new FormData();
    data.append("file", file, file.name || "photo.jpg");
    var headers = {};
    if (box.dataset.csrf) headers["X-CSRF-Token"] = box.dataset.csrf;
    return fetch("/photos", { method: "POST", body: data, headers: headers, credentials: "same-origin" })
      .then(function (r) { return r.json().then(function (body) { return { ok: r.ok, body: body }; }); })
      .then(function (res) {
        if (!res.ok) {
          li.remove();
          var msg = (res.body && res.body.error && res.body.error.message) || "";
          error.textContent = box.dataset.failed + " " + msg;
          return;
        }
        error.textContent = "";
        li.className = "";
        li.textContent = "";
        var img = document.createElement("img");
        img.src = "/photos/" + res.body.id + "/thumbnail";
        img.alt = "";
        img.dataset.sha256 = res.body.sha256;
        li.appendChild(img);
        var input = document.createElement("input");
        input.type = "hidden";
        input.name = "attachment_ids";
        input.value = String(res.body.id);
        form.appendChild(input);
      })
      .catch(function () { li.remove(); error.textContent = box.dataset.failed; });
  }

  // A live refresh must not drop photos taken for a move not yet pressed: while a list holds
  // some (or one is still uploading), its refresh waits like a focused form's.
  document.addEventListener("htmx:beforeRequest", function (ev) {
    var el = ev.detail.elt;
    if (!el || !el.hasAttribute || !el.hasAttribute("data-hold-while-focused")) return;
    if (ev.detail.xhr) ev.detail.xhr.fhRefresh = true;
    if (el.querySelector('[data-thumbs] li, input[name="attachment_ids"]')) {
      ev.preventDefault();
      el.dataset.stale = "1";
    }
  });

  // ...and a refresh already under way when the photo was taken is not swapped in.
  document.addEventListener("htmx:beforeSwap", function (ev) {
    var target = ev.detail.target;
    // Only the list's own refresh waits; a form's answer (the move itself) always swaps.
    if (!target || !ev.detail.xhr || !ev.detail.xhr.fhRefresh) return;
    if (target.querySelector('[data-thumbs] li, input[name="attachment_ids"]')) {
      ev.detail.shouldSwap = false;
      target.dataset.stale = "1";
    }
  });

  document.addEventListener("change", function (ev) {
    var input = ev.target;
    if (!input.hasAttribute || !input.hasAttribute("data-photo-input")) return;
    var box = input.closest("[data-photos]");
    Array.prototype.forEach.call(input.files, function (file) { upload(box, file); });
    input.value = "";
  });

  // A form sent: its photos are spent, the next move starts without them.
  document.addEventListener("htmx:afterRequest", function (ev) {
    var form = ev.detail.elt;
    if (!form || form.tagName !== "FORM" || !ev.detail.successful) return;
    form.querySelectorAll('input[name="attachment_ids"]').forEach(function (i) { i.remove(); });
  });
})();
