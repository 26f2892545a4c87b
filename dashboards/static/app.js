/* The pages' own glue: live indicator, SLA countdowns, a device's chart. */
(function () {
  "use strict";

  function pad(n) { return (n < 10 ? "0" : "") + n; }

  // A refusal (a move the state machine forbids, a missing reason, a stale form) comes
  // back as a fragment saying why: show it where the answer would have gone.
  document.addEventListener("htmx:beforeSwap", function (ev) {
    var status = ev.detail.xhr.status;
    if (status >= 400 && status < 500 && status !== 401) {
      ev.detail.shouldSwap = true;
      ev.detail.isError = false;
    }
  });

  // A live refresh must not take a form from under a person's fingers (a hold reason being
  // typed, a button being pressed): while the focus is in a list, its refresh waits.
  document.addEventListener("htmx:beforeRequest", function (ev) {
    var el = ev.detail.elt;
    if (el && el.hasAttribute("data-hold-while-focused") && el.contains(document.activeElement)) {
      ev.preventDefault();
      el.dataset.stale = "1";
    }
  });
  document.addEventListener("focusout", function (ev) {
    document.querySelectorAll("[data-hold-while-focused][data-stale]").forEach(function (el) {
      if (el.contains(ev.relatedTarget)) return;
      delete el.dataset.stale;
      setTimeout(function () { htmx.trigger(el, "refresh"); }, 0);
    });
  });

  function liveState(on) {
    var el = document.querySelector("[data-live-text]");
    if (!el) return;
    el.textContent = on ? el.dataset.on : el.dataset.off;
    var live = document.getElementById("live");
    live.classList.toggle("on", on);
    live.querySelector(".dot").textContent = on ? "●" : "◌";
  }
  document.addEventListener("htmx:sseOpen", function () { liveState(true); });
  document.addEventListener("htmx:sseError", function () { liveState(false); });
  document.addEventListener("htmx:sseMessage", function (ev) {
    var el = ev.target;
    if (!el.hasAttribute || !el.hasAttribute("data-device-listener")) return;
    var data = {};
    try { data = JSON.parse(ev.detail.data); } catch (e) { return; }
    var tile = document.querySelector('.tile[data-device="' + CSS.escape(String(data.id)) + '"]');
    if (!tile) return;
    // A status message, or a reading from a device shown as late or offline (it is back):
    // its state has changed, so the grid is drawn again; otherwise the tile is touched up.
    var away = tile.classList.contains("s-offline") || tile.classList.contains("s-late");
    if (data.channel === "status" || away) { htmx.trigger("#grid", "refresh-grid"); return; }
    var seen = tile.querySelector(".seen");
    var offset = Number(document.body.dataset.offset || 0) * 60000;
    var d = new Date(Date.parse(data.ts) + offset);
    if (seen && !isNaN(d)) seen.textContent = (seen.dataset.today || "") + " " + pad(d.getUTCHours()) + ":" + pad(d.getUTCMinutes());
    tile.classList.add("fresh");
    setTimeout(function () { tile.classList.remove("fresh"); }, 1200);
  });

  // The stream could not replay all that was missed while away: start afresh.
  document.addEventListener("htmx:sseMessage", function (ev) {
    if (ev.target.hasAttribute && ev.target.hasAttribute("data-reset-listener")) location.reload();
  });

  var SYMBOL = { alarm: "⚠", work_order: "🛠", complaint: "☎", notice: "📢", device: "·" };
  document.addEventListener("htmx:sseMessage", function (ev) {
    var feed = ev.target;
    var type = ev.detail && ev.detail.type;
    if (!feed.hasAttribute || !feed.hasAttribute("data-feed") || !type || type === "device" || !(type in SYMBOL)) return;
    var data = {};
    try { data = JSON.parse(ev.detail.data); } catch (e) { return; }
    var li = document.createElement("li");
    // The hub's local time (FH_TIMEZONE), as on the rest of the page, not the browser's.
    var offset = Number(document.body.dataset.offset || 0) * 60000;
    var at = new Date(Date.parse(data.at) + offset);
    var clock = isNaN(at) ? "" : pad(at.getUTCHours()) + ":" + pad(at.getUTCMinutes()) + ":" + pad(at.getUTCSeconds());
    // Codes as words of the page's language (the page lists them): a type, a status.
    var labels = {};
    try { labels = JSON.parse(feed.dataset.labels || "{}"); } catch (e) { labels = {}; }
    var en = document.body.dataset.lang === "en";
    var label = (feed.dataset["t_" + type] || "") + " #" + data.id;
    var what = type === "alarm" ? (labels["alarm:" + data.type] || "")
      : type === "complaint" ? (labels["category:" + data.category] || "")
      : (en && data.title_en) ? data.title_en : (en ? "" : (data.title || ""));
    var status = data.status ? (labels[type + ":" + data.status] || "") : "";
    li.textContent = SYMBOL[type] + " " + clock + " " + label + " " + what + (status ? " (" + status + ")" : "");
    li.dataset.type = type;
    feed.prepend(li);
    var empty = feed.parentNode.querySelector(".feed-empty");
    if (empty) empty.remove();
    while (feed.children.length > 30) feed.lastChild.remove();
  });

  // A span as people say it (hub.localtime.duration): 2天3小时 / 5小时12分钟 / 47分钟;
  // 2 d 3 h / 5 h 12 min / 47 min. Never minutes:seconds.
  function span(seconds) {
    var zh = document.body.dataset.lang !== "en";
    var total = Math.floor(seconds / 60), d = Math.floor(total / 1440);
    var h = Math.floor((total % 1440) / 60), m = total % 60;
    var parts = d ? [[d, "天", " d"], [h, "小时", " h"]] : h ? [[h, "小时", " h"], [m, "分钟", " min"]] : m ? [[m, "分钟", " min"]] : [];
    if (!parts.length) return zh ? "不到1分钟" : "under 1 min";
    return parts.filter(function (p) { return p[0]; })
      .map(function (p) { return p[0] + (zh ? p[1] : p[2]); }).join(zh ? "" : " ");
  }

  function tick() {
    var now = Date.now();
    document.querySelectorAll(".countdown[data-due]").forEach(function (el) {
      var due = Date.parse(el.dataset.due);
      if (isNaN(due)) return;
      var left = Math.round((due - now) / 1000);
      var cd = el.querySelector(".cd");
      if (!cd) return;
      var text = span(Math.abs(left));
      cd.textContent = left < 0 ? el.dataset.overdue + " " + text : text + " " + el.dataset.left;
      el.classList.toggle("overdue", left < 0);
    });
  }
  setInterval(tick, 1000);
  document.addEventListener("DOMContentLoaded", tick);

  function drawChart() {
    var canvas = document.getElementById("chart");
    if (!canvas || typeof Chart === "undefined") return;
    var series = JSON.parse(document.getElementById("series").textContent);
    var meta = JSON.parse(document.getElementById("chart-meta").textContent);
    var names = Object.keys(series);
    if (!names.length) {
      canvas.replaceWith(Object.assign(document.createElement("p"), { className: "empty", textContent: meta.empty }));
      return;
    }
    var dashes = [[], [6, 3], [2, 2], [8, 2, 2, 2]];
    var datasets = names.map(function (name, i) {
      var points = series[name].map(function (p) { return { x: p[0], y: p[1] }; });
      var max = points.reduce(function (m, p) { return Math.max(m, p.y); }, 0);
      // A state holds until the next reading: carry the last one to the window's end.
      if (points.length) points.push({ x: meta.until, y: points[points.length - 1].y });
      return {
        label: (meta.labels || {})[name] || name, data: points, stepped: max <= 1 ? "before" : false,
        pointRadius: points.length < 60 ? 3 : 0, borderWidth: 2,
        borderDash: dashes[i % dashes.length], yAxisID: max <= 1 ? "flag" : "y"
      };
    });
    var offset = meta.offset * 60000;
    new Chart(canvas, {
      type: "line",
      data: { datasets: datasets },
      options: {
        animation: false, parsing: false, normalized: true, maintainAspectRatio: false,
        interaction: { mode: "nearest", intersect: false },
        scales: {
          x: { type: "linear", min: meta.since, max: meta.until, ticks: { maxTicksLimit: 8, callback: function (v) {
            var d = new Date(v + offset);
            return pad(d.getUTCMonth() + 1) + "-" + pad(d.getUTCDate()) + " " + pad(d.getUTCHours()) + ":" + pad(d.getUTCMinutes());
          } } },
          y: { display: datasets.some(function (d) { return d.yAxisID === "y"; }),
               position: "left", beginAtZero: true },
          flag: { display: datasets.some(function (d) { return d.yAxisID === "flag"; }),
                  position: "right", min: 0, max: 1.05, ticks: { stepSize: 1 }, grid: { drawOnChartArea: false } }
        }
      }
    });
  }
  document.addEventListener("DOMContentLoaded", drawChart);
})();
