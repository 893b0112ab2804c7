/*
 * The dashboard page: four tabs over the JSON API (matrix, team, trends, risk).
 * Every request carries "Authorization: tma <initData>"; every word comes from the
 * server's catalog in the viewer's language (GET api/me, or texts?lang= before sign-in).
 * Data is put into the page as text nodes only, never as HTML.
 */
(function () {
  "use strict";

  var tg = window.MiniApp;
  var charts = window.MiniCharts;
  var state = {
    texts: {},
    language: "ru",
    tab: "matrix",
    manager: "",
    managers: [],
    cache: {},
    asOf: null,
    today: null,
    opening: false,
  };
  var view = document.getElementById("view");

  // --- texts and formats ------------------------------------------------------------

  function format(template, params) {
    return String(template).replace(/\{(\w+)(?::0?(\d+)d)?\}/g, function (whole, name, width) {
      if (!(name in params)) return whole;
      var value = String(params[name]);
      if (width) while (value.length < Number(width)) value = "0" + value;
      return value;
    });
  }

  function pluralForm(n) {
    try {
      return new Intl.PluralRules(state.language).select(n);
    } catch (error) {
      return n === 1 ? "one" : "other";
    }
  }

  function t(key, params) {
    var value = state.texts[key];
    params = params || {};
    if (value === undefined || value === null) return key;
    if (typeof value === "object") {
      var n = Number(params.n || 0);
      value = value[pluralForm(n)] || value.many || value.other || value.one;
    }
    return format(value, params);
  }

  function money(text) {
    var amount = Math.round(Number(text));
    var digits = String(Math.abs(amount)).replace(/\B(?=(\d{3})+(?!\d))/g, t("format.thousands"));
    return t("format.money", { amount: (amount < 0 ? "−" : "") + digits });
  }

  function percent(share) {
    return Math.round(share * 100) + "%";
  }

  function parseDay(iso) {
    var parts = iso.split("-").map(Number);
    return { year: parts[0], month: parts[1], day: parts[2] };
  }

  function shortDate(iso) {
    if (!iso) return "";
    var d = parseDay(iso);
    return t("format.short_date", {
      day: d.day, month: d.month, year: d.year, mon: t("format.month_short.m" + d.month),
    });
  }

  function longDate(iso) {
    var d = parseDay(iso);
    return t("format.date", {
      day: d.day, month: d.month, year: d.year, mon: t("format.month_short.m" + d.month),
    });
  }

  function monthShort(isoMonth) {
    // the name of the month cut to three letters: "янв", "май", "Jan" (not "мая")
    var name = t("format.month.m" + Number(isoMonth.split("-")[1]));
    return name.length > 4 ? name.slice(0, 3) : name;
  }

  // --- the page ---------------------------------------------------------------------

  function el(tag, className, text) {
    var element = document.createElement(tag);
    if (className) element.className = className;
    if (text !== undefined && text !== null) element.textContent = text;
    return element;
  }

  function append(parent) {
    for (var i = 1; i < arguments.length; i++) if (arguments[i]) parent.appendChild(arguments[i]);
    return parent;
  }

  function clear(element) {
    while (element.firstChild) element.removeChild(element.firstChild);
  }

  function toast(text) {
    var box = document.getElementById("toast");
    box.textContent = text;
    box.hidden = false;
    clearTimeout(toast.timer);
    toast.timer = setTimeout(function () { box.hidden = true; }, 3000);
  }

  function applyTheme(params) {
    var root = document.documentElement;
    Object.keys(params || {}).forEach(function (name) {
      if (/^[a-z_]+$/.test(name) && /^#[0-9a-fA-F]{3,8}$/.test(params[name])) {
        root.style.setProperty("--tg-theme-" + name.replace(/_/g, "-"), params[name]);
      }
    });
    var bg = (params && params.bg_color) || "";
    var dark = null;
    if (/^#[0-9a-fA-F]{6}$/.test(bg)) {
      var r = parseInt(bg.substr(1, 2), 16), g = parseInt(bg.substr(3, 2), 16);
      var b = parseInt(bg.substr(5, 2), 16);
      dark = 0.2126 * r + 0.7152 * g + 0.0722 * b < 128;
    } else if (tg.colorScheme) {
      dark = tg.colorScheme === "dark";
    }
    if (dark === null) root.removeAttribute("data-scheme");
    else root.setAttribute("data-scheme", dark ? "dark" : "light");
  }

  // --- the API ----------------------------------------------------------------------

  function ApiError(status, code, message) {
    this.status = status;
    this.code = code;
    this.message = message;
  }

  function api(path, options) {
    options = options || {};
    var headers = { Authorization: "tma " + tg.initData, Accept: "application/json" };
    return fetch(path, { method: options.method || "GET", headers: headers, cache: "no-store" })
      .catch(function () { throw new ApiError(0, "network", ""); })
      .then(function (response) {
        return response.json().catch(function () { return {}; }).then(function (body) {
          if (!response.ok) throw new ApiError(response.status, body.error || "http", body.message || "");
          return body;
        });
      });
  }

  function errorText(error) {
    if (!(error instanceof ApiError)) return t("errors.generic", { message: String(error) });
    if (error.status === 0) return t("errors.network");
    if (error.code === "expired_init_data") return t("errors.expired");
    if (error.status === 401) return t("errors.unauthorized");
    if (error.status === 403) return t("errors.forbidden");
    if (error.code === "chat_unavailable") return t("errors.chat_unavailable");
    if (error.status === 404) return t("errors.not_found");
    return t("errors.generic", { message: error.message || error.code });
  }

  function showError(error, retry) {
    clear(view);
    var box = append(el("section", "card error"), el("p", null, errorText(error)));
    if (retry && error.status !== 401 && error.status !== 403) {
      var button = el("button", "button", t("retry"));
      button.type = "button";
      button.addEventListener("click", retry);
      box.appendChild(button);
    }
    view.appendChild(box);
  }

  function query(params) {
    var parts = [];
    Object.keys(params).forEach(function (key) {
      if (params[key] !== "" && params[key] !== null && params[key] !== undefined) {
        parts.push(encodeURIComponent(key) + "=" + encodeURIComponent(params[key]));
      }
    });
    return parts.length ? "?" + parts.join("&") : "";
  }

  // --- header and tabs --------------------------------------------------------------

  function setAsOf(asOf) {
    state.asOf = asOf;
    var line = document.getElementById("as-of");
    line.textContent = asOf ? t("as_of", { date: longDate(asOf) }) : t("not_computed");
    line.classList.toggle("warning", !asOf);
  }

  function setupTabs() {
    var tabs = document.getElementById("tabs");
    Array.prototype.forEach.call(tabs.querySelectorAll("button"), function (button) {
      button.textContent = t("tabs." + button.dataset.tab);
      button.addEventListener("click", function () { openTab(button.dataset.tab); });
    });
    tabs.hidden = false;
    var select = document.getElementById("manager");
    clear(select);
    select.appendChild(new Option(t("all_managers"), ""));
    state.managers.forEach(function (m) { select.appendChild(new Option(m.name, String(m.id))); });
    select.addEventListener("change", function () {
      state.manager = select.value;
      state.cache = {};
      openTab(state.tab);
    });
  }

  function openTab(tab) {
    state.tab = tab;
    tg.backButton(false, backToMatrix);
    Array.prototype.forEach.call(document.querySelectorAll("#tabs button"), function (button) {
      button.setAttribute("aria-selected", String(button.dataset.tab === tab));
    });
    document.getElementById("manager-filter").hidden = tab === "team";
    var render = { matrix: showMatrix, team: showTeam, trends: showTrends, risk: showRisk }[tab];
    clear(view);
    view.appendChild(el("p", "hint", t("loading")));
    render().catch(function (error) { showError(error, function () { openTab(tab); }); });
  }

  function load(path) {
    if (!state.cache[path]) {
      state.cache[path] = api(path).catch(function (error) {
        delete state.cache[path];
        throw error;
      });
    }
    return state.cache[path];
  }

  // --- the matrix -------------------------------------------------------------------

  function showMatrix() {
    return load("api/matrix" + query({ manager: state.manager })).then(function (data) {
      setAsOf(data.as_of);
      clear(view);
      var card = el("section", "card");
      card.appendChild(el("p", "hint", t("matrix.hint")));
      var table = el("table", "matrix");
      var head = append(el("tr"), el("th"));
      ["X", "Y", "Z"].forEach(function (x) { head.appendChild(el("th", null, t("matrix.xyz_" + x))); });
      table.appendChild(head);
      ["A", "B", "C"].forEach(function (abc) {
        var row = append(el("tr"), el("th", "row", t("matrix.abc_" + abc)));
        ["X", "Y", "Z"].forEach(function (xyz) {
          var cell = data.cells.filter(function (c) { return c.segment === abc + xyz; })[0];
          row.appendChild(append(el("td"), cellButton(cell)));
        });
        table.appendChild(row);
      });
      card.appendChild(table);
      card.appendChild(
        el("p", "total", t("matrix.total", {
          clients: t("clients", { n: data.clients }), revenue: money(data.revenue),
        }))
      );
      if (data.unsegmented.clients) {
        var none = el("button", "link", t("matrix.unsegmented", { n: data.unsegmented.clients }));
        none.type = "button";
        none.addEventListener("click", function () { showCell("none", t("matrix.unsegmented", { n: data.unsegmented.clients })); });
        card.appendChild(none);
      }
      view.appendChild(card);
    });
  }

  function cellButton(cell) {
    var button = el("button", "cell");
    button.type = "button";
    button.dataset.segment = cell.segment;
    button.style.setProperty("--heat", String(Math.min(1, cell.revenue_share * 2)));
    append(
      button,
      el("span", "segment", cell.segment),
      el("span", "count", String(cell.clients)),
      el("span", "share", percent(cell.revenue_share)),
      cell.at_risk_clients ? el("span", "risk", t("matrix.at_risk", { n: cell.at_risk_clients })) : null
    );
    button.setAttribute(
      "aria-label",
      cell.segment + ": " + t("clients", { n: cell.clients }) + ", " + t("matrix.share", { share: percent(cell.revenue_share) })
    );
    button.disabled = cell.clients === 0;
    button.addEventListener("click", function () {
      showCell(cell.segment, cell.segment + " — " + t("segment." + cell.segment));
    });
    return button;
  }

  function backToMatrix() {
    openTab("matrix");
  }

  function showCell(segment, title) {
    tg.backButton(true, backToMatrix);
    clear(view);
    var card = el("section", "card");
    var back = el("button", "link", t("list.back"));
    back.type = "button";
    back.addEventListener("click", backToMatrix);
    append(card, back, el("h2", null, title));
    var list = el("ul", "clients");
    var footer = el("div", "list-footer");
    append(card, el("p", "hint", t("list.open_hint")), list, footer);
    view.appendChild(card);
    var path = "api/matrix/" + encodeURIComponent(segment);
    pagedClients(list, footer, function (page) {
      return api(path + query({ manager: state.manager, page: page }));
    });
  }

  function pagedClients(list, footer, fetchPage) {
    var shown = 0;
    function next(page) {
      clear(footer);
      footer.appendChild(el("p", "hint", t("loading")));
      return fetchPage(page).then(function (data) {
        data.clients.forEach(function (client) { list.appendChild(clientRow(client)); });
        shown += data.clients.length;
        clear(footer);
        if (!data.total) footer.appendChild(el("p", "hint", t("list.empty")));
        else footer.appendChild(el("p", "hint count", t("list.count", { shown: shown, total: data.total })));
        if (data.page + 1 < data.pages) {
          var more = el("button", "button", t("list.more"));
          more.type = "button";
          more.addEventListener("click", function () { next(data.page + 1); });
          footer.appendChild(more);
        }
      }).catch(function (error) {
        clear(footer);
        footer.appendChild(el("p", "error", errorText(error)));
      });
    }
    return next(0);
  }

  function clientRow(client) {
    var item = el("li");
    var button = el("button", "client");
    button.type = "button";
    button.dataset.clientId = String(client.id);
    var name = el("span", "name", client.name);
    if (client.vip) name.appendChild(el("span", "badge", t("list.vip")));
    var facts = [client.owner_name || t("list.no_owner"), t("list.revenue", { amount: money(client.revenue) })];
    if (client.at_risk) facts.push(t("list.at_risk", { amount: money(client.revenue_at_risk) }));
    var overdue = client.next_due && state.today && client.next_due < state.today;
    if (client.next_due && !overdue) facts.push(t("list.due", { date: shortDate(client.next_due) }));
    var status = client.status ? t("status.lifecycle." + client.status) : "";
    append(
      button,
      name,
      el("span", "facts", facts.join(" · ")),
      overdue ? el("span", "status warning", t("list.overdue", { date: shortDate(client.next_due) })) : null,
      status ? el("span", "status", status) : null
    );
    button.addEventListener("click", function () { openClient(client.id, button); });
    return append(item, button);
  }

  function openClient(id, button) {
    if (state.opening) return;
    state.opening = true;
    button.disabled = true;
    api("api/clients/" + id + "/open", { method: "POST" })
      .then(function () {
        toast(t("list.sent"));
        setTimeout(function () { tg.close(); }, 400);
      })
      .catch(function (error) { toast(errorText(error)); })
      .then(function () {
        state.opening = false;
        button.disabled = false;
      });
  }

  // --- the team ---------------------------------------------------------------------

  function progress(calls) {
    var box = el("div", "progress");
    var label = calls.plan
      ? t("team.of_plan", { calls: calls.calls, plan: calls.plan }) + " · " + calls.percent + "%"
      : calls.calls + " · " + t("team.no_plan");
    var bar = el("div", "bar");
    var fill = el("div", calls.plan && calls.calls >= calls.plan ? "fill ok" : "fill low");
    fill.style.setProperty("--value", String(calls.plan ? Math.min(calls.calls / calls.plan, 1) : 0));
    bar.appendChild(fill);
    append(box, el("span", "figures", label), bar);
    return box;
  }

  function showTeam() {
    return load("api/managers").then(function (data) {
      setAsOf(data.as_of);
      clear(view);
      if (!data.managers.length) {
        view.appendChild(append(el("section", "card"), el("p", null, t("team.empty"))));
        return;
      }
      if (!data.working_day) view.appendChild(el("p", "hint", t("team.day_off")));
      data.managers.forEach(function (m) {
        var card = append(el("section", "card manager"), el("h2", null, m.name));
        ["today", "week", "month"].forEach(function (period) {
          append(card, append(el("div", "period"), el("span", "label", t("team." + period)), progress(m.calls[period])));
        });
        append(
          card,
          el("p", m.overdue ? "fact warning" : "fact", t("team.overdue", { n: m.overdue })),
          el("p", "fact", t("team.flow", m.month_to_date)),
          el("p", "fact", t("team.at_risk", { clients: t("clients", { n: m.at_risk_clients }), amount: money(m.revenue_at_risk) }))
        );
        view.appendChild(card);
      });
    });
  }

  // --- trends -----------------------------------------------------------------------

  function showTrends() {
    return load("api/trends" + query({ manager: state.manager })).then(function (data) {
      setAsOf(data.as_of);
      clear(view);
      var labels = data.months.map(function (m) { return monthShort(m.month); });
      var clients = [
        { name: t("trends.new"), kind: "new", values: data.months.map(function (m) { return m.new; }) },
        { name: t("trends.lost"), kind: "lost", values: data.months.map(function (m) { return m.lost; }) },
        { name: t("trends.returned"), kind: "returned", values: data.months.map(function (m) { return m.returned; }) },
      ];
      var revenue = [
        { name: t("trends.revenue_new"), kind: "new", values: data.months.map(function (m) { return Number(m.revenue_new); }) },
        { name: t("trends.revenue_existing"), kind: "existing", values: data.months.map(function (m) { return Number(m.revenue_existing); }) },
      ];
      var compact = function (value) {
        var abs = Math.abs(value);
        if (abs >= 1e6) return (value / 1e6).toFixed(abs >= 1e7 ? 0 : 1) + "M";
        if (abs >= 1e3) return Math.round(value / 1e3) + "k";
        return String(Math.round(value));
      };
      var last = data.months[data.months.length - 1];
      var note = last && last.partial
        ? el("p", "hint", t("trends.partial", { month: t("format.month.m" + Number(last.month.split("-")[1])), date: shortDate(last.end) }))
        : null;
      append(
        view,
        append(el("section", "card"), el("h2", null, t("trends.clients")),
          charts.groupedBars(t("trends.clients"), labels, clients, compact), charts.legend(clients), note),
        append(el("section", "card"), el("h2", null, t("trends.revenue")),
          charts.stackedBars(t("trends.revenue"), labels, revenue, compact), charts.legend(revenue)),
        append(el("section", "card"), trendTable(data.months))
      );
    });
  }

  function trendTable(months) {
    var table = el("table", "figures");
    var head = el("tr");
    [t("trends.month"), t("trends.new"), t("trends.lost"), t("trends.returned"), t("trends.revenue_new"), t("trends.revenue_existing")]
      .forEach(function (title) { head.appendChild(el("th", null, title)); });
    table.appendChild(head);
    months.slice().reverse().forEach(function (m) {
      var row = el("tr");
      [monthShort(m.month) + " " + m.month.split("-")[0].slice(2), m.new, m.lost, m.returned, money(m.revenue_new), money(m.revenue_existing)]
        .forEach(function (value) { row.appendChild(el("td", null, String(value))); });
      table.appendChild(row);
    });
    return append(el("div", "scroll"), table);
  }

  // --- value at risk ----------------------------------------------------------------

  function showRisk() {
    return load("api/risk" + query({ manager: state.manager })).then(function (data) {
      setAsOf(data.as_of);
      clear(view);
      var summary = el("section", "card");
      append(
        summary,
        el("p", "big", t("risk.total", { clients: t("clients", { n: data.clients }), amount: money(data.revenue_at_risk) })),
        Number(data.revenue) > 0
          ? el("p", "hint", t("risk.share", { share: percent(Number(data.revenue_at_risk) / Number(data.revenue)) }))
          : null
      );
      view.appendChild(summary);
      if (!state.manager && data.by_manager.length) {
        var top = Math.max.apply(null, data.by_manager.map(function (m) { return Number(m.revenue_at_risk); }).concat([1]));
        var managers = append(el("section", "card"), el("h2", null, t("risk.by_manager")));
        data.by_manager.forEach(function (m) {
          var bar = el("div", "bar");
          var fill = el("div", "fill low");
          fill.style.setProperty("--value", String(Number(m.revenue_at_risk) / top));
          bar.appendChild(fill);
          append(managers, append(el("div", "period"), el("span", "label", m.name),
            append(el("div", "progress"), el("span", "figures", t("clients", { n: m.clients }) + " · " + money(m.revenue_at_risk)), bar)));
        });
        view.appendChild(managers);
      }
      var listCard = append(el("section", "card"), el("h2", null, t("risk.top")));
      if (!data.top.total) {
        listCard.appendChild(el("p", "hint", t("risk.none")));
      } else {
        var list = el("ul", "clients");
        var footer = el("div", "list-footer");
        append(listCard, el("p", "hint", t("list.open_hint")), list, footer);
        var first = true;
        pagedClients(list, footer, function (page) {
          if (first) { first = false; return Promise.resolve(data.top); }
          return api("api/risk" + query({ manager: state.manager, page: page })).then(function (d) { return d.top; });
        });
      }
      view.appendChild(listCard);
    });
  }

  // --- start ------------------------------------------------------------------------

  function loadTexts(language) {
    return fetch("texts" + query({ lang: language || "" }))
      .then(function (response) { return response.json(); })
      .then(function (body) {
        state.texts = body.texts || {};
        state.language = body.language || "ru";
        document.documentElement.lang = state.language;
      })
      .catch(function () { state.texts = {}; });
  }

  function start() {
    applyTheme(tg.themeParams);
    tg.onTheme(applyTheme);
    tg.ready();
    var language = (tg.user && tg.user.language_code) || navigator.language || "ru";
    loadTexts(language).then(function () {
      document.getElementById("title").textContent = t("title");
      document.title = t("title");
      if (!tg.initData) {
        showError(new ApiError(401, "missing_init_data", ""));
        return;
      }
      return api("api/me").then(function (me) {
        state.texts = me.texts;
        state.language = me.user.language;
        document.documentElement.lang = state.language;
        document.getElementById("title").textContent = t("title");
        return load("api/managers").then(function (team) {
          state.managers = team.managers.map(function (m) { return { id: m.id, name: m.name }; });
          state.today = team.today;
          setupTabs();
          openTab("matrix");
        });
      }).catch(function (error) { showError(error, start); });
    });
  }

  start();
})();
