/*
 * Small SVG bar charts for the dashboard, hand-written (no library, no network).
 * Colours come from CSS classes (s-0, s-1, ...), so charts follow the light or dark theme.
 * Every chart scales with its container (viewBox); labels are real text.
 */
(function () {
  "use strict";

  var SVG = "http://www.w3.org/2000/svg";
  var WIDTH = 360;
  var HEIGHT = 220;
  var PAD = { top: 14, right: 6, bottom: 26, left: 40 };

  function node(tag, attrs, text) {
    var element = document.createElementNS(SVG, tag);
    Object.keys(attrs || {}).forEach(function (name) {
      element.setAttribute(name, String(attrs[name]));
    });
    if (text !== undefined) element.textContent = text;
    return element;
  }

  /* The top of the axis: four equal steps of 1, 2, 2.5 or 5 times a power of ten
     (whole steps for counts). */
  function niceMax(value, whole) {
    var quarter = Math.max(value, whole ? 1 : 0) / 4;
    if (quarter <= 0) return 1;
    var power = Math.pow(10, Math.floor(Math.log10(quarter)));
    var steps = [1, 2, 2.5, 5, 10];
    for (var i = 0; i < steps.length; i++) {
      var step = steps[i] * power;
      if (step >= quarter && (!whole || Number.isInteger(step))) return 4 * step;
    }
    return 40 * power;
  }

  function frame(title, labels, top, format) {
    var svg = node("svg", {
      viewBox: "0 0 " + WIDTH + " " + HEIGHT,
      class: "chart",
      role: "img",
      "aria-label": title,
    });
    svg.appendChild(node("title", {}, title));
    var plotH = HEIGHT - PAD.top - PAD.bottom;
    for (var i = 0; i <= 4; i++) {
      var y = PAD.top + plotH - (plotH * i) / 4;
      svg.appendChild(node("line", { x1: PAD.left, x2: WIDTH - PAD.right, y1: y, y2: y, class: "grid" }));
      svg.appendChild(
        node("text", { x: PAD.left - 4, y: y + 4, class: "axis", "text-anchor": "end" }, format((top * i) / 4))
      );
    }
    var step = (WIDTH - PAD.left - PAD.right) / Math.max(labels.length, 1);
    labels.forEach(function (label, index) {
      svg.appendChild(
        node(
          "text",
          { x: PAD.left + step * (index + 0.5), y: HEIGHT - 8, class: "axis", "text-anchor": "middle" },
          label
        )
      );
    });
    return { svg: svg, step: step, plotH: plotH };
  }

  function allValues(series) {
    return series.reduce(function (all, s) { return all.concat(s.values); }, [0]);
  }

  function isWhole(series) {
    return allValues(series).every(function (value) { return Number.isInteger(value); });
  }

  /* series: [{name, values: [numbers], kind}]; bars side by side per label; `kind` names
     the colour (CSS class s-<kind>). */
  function groupedBars(title, labels, series, format) {
    var top = niceMax(Math.max.apply(null, allValues(series)), isWhole(series));
    var f = frame(title, labels, top, format);
    var width = (f.step * 0.8) / series.length;
    series.forEach(function (s, si) {
      s.values.forEach(function (value, index) {
        var h = (f.plotH * Math.max(value, 0)) / top;
        var x = PAD.left + f.step * index + f.step * 0.1 + width * si;
        var bar = node("rect", {
          x: x.toFixed(1), y: (PAD.top + f.plotH - h).toFixed(1),
          width: Math.max(width - 1, 1).toFixed(1), height: h.toFixed(1), class: "s-" + s.kind,
        });
        bar.appendChild(node("title", {}, labels[index] + " · " + s.name + ": " + format(value)));
        f.svg.appendChild(bar);
      });
    });
    return f.svg;
  }

  /* series stacked bottom-up per label. */
  function stackedBars(title, labels, series, format) {
    var totals = labels.map(function (_, index) {
      return series.reduce(function (sum, s) { return sum + Math.max(s.values[index], 0); }, 0);
    });
    var top = niceMax(Math.max.apply(null, [0].concat(totals)), isWhole(series));
    var f = frame(title, labels, top, format);
    labels.forEach(function (label, index) {
      var base = PAD.top + f.plotH;
      series.forEach(function (s) {
        var h = (f.plotH * Math.max(s.values[index], 0)) / top;
        var bar = node("rect", {
          x: (PAD.left + f.step * index + f.step * 0.15).toFixed(1), y: (base - h).toFixed(1),
          width: (f.step * 0.7).toFixed(1), height: h.toFixed(1), class: "s-" + s.kind,
        });
        bar.appendChild(node("title", {}, label + " · " + s.name + ": " + format(s.values[index])));
        f.svg.appendChild(bar);
        base -= h;
      });
    });
    return f.svg;
  }

  function legend(series) {
    var list = document.createElement("ul");
    list.className = "legend";
    series.forEach(function (s) {
      var item = document.createElement("li");
      var mark = document.createElement("span");
      mark.className = "mark s-" + s.kind;
      item.appendChild(mark);
      item.appendChild(document.createTextNode(s.name));
      list.appendChild(item);
    });
    return list;
  }

  window.MiniCharts = { groupedBars: groupedBars, stackedBars: stackedBars, legend: legend };
})();
