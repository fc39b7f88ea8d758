/* memlines.js - `pyprof view` of a memory profile (`pyprof memory -o
 * FILE.json`): each profiled function's lines with memory_profiler's
 * columns (Mem usage, Increment, Occurrences), the bytes each line
 * allocated and the bytes from it still alive, and a bar per line for its
 * share of the function's allocations.  All text goes in with
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
  function mib(v) { return v === null ? "" : v.toFixed(1) + " MiB"; }
  function bytes(n) {
    var a = Math.abs(n);
    if (a < 1024) return n + " B";
    if (a < 1048576) return (n / 1024).toFixed(1) + " KiB";
    return (n / 1048576).toFixed(1) + " MiB";
  }
  var total = 0;
  D.functions.forEach(function (f, k) {
    var section = el("section", "function");
    section.setAttribute("data-function", k);
    var allocated = 0, maxAlloc = 0;
    f.lines.forEach(function (l) {
      allocated += l[4];
      if (l[4] > maxAlloc) maxAlloc = l[4];
    });
    total += allocated;
    var h = el("h2", null, f.name + " ");
    h.appendChild(el("span", "where", "(" + f.file + ":" + f.first_line + ")  allocated " +
                     bytes(allocated)));
    section.appendChild(h);
    var table = el("table", "source");
    var head = el("tr");
    ["Line #", "Mem usage", "Increment", "Occurrences", "Allocated", "Alive", "", "Line contents"].forEach(function (t) {
      head.appendChild(el("th", null, t));
    });
    table.appendChild(head);
    f.lines.forEach(function (l) {
      var ran = l[3] > 0 || l[4] > 0;
      var tr = el("tr", ran ? "hot" : "cold");
      tr.setAttribute("data-line", l[0]);
      tr.appendChild(el("td", "lineno", String(l[0])));
      tr.appendChild(el("td", "usage", mib(l[1])));
      tr.appendChild(el("td", "increment" + (l[2] < 0 ? " freed" : ""), mib(l[2])));
      tr.appendChild(el("td", "occurrences", l[3] ? String(l[3]) : ""));
      tr.appendChild(el("td", "allocated", ran ? bytes(l[4]) : ""));
      tr.appendChild(el("td", "alive", ran ? bytes(l[5]) : ""));
      var heat = el("td", "heat"), bar = el("span", "bar");
      var width = maxAlloc > 0 ? Math.round(150 * l[4] / maxAlloc) : 0;
      bar.style.width = width + "px";
      bar.setAttribute("data-width", width);
      heat.appendChild(bar);
      tr.appendChild(heat);
      tr.appendChild(el("td", "code", l[6]));
      table.appendChild(tr);
    });
    section.appendChild(table);
    root.appendChild(section);
  });
  document.getElementById("summary").textContent = D.functions.length +
    (D.functions.length === 1 ? " function, " : " functions, ") + bytes(total) +
    " allocated by their lines; Mem usage and Increment are RSS, as memory_profiler reports them";
  document.body.setAttribute("data-ready", "1");
})();
