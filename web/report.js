/* report.js - the interactive part of `pyprof view`'s HTML report.
 *
 * The profile arrives as JSON in <script id="profile-data">: functions
 * (pstats' numbers), caller->callee edges, and the call-path tree as
 * parallel arrays, parents before children.  Everything is drawn with
 * DOM/SVG APIs and textContent: no string from the profile ever goes
 * through innerHTML, so a function named "<script>" is shown as text.
 *
 * Big profiles stay fast because only what is visible is drawn: a path
 * narrower than a pixel is not drawn, its time shows in its parent.
 */
(function () {
  "use strict";
  var SVGNS = "http://www.w3.org/2000/svg";
  var D = JSON.parse(document.getElementById("profile-data").textContent);
  var F = D.funcs, E = D.edges, N = D.nodes;
  var nfuncs = F.name.length, nnodes = N.parent.length;
  /* With import machinery and runpy folded away (fold.h), when the
   * profile has any: that tree is shown first, the full one a click away. */
  var folded = D.nfolded > 0 && D.folded ? D.folded : null;
  var ROW = 18, MAX_ROWS_TABLE = 300;

  /* ---- derived data ---------------------------------------------- */
  var label = new Array(nfuncs);
  for (var i = 0; i < nfuncs; i++) {
    label[i] = F.file[i] === "~" && F.line[i] === 0
      ? F.name[i] : F.name[i] + " (" + F.file[i] + ":" + F.line[i] + ")";
  }
  /* pstats' func_std_string: built-ins as {name} without the <>. */
  function stdName(f) {
    var name = F.name[f];
    if (F.file[f] === "~" && F.line[f] === 0) {
      return name.charAt(0) === "<" && name.charAt(name.length - 1) === ">"
        ? "{" + name.slice(1, -1) + "}" : name;
    }
    return F.file[f] + ":" + F.line[f] + "(" + name + ")";
  }
  var firstChild, nextSibling, depth, x0, total, maxDepth;
  /* Make `nodes` the tree every chart draws. */
  function useTree(nodes) {
    N = nodes;
    nnodes = N.parent.length;
    firstChild = new Int32Array(nnodes).fill(-1);
    nextSibling = new Int32Array(nnodes).fill(-1);
    for (var n = nnodes - 1; n >= 1; n--) {
      var p = N.parent[n];
      nextSibling[n] = firstChild[p];
      firstChild[p] = n;
    }
    depth = new Int32Array(nnodes);
    x0 = new Float64Array(nnodes);
    total = N.cum[0] > 0 ? N.cum[0] : 1e-12;
    for (n = 0; n < nnodes; n++) {
      var at = x0[n];
      for (var c = firstChild[n]; c >= 0; c = nextSibling[c]) {
        depth[c] = depth[n] + 1;
        x0[c] = at;
        at += Math.max(N.cum[c], 0);
      }
    }
    maxDepth = 0;
    for (n = 0; n < nnodes; n++) { if (depth[n] > maxDepth) maxDepth = depth[n]; }
  }
  useTree(folded || D.nodes);

  /* Times.  Each time column of a table gets one unit (s, ms, \u00b5s or
   * ns: the largest in which its biggest value is at least 1) and as many
   * decimals as its smallest non-zero value needs for two significant
   * digits (at most MAX_DIGITS), so every non-zero time reads as a number
   * -- never "0.000" for 16.6 \u00b5s, as three decimals of seconds show
   * a short profile.  A value still too small for the column's decimals
   * gets its own exponent ("4.5e-7"); an exact zero is "0".  A lone time
   * (tooltip, summary) is scaled on its own. */
  var UNITS = [["s", 1], ["ms", 1e-3], ["\u00b5s", 1e-6], ["ns", 1e-9]];
  var MAX_DIGITS = 6;
  function timeScale(values) {
    var least = Infinity, most = 0;
    for (var k = 0; k < values.length; k++) {
      if (values[k] > 0 && values[k] < least) least = values[k];
      if (values[k] > most) most = values[k];
    }
    if (least === Infinity) return { unit: "s", factor: 1, digits: 3 };
    var u = 0;
    while (u < UNITS.length - 1 && most / UNITS[u][1] < 1) u++;
    var digits = 2 - Math.floor(Math.log10(least / UNITS[u][1]));
    return { unit: UNITS[u][0], factor: UNITS[u][1],
             digits: Math.max(0, Math.min(MAX_DIGITS, digits)) };
  }
  function fmtIn(scale, s) {
    if (s === 0) return "0";
    var v = s / scale.factor, text = v.toFixed(scale.digits);
    return Number(text) === 0 ? v.toPrecision(2) : text;
  }
  function fmt(s) { var scale = timeScale([s]); return fmtIn(scale, s) + " " + scale.unit; }
  /* Put each time column's unit in its header: "tottime (ms)". */
  function labelUnits(table, scales) {
    var ths = document.querySelectorAll("#" + table + " thead th");
    for (var k = 0; k < ths.length; k++) {
      var base = ths[k].getAttribute("data-label") || ths[k].textContent;
      ths[k].setAttribute("data-label", base);
      ths[k].textContent = scales[k] ? base + " (" + scales[k].unit + ")" : base;
    }
  }
  function pct(s) { return (100 * s / total).toFixed(1) + "%"; }
  function nodeName(n) { return n === 0 ? "all" : label[N.func[n]]; }
  /* Warm colours as flamegraph.pl uses, from the function's name so the
   * same function has the same colour everywhere; built-ins are blue. */
  function color(n) {
    if (n === 0) return "#c8c8c8";
    var f = N.func[n], s = F.name[f], h = 0;
    for (var k = 0; k < s.length; k++) h = (h * 31 + s.charCodeAt(k)) | 0;
    h = Math.abs(h);
    if (F.file[f] === "~") return "hsl(" + (195 + h % 30) + ",60%," + (62 + (h >> 5) % 16) + "%)";
    return "hsl(" + (h % 50) + ",85%," + (52 + (h >> 6) % 20) + "%)";
  }
  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    if (attrs) for (var k in attrs) e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function svgEl(tag, attrs) {
    var e = document.createElementNS(SVGNS, tag);
    for (var k in attrs) e.setAttribute(k, attrs[k]);
    return e;
  }

  /* ---- header ------------------------------------------------------ */
  document.getElementById("summary").textContent =
    D.calls + " function calls " +
    (D.calls !== D.primCalls ? "(" + D.primCalls + " primitive calls) " : "") + "in " +
    fmt(D.totalTT) + "; " + nfuncs + " functions, " + nnodes +
    " call paths shown";
  document.getElementById("provenance").textContent = "Call paths: " + D.provenance +
    (D.exact ? "" : ". The icicle and sunburst split each function's time among its callers in proportion; the table is exact.");

  /* ---- tooltip ----------------------------------------------------- */
  var tip = document.getElementById("tooltip");
  function showTip(ev, n) {
    var text = nodeName(n) + "\nncalls: " + N.calls[n] + "\ntottime: " +
      fmt(N.self[n]) + "\ncumtime: " + fmt(N.cum[n]) + " (" +
      pct(N.cum[n]) + " of total)";
    tip.textContent = text;
    tip.hidden = false;
    /* Beside the pointer, on whichever side it fits: never cut off by the
     * window's right or bottom edge. */
    var w = tip.offsetWidth, h = tip.offsetHeight, gap = 12;
    var vw = document.documentElement.clientWidth, vh = window.innerHeight;
    var left = ev.clientX + gap + w <= vw ? ev.clientX + gap : ev.clientX - gap - w;
    var top = ev.clientY + gap + h <= vh ? ev.clientY + gap : ev.clientY - gap - h;
    tip.style.left = Math.max(0, Math.min(left, vw - w)) + "px";
    tip.style.top = Math.max(0, Math.min(top, vh - h)) + "px";
  }
  function hideTip() { tip.hidden = true; }

  /* ---- charts ------------------------------------------------------ */
  var chart = document.getElementById("chart");
  var state = { focus: 0, view: "icicle", selectedFunc: -1, search: null };

  function pathTo(n) {
    var path = [];
    for (var k = n; ; k = N.parent[k]) { path.push(k); if (k === 0) break; }
    return path.reverse();
  }
  /* Whether the node's function matches the search (flamegraph.pl's:
   * a regular expression, else the text as typed). */
  function matches(n) {
    return state.search !== null && n !== 0 && state.search.test(label[N.func[n]]);
  }
  function bind(shape, n) {
    shape.setAttribute("data-node", n);
    if (matches(n)) shape.classList.add("match");
    shape.setAttribute("aria-label", nodeName(n));
    shape.addEventListener("mousemove", function (ev) { showTip(ev, n); });
    shape.addEventListener("mouseleave", hideTip);
    shape.addEventListener("click", function () {
      hideTip();
      if (n !== 0) selectFunc(N.func[n]);
      zoom(n === state.focus && n !== 0 ? N.parent[n] : n);
    });
  }

  function drawIcicle() {
    var W = chart.clientWidth || 1000;
    var ancestors = pathTo(state.focus);
    var fx = x0[state.focus], fw = Math.max(N.cum[state.focus], 1e-300);
    var rows = ancestors.length, shapes = [];
    var stack = [state.focus], maxRow = rows;
    var frag = document.createDocumentFragment();
    function rect(n, x, w, row) {
      var g = svgEl("g", {});
      var r = svgEl("rect", { x: x.toFixed(1), y: row * ROW, width: Math.max(w - 0.5, 0.5).toFixed(1),
                              height: ROW - 1, fill: color(n), "class": "node" });
      if (state.selectedFunc >= 0 && n !== 0 && N.func[n] === state.selectedFunc) r.setAttribute("class", "node selected");
      bind(r, n);
      g.appendChild(r);
      if (w > 30) {
        var t = svgEl("text", { x: (x + 3).toFixed(1), y: row * ROW + 13 });
        var name = nodeName(n), fit = Math.floor((w - 6) / 6.5);
        t.textContent = name.length > fit ? name.slice(0, Math.max(fit - 2, 0)) + ".." : name;
        g.appendChild(t);
      }
      frag.appendChild(g);
      shapes.push(n);
    }
    for (var a = 0; a < ancestors.length - 1; a++) rect(ancestors[a], 0, W, a);
    var rowOf = {};
    rowOf[state.focus] = rows - 1;
    rect(state.focus, 0, W, rows - 1);
    while (stack.length) {
      var n = stack.pop();
      for (var c = firstChild[n]; c >= 0; c = nextSibling[c]) {
        var w = N.cum[c] / fw * W;
        if (w < 1) continue;       /* too small to see: stays in its parent */
        var x = (x0[c] - fx) / fw * W, row = rowOf[n] + 1;
        rowOf[c] = row;
        if (row + 1 > maxRow) maxRow = row + 1;
        rect(c, x, w, row);
        stack.push(c);
      }
    }
    var svg = svgEl("svg", { width: W, height: maxRow * ROW + 2, id: "icicle" });
    svg.appendChild(frag);
    chart.replaceChildren(svg);
  }

  function arc(cx, cy, r0, r1, a0, a1) {
    var large = a1 - a0 > Math.PI ? 1 : 0;
    if (a1 - a0 >= 2 * Math.PI - 1e-6) a1 = a0 + 2 * Math.PI - 1e-4;
    var s0 = Math.sin(a0), c0 = Math.cos(a0), s1 = Math.sin(a1), c1 = Math.cos(a1);
    return "M" + (cx + r1 * s0) + "," + (cy - r1 * c0) +
      "A" + r1 + "," + r1 + " 0 " + large + " 1 " + (cx + r1 * s1) + "," + (cy - r1 * c1) +
      "L" + (cx + r0 * s1) + "," + (cy - r0 * c1) +
      "A" + r0 + "," + r0 + " 0 " + large + " 0 " + (cx + r0 * s0) + "," + (cy - r0 * c0) + "Z";
  }

  function drawSunburst() {
    var W = chart.clientWidth || 1000, H = Math.min(W, 640), R = H / 2 - 4;
    var fx = x0[state.focus], fw = Math.max(N.cum[state.focus], 1e-300);
    /* As many rings as the deepest arc drawn needs (at most 10), and two
     * more of margin, where labels of the outermost arcs run along the
     * radius: a shallow profile gets thick rings, with room for labels. */
    var depth = visibleDepth(state.focus, fw, R, 10);
    var rings = Math.min(depth + 2, 10), ring = R / (rings + 1);
    var cx = W / 2, cy = H / 2;
    var svg = svgEl("svg", { width: W, height: H, id: "sunburst" });
    var center = svgEl("circle", { cx: cx, cy: cy, r: ring, fill: color(state.focus), "class": "node" });
    bind(center, state.focus === 0 ? 0 : N.parent[state.focus]);
    center.classList.toggle("match", matches(state.focus));
    center.addEventListener("mousemove", function (ev) { showTip(ev, state.focus); });
    svg.appendChild(center);
    var t = svgEl("text", { x: cx, y: cy + 4, "text-anchor": "middle" });
    t.textContent = shorten(state.focus === 0 ? "all" : F.name[N.func[state.focus]],
                            Math.floor((2 * ring - 6) / CHAR_W));
    svg.appendChild(t);
    var placed = [labelBox(cx, cy + 4, t.textContent.length)];
    var stack = [[state.focus, 0]], labels = [];
    while (stack.length) {
      var item = stack.pop(), n = item[0], d = item[1];
      if (d >= depth) continue;
      for (var c = firstChild[n]; c >= 0; c = nextSibling[c]) {
        var a0 = (x0[c] - fx) / fw * 2 * Math.PI, a1 = a0 + N.cum[c] / fw * 2 * Math.PI;
        if ((a1 - a0) * ring * (d + 2) < 1) continue;  /* under a pixel */
        var path = svgEl("path", { d: arc(cx, cy, ring * (d + 1), ring * (d + 2), a0, a1),
                                   fill: color(c), "class": "node" });
        if (state.selectedFunc >= 0 && N.func[c] === state.selectedFunc) path.setAttribute("class", "node selected");
        bind(path, c);
        svg.appendChild(path);
        var rmid = ring * (d + 1.5);
        /* A radial label runs from the ring's inner edge outwards: to the
         * ring's outer edge, or to the chart's when nothing is drawn
         * outside this arc (its wedge is empty there). */
        var inner = ring * (d + 1) + 3;
        var outer = d + 1 < depth && drawnChild(c, fw, ring * (d + 3)) ? ring * (d + 2) - 3 : R - 2;
        if ((a1 - a0) * rmid > 40 || (a1 - a0) * inner >= CHAR_H + 2) {
          labels.push({ name: F.name[N.func[c]], room: (a1 - a0) * rmid, mid: (a0 + a1) / 2,
                        angle: a1 - a0, depth: d, rmid: rmid, inner: inner, outer: outer });
        }
        stack.push([c, d + 1]);
      }
    }
    /* Labels near the centre crowd each other: the widest arcs (an arc
     * before its descendants) are labelled first, horizontally or along
     * the radius -- whichever shows more of the name without touching a
     * label already placed (narrow arcs have room along the radius) --
     * else not at all. */
    labels.sort(function (a, b) { return b.angle - a.angle || a.depth - b.depth; });
    labels.forEach(function (l) {
      var x = cx + l.rmid * Math.sin(l.mid), y = cy - l.rmid * Math.cos(l.mid) + 4;
      var across = l.room <= 40 ? null : longest(l.name, Math.floor((l.room - 6) / CHAR_W), function (chars) {
        return labelBox(x, y, chars);
      });
      var along = longest(l.name, Math.floor((l.outer - l.inner) / CHAR_W), function (chars) {
        return radialBox(cx, cy, l.mid, l.inner, chars);
      });
      if (across && (!along || across.text.length >= along.text.length)) {
        var tx = svgEl("text", { x: x, y: y, "text-anchor": "middle" });
        tx.textContent = across.text;
        svg.appendChild(tx);
        placed.push(across.box);
      }
      else if (along) {
        svg.appendChild(radialText(cx, cy, l.mid, l.inner, along.text));
        placed.push(along.box);
      }
    });
    /* The longest shortening of name (at most fit characters, at least 4)
     * whose box touches no label placed: {text, box}, or null. */
    function longest(name, fit, boxOf) {
      for (fit = Math.min(fit, Math.max(name.length, 4)); fit >= 4; fit--) {
        var text = shorten(name, fit), box = boxOf(text.length);
        if (!placed.some(function (p) { return overlaps(p, box); })) {
          return { text: text, box: box };
        }
      }
      return null;
    }
    chart.replaceChildren(svg);
  }
  /* Whether a child of n is at least a pixel wide at radius r. */
  function drawnChild(n, fw, r) {
    for (var c = firstChild[n]; c >= 0; c = nextSibling[c]) {
      if (N.cum[c] / fw * 2 * Math.PI * r >= 1) return true;
    }
    return false;
  }
  /* How deep below `focus` arcs at least a pixel wide (at the outer
   * radius R) go, from 1 to `most`. */
  function visibleDepth(focus, fw, R, most) {
    var deepest = 1, stack = [[focus, 0]];
    while (stack.length) {
      var item = stack.pop();
      for (var c = firstChild[item[0]]; c >= 0; c = nextSibling[c]) {
        if (N.cum[c] / fw * 2 * Math.PI * R < 1) continue;
        deepest = Math.max(deepest, item[1] + 1);
        if (item[1] + 1 < most) stack.push([c, item[1] + 1]);
      }
    }
    return deepest;
  }
  /* Labels are rectangles that may be turned: centre (x, y), half width
   * along the text's direction (ux, uy), half height across it. */
  var CHAR_W = 6.5, CHAR_H = 11;
  function labelBox(x, y, chars) {
    return { x: x, y: y - 4, hw: chars * CHAR_W / 2 + 2, hh: 7, ux: 1, uy: 0 };
  }
  function radialBox(cx, cy, mid, inner, chars) {
    var len = chars * CHAR_W, r = inner + len / 2;
    return { x: cx + r * Math.sin(mid), y: cy - r * Math.cos(mid),
             hw: len / 2 + 1, hh: CHAR_H / 2 + 1, ux: Math.sin(mid), uy: -Math.cos(mid) };
  }
  /* Text along the radius at angle mid (0 at the top, clockwise), from
   * radius inner outwards; on the left half turned half a turn more, so
   * that it never reads upside down. */
  function radialText(cx, cy, mid, inner, text) {
    var x = cx + inner * Math.sin(mid), y = cy - inner * Math.cos(mid);
    var left = mid > Math.PI, deg = mid * 180 / Math.PI + (left ? 90 : -90);
    var tx = svgEl("text", { x: x, y: y, dy: "0.35em", "text-anchor": left ? "end" : "start",
                             transform: "rotate(" + deg + " " + x + " " + y + ")",
                             "class": "radial" });
    tx.textContent = text;
    return tx;
  }
  /* Separating axes: two turned rectangles overlap unless their
   * projections part on one of the four edge directions. */
  function overlaps(a, b) {
    var dx = b.x - a.x, dy = b.y - a.y;
    var axes = [a.ux, a.uy, -a.uy, a.ux, b.ux, b.uy, -b.uy, b.ux];
    for (var k = 0; k < 8; k += 2) {
      var px = axes[k], py = axes[k + 1];
      var ra = a.hw * Math.abs(a.ux * px + a.uy * py) + a.hh * Math.abs(a.ux * py - a.uy * px);
      var rb = b.hw * Math.abs(b.ux * px + b.uy * py) + b.hh * Math.abs(b.ux * py - b.uy * px);
      if (Math.abs(dx * px + dy * py) >= ra + rb) return false;
    }
    return true;
  }
  function shorten(name, fit) {
    return name.length > fit ? name.slice(0, Math.max(fit - 2, 1)) + ".." : name;
  }

  function drawBreadcrumb() {
    var nav = document.getElementById("breadcrumb");
    nav.replaceChildren();
    var path = pathTo(state.focus);
    path.forEach(function (n, k) {
      if (k) nav.appendChild(el("span", { "class": "sep" }, ">"));
      var a = el("a", { "data-node": n }, n === 0 ? "all" : F.name[N.func[n]]);
      a.addEventListener("click", function () { zoom(n); });
      nav.appendChild(a);
    });
  }

  function draw() {
    if (state.view === "icicle") drawIcicle(); else drawSunburst();
    drawBreadcrumb();
  }
  function zoom(n) { state.focus = n; draw(); }
  function setView(v) {
    state.view = v;
    document.getElementById("show-icicle").className = v === "icicle" ? "active" : "";
    document.getElementById("show-sunburst").className = v === "sunburst" ? "active" : "";
    draw();
  }
  /* ---- search ------------------------------------------------------ */
  /* The matched share of the total: each matching path's time, a match
   * inside a matching path counted once, as flamegraph.pl counts it. */
  function matchedShare() {
    var sum = 0, stack = [0];
    while (stack.length) {
      var n = stack.pop();
      if (matches(n)) { sum += Math.max(N.cum[n], 0); continue; }
      for (var c = firstChild[n]; c >= 0; c = nextSibling[c]) stack.push(c);
    }
    return sum / total;
  }
  document.getElementById("search").addEventListener("input", function () {
    var term = this.value;
    if (!term) state.search = null;
    else {
      try { state.search = new RegExp(term); }
      catch (err) { state.search = new RegExp(term.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")); }
    }
    document.getElementById("matched").textContent = state.search === null ? ""
      : "Matched: " + (100 * matchedShare()).toFixed(1) + "%";
    draw();
  });
  var foldButton = document.getElementById("fold");
  function showFolding() {
    var on = N === folded;
    foldButton.textContent = on ? "Show import machinery (" + D.nfolded + " frames folded)"
                                : "Fold import machinery";
    foldButton.className = on ? "" : "active";
  }
  if (folded) {
    foldButton.hidden = false;
    showFolding();
    foldButton.addEventListener("click", function () {
      useTree(N === folded ? D.nodes : folded);
      state.focus = 0;
      showFolding();
      var search = document.getElementById("search");
      search.dispatchEvent(new Event("input"));   /* its share, redrawn */
    });
  }
  document.getElementById("show-icicle").addEventListener("click", function () { setView("icicle"); });
  document.getElementById("show-sunburst").addEventListener("click", function () { setView("sunburst"); });

  /* ---- callers / callees -------------------------------------------- */
  var callersOf = [], calleesOf = [];
  for (i = 0; i < nfuncs; i++) { callersOf.push([]); calleesOf.push([]); }
  for (var e = 0; e < E.caller.length; e++) {
    callersOf[E.callee[e]].push(e);
    calleesOf[E.caller[e]].push(e);
  }
  function fillPairs(id, edges, other) {
    var body = document.querySelector("#" + id + " tbody");
    body.replaceChildren();
    var tt = timeScale(edges.map(function (e) { return E.tt[e]; }));
    var ct = timeScale(edges.map(function (e) { return E.ct[e]; }));
    labelUnits(id, [null, tt, ct, null]);
    edges.slice().sort(function (a, b) { return E.ct[b] - E.ct[a]; }).forEach(function (e) {
      var tr = el("tr");
      tr.appendChild(el("td", null, String(E.nc[e])));
      tr.appendChild(el("td", null, fmtIn(tt, E.tt[e])));
      tr.appendChild(el("td", null, fmtIn(ct, E.ct[e])));
      tr.appendChild(el("td", null, label[other[e]]));
      tr.addEventListener("click", function () { selectFunc(other[e]); });
      body.appendChild(tr);
    });
  }
  function selectFunc(f) {
    state.selectedFunc = f;
    document.getElementById("selected-name").textContent = label[f];
    fillPairs("callers", callersOf[f], E.caller);
    fillPairs("callees", calleesOf[f], E.callee);
    var rows = document.querySelectorAll("#stats tbody tr");
    for (var k = 0; k < rows.length; k++) {
      rows[k].className = Number(rows[k].getAttribute("data-func")) === f ? "selected" : "";
    }
  }

  /* ---- the pstats table ---------------------------------------------- */
  var sortKey = "ct", sortDesc = true, filterText = "";
  function keyValue(f, key) {
    switch (key) {
      case "nc": return F.nc[f];
      case "tt": return F.tt[f];
      case "ct": return F.ct[f];
      case "ttpc": return F.nc[f] ? F.tt[f] / F.nc[f] : 0;
      case "ctpc": return F.cc[f] ? F.ct[f] / F.cc[f] : 0;
      default: return label[f];
    }
  }
  function drawTable() {
    var ids = [], needle = filterText.toLowerCase();
    for (var f = 0; f < nfuncs; f++) {
      if (!needle || label[f].toLowerCase().indexOf(needle) >= 0) ids.push(f);
    }
    var key = sortKey, sign = sortDesc ? -1 : 1;
    ids.sort(function (a, b) {
      var va = keyValue(a, key), vb = keyValue(b, key);
      return (va < vb ? -1 : va > vb ? 1 : a - b) * sign;
    });
    var body = document.querySelector("#stats tbody");
    var frag = document.createDocumentFragment();
    var shown = ids.slice(0, MAX_ROWS_TABLE), scales = [null];
    ["tt", "ttpc", "ct", "ctpc"].forEach(function (key) {
      scales.push(timeScale(shown.map(function (f) { return keyValue(f, key); })));
    });
    labelUnits("stats", scales);
    shown.forEach(function (f) {
      var tr = el("tr", { "data-func": f });
      if (f === state.selectedFunc) tr.className = "selected";
      tr.appendChild(el("td", null, F.nc[f] === F.cc[f] ? String(F.nc[f]) : F.nc[f] + "/" + F.cc[f]));
      tr.appendChild(el("td", null, fmtIn(scales[1], F.tt[f])));
      tr.appendChild(el("td", null, fmtIn(scales[2], keyValue(f, "ttpc"))));
      tr.appendChild(el("td", null, fmtIn(scales[3], F.ct[f])));
      tr.appendChild(el("td", null, fmtIn(scales[4], keyValue(f, "ctpc"))));
      tr.appendChild(el("td", null, stdName(f)));
      tr.addEventListener("click", function () { selectFunc(f); });
      frag.appendChild(tr);
    });
    body.replaceChildren(frag);
    document.getElementById("table-count").textContent = ids.length > MAX_ROWS_TABLE
      ? "showing " + MAX_ROWS_TABLE + " of " + ids.length + " functions"
      : ids.length + " functions";
    var ths = document.querySelectorAll("#stats th");
    for (var k = 0; k < ths.length; k++) {
      ths[k].className = ths[k].getAttribute("data-key") === sortKey ? (sortDesc ? "sorted-desc" : "sorted-asc") : "";
    }
  }
  var headers = document.querySelectorAll("#stats th");
  for (var h = 0; h < headers.length; h++) {
    headers[h].addEventListener("click", function () {
      var key = this.getAttribute("data-key");
      if (key === sortKey) sortDesc = !sortDesc;
      else { sortKey = key; sortDesc = key !== "name"; }
      drawTable();
    });
  }
  document.getElementById("filter").addEventListener("input", function () {
    filterText = this.value;
    drawTable();
  });

  window.addEventListener("resize", draw);
  draw();
  drawTable();
  document.body.setAttribute("data-ready", "1");
})();
