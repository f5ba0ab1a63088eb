// optgate console: progressive enhancement only; every page works without this file.
// No innerHTML anywhere: names and reasons from the store are set as text.
"use strict";
(function () {
  var here = location.pathname + location.search;
  document.querySelectorAll("a[data-lang]").forEach(function (link) {
    link.href = "/lang/" + link.dataset.lang + "?next=" + encodeURIComponent(here);
  });
  document.querySelectorAll("button.print").forEach(function (button) {
    button.addEventListener("click", function () { window.print(); });
  });
  var methods = document.getElementById("methods");
  if (!methods || !window.EventSource) return;
  var doors = document.querySelector("#doors tbody");
  var events = document.querySelector("#events tbody");
  var state = document.getElementById("live-state");

  function row(cells, className) {
    var tr = document.createElement("tr");
    if (className) tr.className = className;
    cells.forEach(function (text) {
      var td = document.createElement("td");
      td.textContent = text == null ? "" : String(text);
      tr.appendChild(td);
    });
    return tr;
  }
  function replace(body, rows) {
    while (body.firstChild) body.removeChild(body.firstChild);
    rows.forEach(function (r) { body.appendChild(r); });
  }

  var source = new EventSource("/live");
  source.addEventListener("open", function () { state.classList.add("on"); });
  source.addEventListener("error", function () { state.classList.remove("on"); });
  source.addEventListener("doors", function (message) {
    replace(doors, JSON.parse(message.data).map(function (d) {
      return row([d.name, d.lock, d.contact, d.alarms], d.alarm ? "alarm" : "");
    }));
  });
  source.addEventListener("methods", function (message) {
    replace(methods.querySelector("tbody"), JSON.parse(message.data).map(function (m) {
      return row([m.method, m.granted, m.denied]);
    }));
  });
  source.addEventListener("decision", function (message) {
    var e = JSON.parse(message.data);
    if (events.querySelector('tr[data-seq="' + Number(e.seq) + '"]')) return;
    var tr = row([e.time, e.door, e.method, e.result, e.reason, e.resident], e.granted ? "granted" : "");
    tr.dataset.seq = String(Number(e.seq));
    events.insertBefore(tr, events.firstChild);
    while (events.children.length > 50) events.removeChild(events.lastChild);
  });
})();
