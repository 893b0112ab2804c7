// Web chat of the Bot API sandbox: plays one person talking to the bot through the control API.
// Vanilla JS, no network but this server. Bot HTML is rebuilt node by node from Telegram's
// allowed tags, so nothing the bot sends can run script or load anything in this page.
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  const ui = {
    identity: $("identity"),
    messages: $("messages"),
    empty: $("empty"),
    status: $("status"),
    botName: $("bot-name"),
    botAvatar: $("bot-avatar"),
    composer: $("composer"),
    text: $("text"),
    documentInput: $("document-input"),
    voiceInput: $("voice-input"),
    menuButton: $("menu-button"),
    commands: $("commands"),
    replyKeyboard: $("reply-keyboard"),
    toast: $("toast"),
    alert: $("alert"),
    alertText: $("alert-text"),
    blockToggle: $("block-toggle"),
    blockedBar: $("blocked-bar"),
    restart: $("restart"),
    themeToggle: $("theme-toggle"),
    menuWebApp: $("menu-web-app"),
    webapp: $("webapp"),
    webappFrame: $("webapp-frame"),
    webappTitle: $("webapp-title"),
    webappStatus: $("webapp-status"),
    webappClose: $("webapp-close"),
    webappBack: $("webapp-back"),
    webappMainButton: $("webapp-main-button"),
  };

  const chat = {
    user: null,          // the identity we are playing
    generation: 0,       // bumps when the identity changes, so stale polls stop
    abort: null,
    rows: new Map(),     // message_id -> row element
    typing: false,
    blocked: false,
    hiddenKeyboard: null, // a one-time reply keyboard the person already used
  };
  // The Mini App open beside the chat: where it came from decides what it may do
  // (sendData only from a reply keyboard button, as in Telegram).
  const webApp = {
    open: false,
    origin: null,
    source: null,       // "inline" | "keyboard" | "menu"
    buttonText: null,
    expanded: false,
    confirmClose: false,
  };
  let themes = {};      // Telegram theme params by theme name, from /sandbox/info
  let users = [];
  let botName = "Bot";
  let botHandle = "bot";
  let toastTimer = null;

  // ---------------------------------------------------------------- helpers

  function el(tag, attrs = {}, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs)) {
      if (value === null || value === undefined || value === false) continue;
      if (key === "class") node.className = value;
      else if (key === "text") node.textContent = value;
      else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value === true ? "" : value);
    }
    for (const child of children) {
      if (child !== null && child !== undefined) node.append(child);
    }
    return node;
  }

  async function api(method, path, body) {
    const options = { method, headers: {} };
    if (body instanceof FormData) options.body = body;
    else if (body !== undefined) {
      options.body = JSON.stringify(body);
      options.headers["Content-Type"] = "application/json";
    }
    const response = await fetch(path, options);
    const data = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(data.error || `${response.status} ${response.statusText}`);
    return data;
  }

  const ICONS = {
    file: "M14 2H6a2 2 0 0 0-2 2v16a2 2 0 0 0 2 2h12a2 2 0 0 0 2-2V8zm-1 7V3.5L18.5 9z",
    voice: "M12 14a3 3 0 0 0 3-3V5a3 3 0 0 0-6 0v6a3 3 0 0 0 3 3zm5-3a5 5 0 0 1-10 0H5a7 7 0 0 0 6 6.9V21h2v-3.1a7 7 0 0 0 6-6.9z",
  };

  function icon(name) {
    // Drawn, not emoji: the page must look right on machines without an emoji font.
    const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("width", "20");
    svg.setAttribute("height", "20");
    svg.setAttribute("aria-hidden", "true");
    const path = document.createElementNS("http://www.w3.org/2000/svg", "path");
    path.setAttribute("d", ICONS[name]);
    svg.append(path);
    return svg;
  }

  function formatSize(bytes) {
    if (bytes < 1024) return `${bytes} B`;
    if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
    return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
  }

  function formatTime(unix) {
    return new Date(unix * 1000).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  }

  function sleep(ms) {
    return new Promise((resolve) => setTimeout(resolve, ms));
  }

  function isSafeUrl(url) {
    return /^(https?:|tg:|mailto:)/i.test(url || "");
  }

  function showToast(text) {
    ui.toast.textContent = text;
    ui.toast.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => { ui.toast.hidden = true; }, 2500);
  }

  function showAlert(text) {
    ui.alertText.textContent = text;
    if (typeof ui.alert.showModal === "function") ui.alert.showModal();
    else window.alert(text);
  }

  // ------------------------------------------------- Telegram HTML, rebuilt safely

  const TAGS = {
    B: "b", STRONG: "b", I: "i", EM: "i", U: "u", INS: "u", S: "s", STRIKE: "s", DEL: "s",
    CODE: "code", PRE: "pre", A: "a", BLOCKQUOTE: "blockquote", "TG-SPOILER": "spoiler",
    SPAN: "spoiler",
  };
  const COMMAND = /(^|\s)(\/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]+)?)(?=$|\s|[.,!?;:)])/g;

  function appendText(target, text, clickableCommands) {
    if (!clickableCommands) {
      target.append(document.createTextNode(text));
      return;
    }
    // Like Telegram, /commands in the bot's text can be tapped to send them.
    let last = 0;
    for (const match of text.matchAll(COMMAND)) {
      const start = match.index + match[1].length;
      target.append(document.createTextNode(text.slice(last, start)));
      const command = match[2];
      target.append(el("span", {
        class: "command", role: "button", tabindex: "0", text: command,
        onclick: () => sendText(command),
      }));
      last = start + command.length;
    }
    target.append(document.createTextNode(text.slice(last)));
  }

  function copyAllowed(from, to, insideCode) {
    for (const node of from.childNodes) {
      if (node.nodeType === Node.TEXT_NODE) {
        appendText(to, node.nodeValue, !insideCode);
        continue;
      }
      if (node.nodeType !== Node.ELEMENT_NODE) continue;
      const kind = TAGS[node.tagName];
      if (!kind || (node.tagName === "SPAN" && node.getAttribute("class") !== "tg-spoiler")) {
        copyAllowed(node, to, insideCode);
        continue;
      }
      let out;
      if (kind === "a") {
        const href = node.getAttribute("href");
        out = isSafeUrl(href)
          ? el("a", { href, target: "_blank", rel: "noopener noreferrer" })
          : el("span");
      } else if (kind === "spoiler") {
        out = el("span", { class: "spoiler", title: "Spoiler: click to reveal" });
        out.addEventListener("click", () => out.classList.add("revealed"));
      } else {
        out = document.createElement(kind);
      }
      copyAllowed(node, out, insideCode || kind === "code" || kind === "pre");
      to.append(out);
    }
  }

  function renderText(source, parseMode, fromBot) {
    const box = el("div", { class: "text" });
    if (parseMode === "HTML") {
      // DOMParser documents are inert: no scripts run and no resources load while parsing.
      const doc = new DOMParser().parseFromString(source, "text/html");
      copyAllowed(doc.body, box, false);
    } else {
      appendText(box, source, fromBot);
    }
    return box;
  }

  // ------------------------------------------------------------- messages

  function renderKeyboard(message) {
    const rows = message.reply_markup && message.reply_markup.inline_keyboard;
    if (!rows || !rows.length) return null;
    const keyboard = el("div", { class: "keyboard" });
    for (const row of rows) {
      const line = el("div", { class: "keyboard-row" });
      for (const button of row) {
        if (button.url) {
          line.append(el("a", {
            class: "keyboard-button", href: button.url, target: "_blank",
            rel: "noopener noreferrer", title: button.url,
          }, button.text, el("span", { class: "external", text: "↗" })));
        } else if (button.web_app && button.web_app.url) {
          line.append(el("button", {
            type: "button", class: "keyboard-button web-app", text: button.text,
            "data-web-app": button.web_app.url, title: button.web_app.url,
            onclick: () => openWebApp(button.web_app.url, button.text, "inline"),
          }));
        } else if (button.callback_data !== undefined) {
          const node = el("button", {
            type: "button", class: "keyboard-button", text: button.text,
            "data-callback": button.callback_data,
          });
          node.addEventListener("click", () => press(message.message_id, button.callback_data, node));
          line.append(node);
        } else {
          line.append(el("button", {
            type: "button", class: "keyboard-button", text: button.text, disabled: true,
            title: "This kind of button is not available in the sandbox",
          }));
        }
      }
      keyboard.append(line);
    }
    return keyboard;
  }

  function renderMessage(message) {
    if (message.web_app_data) {
      // Telegram shows sendData as a service line, not as a bubble of the person's.
      return el("div", {
        class: "row service", "data-message-id": String(message.message_id),
      }, el("div", { class: "bubble" },
        el("div", {
          class: "text",
          text: `Data from the “${message.web_app_data.button_text}” button was sent to the bot: ` +
            message.web_app_data.data,
        })));
    }
    const row = el("div", {
      class: `row ${message.from_bot ? "bot" : "me"}`,
      "data-message-id": String(message.message_id),
    });
    const bubble = el("div", { class: "bubble" });
    if (message.reply_to_message_id) {
      const quoted = chat.rows.get(message.reply_to_message_id);
      const preview = quoted ? quoted.querySelector(".text")?.textContent || "message" : "message";
      bubble.append(el("div", { class: "reply-quote", text: preview.slice(0, 60) }));
    }
    if (message.photo) {
      bubble.append(el("a", { href: message.photo, target: "_blank", rel: "noopener" },
        el("img", { class: "photo", src: message.photo, alt: message.caption || "Photo" })));
    }
    if (message.document) {
      const documentInfo = message.document;
      bubble.append(el("a", {
        class: "file", href: documentInfo.url, download: documentInfo.file_name || "file",
      },
      el("span", { class: "file-icon" }, icon("file")),
      el("span", {},
        el("span", { class: "file-name", text: documentInfo.file_name || "file" }),
        el("span", { class: "file-size", text: formatSize(documentInfo.file_size) }))));
    }
    if (message.voice) {
      bubble.append(el("div", { class: "file voice" },
        el("span", { class: "file-icon" }, icon("voice")),
        el("span", {},
          el("span", { class: "file-name", text: `Voice note · ${message.voice.duration} s` }),
          el("audio", { controls: true, preload: "none", src: message.voice.url }))));
    }
    const body = message.text ?? message.caption;
    if (body) bubble.append(renderText(body, message.parse_mode, message.from_bot));
    bubble.append(el("div", { class: "meta" },
      message.edited ? el("span", { class: "edited", text: "edited" }) : null,
      formatTime(message.date)));
    row.append(bubble);
    const keyboard = renderKeyboard(message);
    if (keyboard) row.append(keyboard);
    return row;
  }

  function upsertMessage(message) {
    const row = renderMessage(message);
    const existing = chat.rows.get(message.message_id);
    if (existing) {
      existing.replaceWith(row);
    } else {
      // Keep the chat ordered by message id even if messages arrive out of order.
      const later = [...chat.rows.entries()]
        .filter(([id]) => id > message.message_id)
        .sort((a, b) => a[0] - b[0])[0];
      ui.messages.insertBefore(row, later ? later[1] : null);
    }
    chat.rows.set(message.message_id, row);
  }

  function removeMessage(messageId) {
    const row = chat.rows.get(messageId);
    if (row) row.remove();
    chat.rows.delete(messageId);
  }

  function clearChat() {
    for (const row of chat.rows.values()) row.remove();
    chat.rows.clear();
    chat.hiddenKeyboard = null;
    renderReplyKeyboard(null);
  }

  function renderReplyKeyboard(markup) {
    ui.replyKeyboard.replaceChildren();
    const signature = markup ? JSON.stringify(markup) : null;
    if (!markup || signature === chat.hiddenKeyboard) {
      ui.replyKeyboard.hidden = true;
      ui.text.placeholder = "Message or /command";
      return;
    }
    for (const row of markup.keyboard) {
      const line = el("div", { class: "keyboard-row" });
      for (const button of row) {
        const webAppUrl = button.web_app && button.web_app.url;
        line.append(el("button", {
          type: "button", class: webAppUrl ? "keyboard-button web-app" : "keyboard-button",
          text: button.text, "data-web-app": webAppUrl || null,
          onclick: () => {
            if (webAppUrl) {
              // A web_app button opens the Mini App instead of sending its text.
              openWebApp(webAppUrl, button.text, "keyboard");
              return;
            }
            if (markup.one_time_keyboard) {
              chat.hiddenKeyboard = signature;
              ui.replyKeyboard.hidden = true;
            }
            sendText(button.text);
          },
        }));
      }
      ui.replyKeyboard.append(line);
    }
    ui.text.placeholder = markup.input_field_placeholder || "Message or /command";
    ui.replyKeyboard.hidden = false;
  }

  function updateStatus(text) {
    ui.status.textContent = text || (chat.typing ? "typing…" : botHandle);
    ui.status.classList.toggle("typing", !text && chat.typing);
  }

  function setBlocked(blocked) {
    chat.blocked = blocked;
    ui.blockedBar.hidden = !blocked;
    ui.blockToggle.setAttribute("aria-pressed", String(blocked));
    ui.blockToggle.title = blocked ? "Unblock the bot" : "Block the bot";
  }

  function applyFeed(feed) {
    if (feed.reset) clearChat();
    const atBottom =
      ui.messages.scrollHeight - ui.messages.scrollTop - ui.messages.clientHeight < 80;
    for (const message of feed.messages) upsertMessage(message);
    for (const messageId of feed.deleted) removeMessage(messageId);
    for (const toast of feed.toasts) {
      if (toast.show_alert && toast.text) showAlert(toast.text);
      else if (toast.text) showToast(toast.text);
      if (toast.url && isSafeUrl(toast.url)) window.open(toast.url, "_blank", "noopener");
    }
    chat.typing = feed.chat_action === "typing";
    updateStatus();
    setBlocked(feed.blocked);
    renderReplyKeyboard(feed.reply_keyboard);
    renderMenuButton(feed.menu_button);
    ui.empty.hidden = chat.rows.size > 0;
    if (atBottom || feed.messages.some((message) => !message.from_bot)) {
      ui.messages.scrollTop = ui.messages.scrollHeight;
    }
  }

  async function pollLoop(generation, userId) {
    let cursor = 0;
    let wait = 0;
    while (generation === chat.generation) {
      const controller = new AbortController();
      chat.abort = controller;
      try {
        const response = await fetch(
          `/sandbox/users/${userId}/messages?include_user=1&cursor=${cursor}&wait=${wait}`,
          { signal: controller.signal },
        );
        if (!response.ok) throw new Error(`${response.status}`);
        const feed = await response.json();
        if (generation !== chat.generation) return;
        applyFeed(feed);
        cursor = feed.cursor;
        wait = 25;
        // "typing…" expires on its own after 5 s: look again then even if nothing changes.
        if (feed.chat_action) wait = 5;
      } catch (error) {
        if (controller.signal.aborted || generation !== chat.generation) return;
        updateStatus("reconnecting…");
        await sleep(1000);
      }
    }
  }


  // ------------------------------------------------------------- Mini Apps

  function currentTheme() {
    return document.documentElement.dataset.theme === "dark" ? "dark" : "light";
  }

  function applyTheme(theme, remember) {
    document.documentElement.dataset.theme = theme;
    ui.themeToggle.setAttribute("aria-pressed", String(theme === "dark"));
    if (remember) localStorage.setItem("sandbox-theme", theme);
    if (webApp.open && themes[theme]) postToWebApp("theme_changed", { theme_params: themes[theme] });
  }

  function renderMenuButton(button) {
    const webAppButton = button && button.type === "web_app" ? button : null;
    ui.menuWebApp.hidden = !webAppButton;
    // As in Telegram, a Mini App menu button takes the place of the commands menu;
    // typing "/" still lists the commands.
    ui.menuButton.hidden = Boolean(webAppButton);
    if (webAppButton) {
      ui.menuWebApp.textContent = webAppButton.text;
      ui.menuWebApp.dataset.webApp = webAppButton.web_app.url;
    }
  }

  function postToWebApp(eventType, eventData) {
    const target = ui.webappFrame.contentWindow;
    if (!target || !webApp.origin) return;
    target.postMessage(JSON.stringify({ eventType, eventData }), webApp.origin);
  }

  function viewport() {
    return {
      height: ui.webappFrame.clientHeight, is_expanded: webApp.expanded, is_state_stable: true,
    };
  }

  async function openWebApp(url, title, source) {
    if (!chat.user) return;
    let launch;
    try {
      const query = new URLSearchParams({ url, source, theme: currentTheme() });
      launch = await api("GET", `/sandbox/users/${chat.user.id}/webapp_init_data?${query}`);
    } catch (error) {
      showToast(`Mini App not opened: ${error.message}`);
      return;
    }
    Object.assign(webApp, {
      open: true, origin: new URL(url, location.href).origin, source,
      buttonText: source === "keyboard" ? title : null, expanded: false, confirmClose: false,
    });
    ui.webappTitle.textContent = title;
    ui.webappStatus.textContent = "loading…";
    ui.webappBack.hidden = true;
    ui.webappMainButton.hidden = true;
    ui.webapp.classList.remove("expanded");
    ui.webapp.hidden = false;
    ui.webappFrame.src = launch.launch_url;
  }

  function closeWebApp() {
    if (!webApp.open) return;
    webApp.open = false;
    webApp.origin = null;
    ui.webapp.hidden = true;
    ui.webappFrame.src = "about:blank";
  }

  async function sendWebAppData(data) {
    if (webApp.source !== "keyboard" || !webApp.buttonText) {
      // Telegram offers sendData only to Mini Apps opened from a reply keyboard button.
      showToast("sendData works only in a Mini App opened from a keyboard button");
      return;
    }
    const buttonText = webApp.buttonText;
    closeWebApp();
    try {
      await api("POST", `/sandbox/users/${chat.user.id}/web_app_data`, {
        data: String(data ?? ""), button_text: buttonText,
      });
    } catch (error) {
      showToast(`Data not sent: ${error.message}`);
    }
  }

  function setupMainButton(params) {
    const button = ui.webappMainButton;
    button.hidden = !params.is_visible || !params.text;
    button.textContent = params.text || "";
    button.disabled = params.is_active === false;
    button.style.background = params.color || "";
    button.style.color = params.text_color || "";
  }

  function onWebAppEvent(eventType, eventData) {
    switch (eventType) {
      case "web_app_ready":
        ui.webappStatus.textContent = "";
        break;
      case "web_app_close":
        closeWebApp();
        break;
      case "web_app_expand":
        webApp.expanded = true;
        ui.webapp.classList.add("expanded");
        postToWebApp("viewport_changed", viewport());
        break;
      case "web_app_request_viewport":
        postToWebApp("viewport_changed", viewport());
        break;
      case "web_app_request_theme":
        postToWebApp("theme_changed", { theme_params: themes[currentTheme()] || {} });
        break;
      case "web_app_data_send":
        sendWebAppData(eventData.data);
        break;
      case "web_app_setup_main_button":
        setupMainButton(eventData);
        break;
      case "web_app_setup_back_button":
        ui.webappBack.hidden = !eventData.is_visible;
        break;
      case "web_app_setup_closing_behavior":
        webApp.confirmClose = Boolean(eventData.need_confirmation);
        break;
      case "web_app_open_link":
        if (isSafeUrl(eventData.url)) window.open(eventData.url, "_blank", "noopener");
        break;
      default:
        break; // haptics, header colours and the like have nothing to show here
    }
  }

  window.addEventListener("message", (event) => {
    // Only the Mini App in the panel may drive it, and only with Telegram's event shape.
    if (!webApp.open || event.source !== ui.webappFrame.contentWindow) return;
    let message = event.data;
    if (typeof message === "string") {
      try { message = JSON.parse(message); } catch { return; }
    }
    if (!message || typeof message.eventType !== "string") return;
    onWebAppEvent(message.eventType, message.eventData || {});
  });

  // ---------------------------------------------------------------- actions

  function profile() {
    const user = chat.user;
    const fields = { first_name: user.first_name };
    if (user.username) fields.username = user.username;
    if (user.language_code) fields.language_code = user.language_code;
    return fields;
  }

  async function sendText(text) {
    const trimmed = text.trim();
    if (!trimmed || !chat.user) return;
    ui.commands.hidden = true;
    try {
      await api("POST", `/sandbox/users/${chat.user.id}/messages`, { text, ...profile() });
    } catch (error) {
      showToast(`Not sent: ${error.message}`);
    }
  }

  async function press(messageId, data, node) {
    node.classList.add("pending");
    try {
      await api("POST", `/sandbox/users/${chat.user.id}/callbacks`, {
        message_id: messageId, data,
      });
    } catch (error) {
      showToast(`Button failed: ${error.message}`);
    } finally {
      // The bot answers by editing or sending; the spinner only shows the press went out.
      setTimeout(() => node.classList.remove("pending"), 600);
    }
  }

  function audioDuration(file) {
    return new Promise((resolve) => {
      const audio = document.createElement("audio");
      const url = URL.createObjectURL(file);
      const done = (seconds) => { URL.revokeObjectURL(url); resolve(seconds); };
      audio.preload = "metadata";
      audio.onloadedmetadata = () => done(Number.isFinite(audio.duration) ? audio.duration : 1);
      audio.onerror = () => done(1);
      audio.src = url;
      setTimeout(() => done(1), 2000);
    });
  }

  async function upload(kind, file) {
    if (!file || !chat.user) return;
    const form = new FormData();
    form.append("file", file, file.name);
    for (const [key, value] of Object.entries(profile())) form.append(key, value);
    if (kind === "documents" && ui.text.value.trim()) {
      form.append("caption", ui.text.value.trim());
      ui.text.value = "";
    }
    if (kind === "voice") {
      const seconds = Math.max(1, Math.round(await audioDuration(file)));
      form.append("duration", String(seconds));
    }
    try {
      await api("POST", `/sandbox/users/${chat.user.id}/${kind}`, form);
    } catch (error) {
      showToast(`Upload failed: ${error.message}`);
    }
  }

  async function toggleCommands() {
    if (!ui.commands.hidden) {
      ui.commands.hidden = true;
      return;
    }
    ui.commands.replaceChildren();
    try {
      const { commands } = await api("GET", `/sandbox/users/${chat.user.id}/commands`);
      if (!commands.length) {
        ui.commands.append(el("div", { class: "none", text: "The bot has set no commands yet." }));
      }
      for (const command of commands) {
        ui.commands.append(el("button", {
          type: "button", onclick: () => sendText(`/${command.command}`),
        },
        el("span", { class: "name", text: `/${command.command}` }),
        el("span", { class: "description", text: command.description })));
      }
    } catch (error) {
      ui.commands.append(el("div", { class: "none", text: error.message }));
    }
    ui.commands.hidden = false;
  }

  function selectUser(userId) {
    const user = users.find((candidate) => candidate.id === userId) || users[0];
    if (!user) return;
    chat.user = user;
    ui.identity.value = String(user.id);
    localStorage.setItem("sandbox-user", String(user.id));
    history.replaceState(null, "", `#user=${user.id}`);
    chat.generation += 1;
    if (chat.abort) chat.abort.abort();
    closeWebApp(); // its initData belongs to the previous identity
    clearChat();
    ui.commands.hidden = true;
    setBlocked(Boolean(user.blocked));
    updateStatus("connecting…");
    pollLoop(chat.generation, user.id);
  }

  function describe(user) {
    const handle = user.username ? ` @${user.username}` : "";
    return `${user.first_name}${handle} · ${user.role}`;
  }

  async function init() {
    try {
      const info = await api("GET", "/sandbox/info");
      themes = info.webapp_themes || {};
      botName = info.bot.first_name || info.bot.username || "Bot";
      ui.botName.textContent = botName;
      if (info.bot.username) botHandle = `@${info.bot.username}`;
      ui.botAvatar.textContent = botName.slice(0, 1).toUpperCase();
      document.title = `${botName} · sandbox chat`;
      users = (await api("GET", "/sandbox/users")).users;
    } catch (error) {
      updateStatus(`sandbox unreachable: ${error.message}`);
      return;
    }
    ui.identity.replaceChildren();
    const known = el("optgroup", { label: "People" });
    const strangers = el("optgroup", { label: "Not in the CRM" });
    for (const user of users) {
      (user.role === "unknown" ? strangers : known)
        .append(el("option", { value: String(user.id), text: describe(user) }));
    }
    if (known.children.length) ui.identity.append(known);
    if (strangers.children.length) ui.identity.append(strangers);

    const fromHash = Number((location.hash.match(/user=(\d+)/) || [])[1]);
    const remembered = Number(localStorage.getItem("sandbox-user"));
    const wanted = [fromHash, remembered].find((id) => users.some((user) => user.id === id));
    selectUser(wanted || (users[0] && users[0].id));
  }

  // ----------------------------------------------------------------- wiring

  ui.identity.addEventListener("change", () => selectUser(Number(ui.identity.value)));
  ui.composer.addEventListener("submit", (event) => {
    event.preventDefault();
    const text = ui.text.value;
    ui.text.value = "";
    ui.text.style.height = "";
    sendText(text);
    ui.text.focus();
  });
  ui.text.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      ui.composer.requestSubmit();
    }
  });
  ui.text.addEventListener("input", () => {
    ui.text.style.height = "";
    ui.text.style.height = `${Math.min(ui.text.scrollHeight, 140)}px`;
  });
  ui.documentInput.addEventListener("change", async () => {
    await upload("documents", ui.documentInput.files[0]);
    ui.documentInput.value = "";
  });
  ui.voiceInput.addEventListener("change", async () => {
    await upload("voice", ui.voiceInput.files[0]);
    ui.voiceInput.value = "";
  });
  ui.menuButton.addEventListener("click", toggleCommands);
  ui.blockToggle.addEventListener("click", async () => {
    if (!chat.user) return;
    const { blocked } = await api("POST", `/sandbox/users/${chat.user.id}/block`, {});
    setBlocked(blocked);
  });
  ui.restart.addEventListener("click", () => sendText("/start"));
  ui.themeToggle.addEventListener("click", () => {
    applyTheme(currentTheme() === "dark" ? "light" : "dark", true);
  });
  ui.menuWebApp.addEventListener("click", () => {
    openWebApp(ui.menuWebApp.dataset.webApp, ui.menuWebApp.textContent, "menu");
  });
  ui.webappClose.addEventListener("click", () => {
    if (webApp.confirmClose && !window.confirm("Close the Mini App? Changes may be lost.")) return;
    closeWebApp();
  });
  ui.webappBack.addEventListener("click", () => postToWebApp("back_button_pressed", {}));
  ui.webappMainButton.addEventListener("click", () => postToWebApp("main_button_pressed", {}));
  ui.webappFrame.addEventListener("load", () => {
    if (webApp.open) setTimeout(() => { ui.webappStatus.textContent = ""; }, 3000);
  });
  ui.text.addEventListener("input", () => {
    // With a Mini App menu button the command list opens on "/", as in Telegram.
    if (!ui.menuButton.hidden || !chat.user) return;
    if (ui.text.value === "/" && ui.commands.hidden) toggleCommands();
    else if (!ui.text.value.startsWith("/") && !ui.commands.hidden) ui.commands.hidden = true;
  });
  const systemDark = window.matchMedia("(prefers-color-scheme: dark)");
  systemDark.addEventListener("change", () => {
    if (!localStorage.getItem("sandbox-theme")) applyTheme(systemDark.matches ? "dark" : "light");
  });
  applyTheme(localStorage.getItem("sandbox-theme") || (systemDark.matches ? "dark" : "light"));
  document.addEventListener("click", (event) => {
    const target = event.target.closest("[data-command]");
    if (target) sendText(target.getAttribute("data-command"));
  });

  init();
})();
