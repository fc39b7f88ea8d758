/* flamegraph.js - hover and click-to-zoom for `pyprof view --flamegraph`.
 *
 * Like flamegraph.pl's SVGs: hover shows a frame's numbers at the bottom,
 * clicking a frame widens it to the full width (its ancestors too, frames
 * beside it hide), "Reset Zoom" goes back.  "Search" (or Ctrl-F) asks for
 * a regular expression, colours the frames whose name matches and shows
 * their share of the total at the bottom right ("Matched: 12.3%"), a
 * frame inside a matched one counted once; "Reset Search" clears it.  Each frame <g> carries its
 * position as data-x/data-w (fractions of the total) and data-d (depth);
 * labels are read from its <title> with textContent, never parsed as
 * markup.
 */
(function () {
  "use strict";
  var svg = document.documentElement;
  var W = Number(svg.getAttribute("data-width")), PAD = 10;
  /* With import machinery folded (fold.h) the SVG holds two groups:
   * #frames (folded, shown first) and #frames-all; zoom and search work on
   * the group shown. */
  var frames;
  function useGroup(id) {
    frames = Array.prototype.slice.call(document.querySelectorAll("#" + id + " .frame"));
  }
  useGroup("frames");
  var details = document.getElementById("details");
  var unzoom = document.getElementById("unzoom");

  function name(g) { return g.querySelector("title").textContent.split("\n")[0]; }
  function fit(g, width) {
    var t = g.querySelector("text"), label = name(g);
    var chars = Math.floor((width - 6) / 7);
    if (chars < 3) { t.textContent = ""; return; }
    t.textContent = label.length > chars ? label.slice(0, chars - 2) + ".." : label;
  }
  function place(g, x, w) {
    var r = g.querySelector("rect"), t = g.querySelector("text");
    r.setAttribute("x", x.toFixed(2));
    r.setAttribute("width", Math.max(w, 0).toFixed(2));
    t.setAttribute("x", (x + 3).toFixed(2));
    fit(g, w);
  }
  function zoom(target) {
    var zx = Number(target.getAttribute("data-x")), zw = Number(target.getAttribute("data-w"));
    var zd = Number(target.getAttribute("data-d")), span = W - 2 * PAD;
    frames.forEach(function (g) {
      var x = Number(g.getAttribute("data-x")), w = Number(g.getAttribute("data-w"));
      var d = Number(g.getAttribute("data-d")), eps = 1e-12;
      if (d < zd && x <= zx + eps && x + w >= zx + zw - eps) {
        g.classList.remove("hide");           /* an ancestor: full width */
        place(g, PAD, span);
      } else if (d >= zd && x >= zx - eps && x + w <= zx + zw + eps) {
        g.classList.remove("hide");           /* inside the zoomed frame */
        place(g, PAD + (x - zx) / zw * span, w / zw * span);
      } else {
        g.classList.add("hide");
      }
    });
    unzoom.classList.toggle("hide", zd === 0);
  }
  Array.prototype.forEach.call(document.querySelectorAll(".frame"), function (g) {
    g.addEventListener("click", function () { zoom(g); });
    g.addEventListener("mouseover", function () {
      details.textContent = g.querySelector("title").textContent.replace(/\n/g, "  ");
    });
    g.addEventListener("mouseout", function () { details.textContent = " "; });
  });
  unzoom.addEventListener("click", function () { zoom(frames[0]); });

  var searchButton = document.getElementById("search");
  var matched = document.getElementById("matched");
  var searching = false;
  function pattern(term) {
    try { return new RegExp(term); } catch (e) {
      return new RegExp(term.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"));
    }
  }
  /* Colour the frames whose name matches `term`; their share of the
   * total, nested matches counted once (the union of their spans). */
  function search(term) {
    var re = pattern(term), spans = [];
    frames.forEach(function (g, k) {
      var hit = k > 0 && re.test(name(g));
      g.classList.toggle("match", hit);
      if (hit) spans.push([Number(g.getAttribute("data-x")),
                           Number(g.getAttribute("data-w"))]);
    });
    spans.sort(function (a, b) { return a[0] - b[0]; });
    var share = 0, end = -1;
    spans.forEach(function (s) {
      var from = Math.max(s[0], end), to = s[0] + s[1];
      if (to > from) { share += to - from; end = to; }
    });
    searching = true;
    searchButton.textContent = "Reset Search";
    matched.textContent = "Matched: " + (100 * share).toFixed(1) + "%";
    return share;
  }
  function resetSearch() {
    frames.forEach(function (g) { g.classList.remove("match"); });
    searching = false;
    searchButton.textContent = "Search";
    matched.textContent = " ";
  }
  function askSearch() {
    if (searching) { resetSearch(); return; }
    var term = window.prompt("Search for (regular expression):", "");
    if (term) search(term);
  }
  searchButton.addEventListener("click", askSearch);

  var fold = document.getElementById("fold");
  if (fold) {
    var count = fold.getAttribute("data-folded");
    fold.addEventListener("click", function () {
      var all = document.getElementById("frames-all");
      var showAll = all.classList.contains("hide");
      zoom(frames[0]);
      resetSearch();
      all.classList.toggle("hide", !showAll);
      document.getElementById("frames").classList.toggle("hide", showAll);
      useGroup(showAll ? "frames-all" : "frames");
      /* each group is laid out for its own depth: fit the SVG to it */
      var h = Number(document.getElementById(showAll ? "frames-all" : "frames")
                     .getAttribute("data-height"));
      svg.setAttribute("height", h);
      svg.setAttribute("viewBox", "0 0 " + W + " " + h);
      details.setAttribute("y", h - 12);
      matched.setAttribute("y", h - 12);
      fold.textContent = showAll ? "Fold import machinery"
                                 : "Show import machinery (" + count + " frames folded)";
    });
  }
  window.addEventListener("keydown", function (e) {
    if ((e.ctrlKey || e.metaKey) && (e.key === "f" || e.key === "F")) {
      e.preventDefault();
      if (searching) resetSearch();
      askSearch();
    }
  });
})();
