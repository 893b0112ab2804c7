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
        line.append(el("button", {
          type: "button", class: "keyboard-button", text: button.text,
          onclick: () => {
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
  document.addEventListener("click", (event) => {
    const target = event.target.closest("[data-command]");
    if (target) sendText(target.getAttribute("data-command"));
  });

  init();
})();
