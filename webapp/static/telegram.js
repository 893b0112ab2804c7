/*
 * The Telegram Mini App bridge, written from the documented protocol
 * (https://core.telegram.org/api/web-events, https://core.telegram.org/bots/webapps):
 * no script is loaded from telegram.org, so the page needs no network but its own server.
 *
 * - Launch parameters arrive in the URL fragment: tgWebAppData (the signed initData),
 *   tgWebAppThemeParams (JSON), tgWebAppVersion, tgWebAppPlatform. They are kept in
 *   sessionStorage so a reload inside the web view still has them.
 * - Events go to the client through TelegramWebviewProxy.postEvent (mobile),
 *   window.external.notify (desktop) or window.parent.postMessage (the web client, and
 *   the local sandbox, which open the page in an iframe).
 * - Events come back through Telegram.WebView.receiveEvent or a "message" event.
 *
 * When the official script is present (window.Telegram.WebApp), it is used instead.
 */
(function () {
  "use strict";

  var STORAGE_KEY = "crmbot.tgWebApp";
  var handlers = {};

  function readLaunchParams() {
    var params = {};
    var hash = window.location.hash.replace(/^#/, "");
    var search = new URLSearchParams(hash);
    search.forEach(function (value, key) {
      if (key.indexOf("tgWebApp") === 0) params[key] = value;
    });
    try {
      if (params.tgWebAppData) {
        window.sessionStorage.setItem(STORAGE_KEY, JSON.stringify(params));
      } else {
        var stored = window.sessionStorage.getItem(STORAGE_KEY);
        if (stored) params = JSON.parse(stored);
      }
    } catch (error) {
      /* storage may be unavailable in a private web view: the fragment is enough */
    }
    return params;
  }

  function parseJson(text) {
    try {
      return text ? JSON.parse(text) : {};
    } catch (error) {
      return {};
    }
  }

  function postEvent(type, data) {
    var payload = data || {};
    try {
      if (window.TelegramWebviewProxy && window.TelegramWebviewProxy.postEvent) {
        window.TelegramWebviewProxy.postEvent(type, JSON.stringify(payload));
      } else if (window.external && "notify" in window.external) {
        window.external.notify(JSON.stringify({ eventType: type, eventData: payload }));
      } else if (window.parent && window.parent !== window) {
        window.parent.postMessage(JSON.stringify({ eventType: type, eventData: payload }), "*");
      }
    } catch (error) {
      /* outside Telegram nothing listens: the page still works */
    }
  }

  function receive(type, data) {
    (handlers[type] || []).forEach(function (handler) {
      handler(data || {});
    });
  }

  window.Telegram = window.Telegram || {};
  if (!window.Telegram.WebView) {
    window.Telegram.WebView = { receiveEvent: receive };
  }
  window.addEventListener("message", function (event) {
    var message = typeof event.data === "string" ? parseJson(event.data) : event.data || {};
    if (message && message.eventType) receive(message.eventType, message.eventData);
  });

  function makeBridge() {
    var official = window.Telegram && window.Telegram.WebApp;
    if (official && official.initData) {
      return {
        initData: official.initData,
        user: official.initDataUnsafe && official.initDataUnsafe.user,
        themeParams: official.themeParams || {},
        colorScheme: official.colorScheme,
        ready: function () { official.ready(); official.expand(); },
        close: function () { official.close(); },
        onTheme: function (handler) {
          official.onEvent("themeChanged", function () { handler(official.themeParams || {}); });
        },
        backButton: function (visible, handler) {
          if (visible) { official.BackButton.onClick(handler); official.BackButton.show(); }
          else { official.BackButton.offClick(handler); official.BackButton.hide(); }
        },
      };
    }
    var launch = readLaunchParams();
    var initData = launch.tgWebAppData || "";
    var user = null;
    try {
      user = JSON.parse(new URLSearchParams(initData).get("user") || "null");
    } catch (error) {
      user = null;
    }
    var back = null;
    return {
      initData: initData,
      user: user,
      themeParams: parseJson(launch.tgWebAppThemeParams),
      colorScheme: null,
      ready: function () {
        postEvent("web_app_ready");
        postEvent("web_app_expand");
      },
      close: function () { postEvent("web_app_close"); },
      onTheme: function (handler) {
        (handlers.theme_changed = handlers.theme_changed || []).push(function (data) {
          handler(data.theme_params || {});
        });
      },
      backButton: function (visible, handler) {
        back = visible ? handler : null;
        postEvent("web_app_setup_back_button", { is_visible: !!visible });
      },
      _back: function () { if (back) back(); },
    };
  }

  var bridge = makeBridge();
  (handlers.back_button_pressed = handlers.back_button_pressed || []).push(function () {
    if (bridge._back) bridge._back();
  });
  window.MiniApp = bridge;
})();
