/* lines.js - `pyprof view` of a line profile: each profiled function's
 * source with a heat bar per line (its share of the function's time),
 * hits and times as line_profiler prints them.  All text goes in with
 * textContent: source lines and names are never parsed as markup. */
(function () {
  "use strict";
  var D = JSON.parse(document.getElementById("profile-data").textContent);
  var root = document.getElementById("functions");
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function us(ns) { return (ns / 1000).toFixed(1); }
  var total = 0;
  D.functions.forEach(function (f, k) {
    total += f.total_ns;
    var section = el("section", "function");
    section.setAttribute("data-function", k);
    var h = el("h2", null, f.name + " ");
    h.appendChild(el("span", "where", "(" + f.file + ":" + f.first_line + ")  total " +
                     (f.total_ns / 1e9).toFixed(6) + " s"));
    section.appendChild(h);
    if (!f.source) section.appendChild(el("p", "note", "source not found: showing line numbers only"));
    var table = el("table", "source");
    var head = el("tr");
    ["Line #", "Hits", "Time (\u00b5s)", "Per hit", "% Time", "", "Line contents"].forEach(function (t) {
      head.appendChild(el("th", null, t));
    });
    table.appendChild(head);
    var maxTime = 0;
    f.lines.forEach(function (l) { if (l[2] > maxTime) maxTime = l[2]; });
    f.lines.forEach(function (l, i) {
      var tr = el("tr", l[1] ? "hot" : "cold");
      tr.setAttribute("data-line", l[0]);
      tr.appendChild(el("td", "lineno", String(l[0])));
      tr.appendChild(el("td", "hits", l[1] ? String(l[1]) : ""));
      tr.appendChild(el("td", "time", l[1] ? us(l[2]) : ""));
      tr.appendChild(el("td", "perhit", l[1] ? us(l[2] / l[1]) : ""));
      tr.appendChild(el("td", "pct", l[1] && f.total_ns ? (100 * l[2] / f.total_ns).toFixed(1) : ""));
      var heat = el("td", "heat"), bar = el("span", "bar");
      var width = maxTime > 0 ? Math.round(150 * l[2] / maxTime) : 0;
      bar.style.width = width + "px";
      bar.setAttribute("data-width", width);
      heat.appendChild(bar);
      tr.appendChild(heat);
      tr.appendChild(el("td", "code", f.source && f.source[i] !== null ? f.source[i] : ""));
      table.appendChild(tr);
    });
    section.appendChild(table);
    root.appendChild(section);
  });
  document.getElementById("summary").textContent = D.functions.length +
    (D.functions.length === 1 ? " function, " : " functions, ") + (total / 1e9).toFixed(6) + " s in profiled lines";
  document.body.setAttribute("data-ready", "1");
})();
