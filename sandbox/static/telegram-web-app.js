// A small telegram-web-app.js for Mini Apps: window.Telegram.WebApp without any network.
// It reads the launch parameters Telegram's clients put in the URL fragment
// (#tgWebAppData=...&tgWebAppVersion=...&tgWebAppPlatform=...&tgWebAppThemeParams=...) and
// talks to the client the way Telegram's own script does: TelegramWebviewProxy.postEvent in the
// mobile apps, window.parent.postMessage(JSON.stringify({eventType, eventData}), "*") in an
// iframe (the web clients and the sandbox's web chat). Only a subset of the real API; every
// call of it is safe outside Telegram, where initData is simply "".
"use strict";

(() => {
  if (window.Telegram && window.Telegram.WebApp) return; // the real script got here first

  const STORAGE_KEY = "__telegram__initParams";

  function parseParams(text) {
    const result = {};
    for (const [key, value] of new URLSearchParams(text)) result[key] = value;
    return result;
  }

  function launchParams() {
    // "#tgWebAppData=..." or, for apps with path fragments, "#/clients?tgWebAppData=...".
    let hash = location.hash.replace(/^#/, "");
    const query = hash.indexOf("?");
    if (!hash.includes("tgWebAppData") && query >= 0) hash = "";
    else if (query >= 0 && !hash.slice(0, query).includes("=")) hash = hash.slice(query + 1);
    const params = parseParams(hash);
    // The fragment is gone after an in-app navigation: the first page's parameters stay valid.
    try {
      if (params.tgWebAppData) sessionStorage.setItem(STORAGE_KEY, JSON.stringify(params));
      else return JSON.parse(sessionStorage.getItem(STORAGE_KEY) || "{}");
    } catch (error) {
      // Storage can be off (private mode, sandboxed frame): the fragment alone must do.
    }
    return params;
  }

  function parseJson(text, fallback) {
    try {
      return JSON.parse(text);
    } catch (error) {
      return fallback;
    }
  }

  const params = launchParams();
  const initData = params.tgWebAppData || "";
  const initDataUnsafe = {};
  for (const [key, value] of Object.entries(parseParams(initData))) {
    initDataUnsafe[key] = ["user", "receiver", "chat"].includes(key) ? parseJson(value, null) : value;
  }
  if (initDataUnsafe.auth_date) initDataUnsafe.auth_date = Number(initDataUnsafe.auth_date);

  // ------------------------------------------------------------------ transport

  const handlers = {};

  function postEvent(eventType, eventData = {}) {
    const proxy = window.TelegramWebviewProxy;
    if (proxy && typeof proxy.postEvent === "function") {
      proxy.postEvent(eventType, JSON.stringify(eventData));
    } else if (window.parent !== window) {
      window.parent.postMessage(JSON.stringify({ eventType, eventData }), "*");
    }
  }

  function receiveEvent(eventType, eventData) {
    for (const callback of handlers[eventType] || []) {
      try {
        callback(eventType, eventData);
      } catch (error) {
        console.error("[Telegram.WebView] handler of", eventType, "failed:", error);
      }
    }
  }

  function onWebViewEvent(eventType, callback) {
    (handlers[eventType] = handlers[eventType] || []).push(callback);
  }

  window.addEventListener("message", (event) => {
    if (event.source !== window.parent) return; // only the client that opened us
    const message = typeof event.data === "string" ? parseJson(event.data, null) : event.data;
    if (message && typeof message.eventType === "string") {
      receiveEvent(message.eventType, message.eventData || {});
    }
  });

  // ------------------------------------------------------------------ theme and viewport

  let themeParams = parseJson(params.tgWebAppThemeParams || "{}", {}) || {};
  let colorScheme = "light";
  let viewportHeight = window.innerHeight;
  let viewportStableHeight = window.innerHeight;
  let isExpanded = false;

  function schemeOf(theme) {
    // Telegram's rule: a dark background means the dark scheme.
    const match = /^#?([0-9a-f]{6})$/i.exec(theme.bg_color || "");
    if (!match) return "light";
    const value = parseInt(match[1], 16);
    const [r, g, b] = [(value >> 16) & 255, (value >> 8) & 255, value & 255];
    return Math.sqrt(0.299 * r * r + 0.587 * g * g + 0.114 * b * b) < 120 ? "dark" : "light";
  }

  function applyTheme(theme) {
    themeParams = { ...theme };
    colorScheme = schemeOf(themeParams);
    const root = document.documentElement.style;
    for (const [key, value] of Object.entries(themeParams)) {
      root.setProperty(`--tg-theme-${key.replace(/_/g, "-")}`, value);
    }
    root.setProperty("--tg-color-scheme", colorScheme);
  }

  function applyViewport(height, stable) {
    viewportHeight = height;
    if (stable) viewportStableHeight = height;
    const root = document.documentElement.style;
    root.setProperty("--tg-viewport-height", `${viewportHeight}px`);
    root.setProperty("--tg-viewport-stable-height", `${viewportStableHeight}px`);
  }

  applyTheme(themeParams);
  applyViewport(window.innerHeight, true);

  // ------------------------------------------------------------------ the WebApp object

  const appHandlers = {};

  function emit(eventName, ...args) {
    for (const callback of appHandlers[eventName] || []) {
      try {
        callback.apply(WebApp, args);
      } catch (error) {
        console.error("[Telegram.WebApp] handler of", eventName, "failed:", error);
      }
    }
  }

  function makeButton(kind) {
    const state = {
      text: kind === "main" ? "CONTINUE" : "", color: themeParams.button_color || "#3390ec",
      textColor: themeParams.button_text_color || "#ffffff",
      isVisible: false, isActive: true, isProgressVisible: false,
    };
    const button = {
      get text() { return state.text; },
      get color() { return state.color; },
      get textColor() { return state.textColor; },
      get isVisible() { return state.isVisible; },
      get isActive() { return state.isActive; },
      get isProgressVisible() { return state.isProgressVisible; },
      setText(text) { return button.setParams({ text }); },
      show() { return button.setParams({ is_visible: true }); },
      hide() { return button.setParams({ is_visible: false }); },
      enable() { return button.setParams({ is_active: true }); },
      disable() { return button.setParams({ is_active: false }); },
      showProgress() { state.isProgressVisible = true; return sync(); },
      hideProgress() { state.isProgressVisible = false; return sync(); },
      onClick(callback) { WebApp.onEvent(clickEvent, callback); return button; },
      offClick(callback) { WebApp.offEvent(clickEvent, callback); return button; },
      setParams(changes) {
        if ("text" in changes) state.text = String(changes.text).trim();
        if ("color" in changes) state.color = changes.color;
        if ("text_color" in changes) state.textColor = changes.text_color;
        if ("is_visible" in changes) state.isVisible = Boolean(changes.is_visible);
        if ("is_active" in changes) state.isActive = Boolean(changes.is_active);
        return sync();
      },
    };
    const clickEvent = kind === "main" ? "mainButtonClicked" : "backButtonClicked";
    function sync() {
      if (kind === "main") {
        postEvent("web_app_setup_main_button", {
          is_visible: state.isVisible && Boolean(state.text), is_active: state.isActive,
          is_progress_visible: state.isProgressVisible, text: state.text,
          color: state.color, text_color: state.textColor,
        });
      } else {
        postEvent("web_app_setup_back_button", { is_visible: state.isVisible });
      }
      return button;
    }
    return button;
  }

  function versionAtLeast(wanted) {
    const have = String(params.tgWebAppVersion || "6.0").split(".").map(Number);
    const need = String(wanted).split(".").map(Number);
    for (let i = 0; i < Math.max(have.length, need.length); i += 1) {
      const difference = (have[i] || 0) - (need[i] || 0);
      if (difference !== 0) return difference > 0;
    }
    return true;
  }

  let closingConfirmation = false;

  const WebApp = {
    initData,
    initDataUnsafe,
    version: params.tgWebAppVersion || "6.0",
    platform: params.tgWebAppPlatform || "unknown",
    get colorScheme() { return colorScheme; },
    get themeParams() { return { ...themeParams }; },
    get isExpanded() { return isExpanded; },
    get viewportHeight() { return viewportHeight; },
    get viewportStableHeight() { return viewportStableHeight; },
    get isClosingConfirmationEnabled() { return closingConfirmation; },
    get headerColor() { return themeParams.header_bg_color || themeParams.bg_color; },
    get backgroundColor() { return themeParams.bg_color; },
    MainButton: null,
    BackButton: null,
    HapticFeedback: {
      impactOccurred(style) { postEvent("web_app_trigger_haptic_feedback", { type: "impact", impact_style: style }); return this; },
      notificationOccurred(type) { postEvent("web_app_trigger_haptic_feedback", { type: "notification", notification_type: type }); return this; },
      selectionChanged() { postEvent("web_app_trigger_haptic_feedback", { type: "selection_change" }); return this; },
    },
    isVersionAtLeast: versionAtLeast,
    ready() { postEvent("web_app_ready"); },
    expand() { postEvent("web_app_expand"); },
    close() { postEvent("web_app_close"); },
    sendData(data) {
      const text = String(data ?? "");
      if (!text.length || new TextEncoder().encode(text).length > 4096) {
        throw new Error("WebAppDataInvalid");
      }
      postEvent("web_app_data_send", { data: text });
    },
    openLink(url) { postEvent("web_app_open_link", { url: String(url) }); },
    openTelegramLink(url) { postEvent("web_app_open_tg_link", { path_full: String(url) }); },
    setHeaderColor(color) { postEvent("web_app_set_header_color", { color }); },
    setBackgroundColor(color) { postEvent("web_app_set_background_color", { color }); },
    enableClosingConfirmation() {
      closingConfirmation = true;
      postEvent("web_app_setup_closing_behavior", { need_confirmation: true });
    },
    disableClosingConfirmation() {
      closingConfirmation = false;
      postEvent("web_app_setup_closing_behavior", { need_confirmation: false });
    },
    showAlert(message, callback) {
      window.alert(String(message));
      if (callback) callback();
    },
    showConfirm(message, callback) {
      const confirmed = window.confirm(String(message));
      if (callback) callback(confirmed);
    },
    onEvent(eventName, callback) {
      if (typeof callback === "function") {
        (appHandlers[eventName] = appHandlers[eventName] || []).push(callback);
      }
    },
    offEvent(eventName, callback) {
      const list = appHandlers[eventName] || [];
      const index = list.indexOf(callback);
      if (index >= 0) list.splice(index, 1);
    },
  };
  WebApp.MainButton = makeButton("main");
  WebApp.BackButton = makeButton("back");

  onWebViewEvent("theme_changed", (_, data) => {
    if (data && data.theme_params) applyTheme(data.theme_params);
    emit("themeChanged");
  });
  onWebViewEvent("viewport_changed", (_, data) => {
    if (data && typeof data.height === "number") applyViewport(data.height, data.is_state_stable);
    if (data && "is_expanded" in data) isExpanded = Boolean(data.is_expanded);
    emit("viewportChanged", { isStateStable: Boolean(data && data.is_state_stable) });
  });
  onWebViewEvent("main_button_pressed", () => emit("mainButtonClicked"));
  onWebViewEvent("back_button_pressed", () => emit("backButtonClicked"));

  window.Telegram = window.Telegram || {};
  window.Telegram.WebView = {
    initParams: params,
    isIframe: window.parent !== window,
    postEvent,
    receiveEvent,
    onEvent: onWebViewEvent,
  };
  window.Telegram.WebApp = WebApp;

  // Ask the client for the current theme and size, as Telegram's script does on load.
  postEvent("web_app_request_theme");
  postEvent("web_app_request_viewport");
})();
