// Block Kit, rendered generically: whatever blocks the app posts, in messages, modals and
// the Home tab. Interactive elements carry data-block-id / data-action-id so the page can
// send the ids and the raw values of every input back, as a Slack client does.
"use strict";

const BlockKit = (() => {
  const { el } = Dom;
  const text = (object, ctx) => Mrkdwn.render(object, ctx);
  const plain = (object) => Mrkdwn.plain(object);
  let uniqueId = 0;
  const nextId = (prefix) => `${prefix}-${++uniqueId}`;

  // ---- options for every kind of select ----------------------------------------------
  function optionsOf(element, ctx) {
    const kind = element.type || "";
    if (kind.includes("users_select")) {
      return Object.entries(ctx.users || {})
        .filter(([, user]) => !user.is_bot)
        .map(([id, user]) => ({ value: id, label: user.name }));
    }
    if (kind.includes("conversations_select") || kind.includes("channels_select")) {
      return (ctx.conversations || [])
        .filter((c) => !kind.includes("channels_select") || c.kind !== "im")
        .map((c) => ({ value: c.id, label: c.kind === "im" ? c.name : "#" + c.name }));
    }
    const flat = (options) => (options || []).map((o) => ({ value: o.value, label: plain(o.text) }));
    if (element.option_groups) {
      return element.option_groups.map((g) => ({ group: plain(g.label), options: flat(g.options) }));
    }
    return flat(element.options);
  }

  function initialValues(element) {
    const one = element.initial_option ? element.initial_option.value
      : element.initial_user || element.initial_conversation || element.initial_channel;
    const many = (element.initial_options || []).map((o) => o.value)
      .concat(element.initial_users || [], element.initial_conversations || [], element.initial_channels || []);
    return one ? [one] : many;
  }

  function selectElement(element, ctx, attrs) {
    const multiple = (element.type || "").startsWith("multi_");
    const chosen = new Set(initialValues(element));
    const select = el("select", { ...attrs, multiple, class: "bk-select" });
    if (!multiple) {
      select.append(el("option", { value: "" }, plain(element.placeholder) || "Select an item"));
    }
    const addOption = (parent, option) =>
      parent.append(el("option", { value: option.value, selected: chosen.has(option.value) }, option.label));
    for (const entry of optionsOf(element, ctx)) {
      if (entry.group !== undefined) {
        const group = el("optgroup", { label: entry.group });
        entry.options.forEach((option) => addOption(group, option));
        select.append(group);
      } else {
        addOption(select, entry);
      }
    }
    if (element.type === "external_select" || element.type === "multi_external_select") {
      select.disabled = true;
      select.title = "external_select needs an options load URL: not available in the sandbox";
    }
    return select;
  }

  // ---- confirm dialogs -----------------------------------------------------------------
  function confirmThen(confirm, ctx, proceed) {
    if (!confirm) return proceed();
    const close = () => overlay.remove();
    const overlay = el("div", { class: "overlay confirm-overlay", role: "dialog", "aria-modal": "true" },
      el("div", { class: "dialog" },
        el("h2", {}, plain(confirm.title) || "Are you sure?"),
        el("div", { class: "dialog-body" }, text(confirm.text, ctx)),
        el("div", { class: "dialog-actions" },
          el("button", { class: "bk-button", onclick: close }, plain(confirm.deny) || "Cancel"),
          el("button", {
            class: `bk-button ${confirm.style === "danger" ? "danger" : "primary"}`,
            onclick: () => { close(); proceed(); },
          }, plain(confirm.confirm) || "Yes"))));
    document.body.append(overlay);
    overlay.querySelector(".dialog-actions button:last-child").focus();
  }

  // ---- elements ------------------------------------------------------------------------
  // `where`: "actions" | "accessory" | "input". Menus outside input blocks (and inputs with
  // dispatch_action) send an action as soon as they change; inputs just hold state.
  function element(element, blockId, ctx, where, dispatch, inputId) {
    const ids = { "data-block-id": blockId, "data-action-id": element.action_id, "data-kind": element.type };
    const send = (value) => ctx.onAction({ blockId, actionId: element.action_id, value });
    const immediate = where !== "input" || dispatch;
    switch (element.type) {
      case "button": {
        const button = el("button", {
          ...ids,
          class: `bk-button ${element.style || ""}`.trim(),
          onclick: () => confirmThen(element.confirm, ctx, () => {
            if (element.url && /^https?:/i.test(element.url)) window.open(element.url, "_blank", "noopener");
            send(null);
          }),
        }, plain(element.text));
        return button;
      }
      case "overflow": {
        const select = el("select", { ...ids, class: "bk-overflow", "aria-label": "More actions" },
          el("option", { value: "" }, "⋯"),
          (element.options || []).map((o) => el("option", { value: o.value }, plain(o.text))));
        select.addEventListener("change", () => {
          const value = select.value;
          select.value = "";
          if (value) confirmThen(element.confirm, ctx, () => send(value));
        });
        return select;
      }
      case "static_select": case "external_select": case "users_select":
      case "conversations_select": case "channels_select": case "multi_static_select":
      case "multi_external_select": case "multi_users_select": case "multi_conversations_select":
      case "multi_channels_select": {
        const select = selectElement(element, ctx, { ...ids, "data-stateful": "", id: inputId });
        if (immediate) {
          select.addEventListener("change", () => confirmThen(element.confirm, ctx, () =>
            send(select.multiple ? [...select.selectedOptions].map((o) => o.value) : select.value || null)));
        }
        return select;
      }
      case "checkboxes": case "radio_buttons": {
        const name = nextId("group");
        const chosen = new Set(initialValues(element));
        const box = el("div", { ...ids, "data-stateful": "", class: "bk-choices", role: "group", id: inputId });
        for (const option of element.options || []) {
          const input = el("input", {
            type: element.type === "checkboxes" ? "checkbox" : "radio", name, value: option.value,
            checked: chosen.has(option.value),
          });
          if (immediate) input.addEventListener("change", () => send(readValue(box)));
          box.append(el("label", { class: "bk-choice" }, input, " ", text(option.text, ctx),
            option.description ? el("div", { class: "bk-hint" }, text(option.description, ctx)) : null));
        }
        return box;
      }
      case "plain_text_input": case "email_text_input": case "url_text_input": case "number_input": {
        const type = { email_text_input: "email", url_text_input: "url", number_input: "text" }[element.type] || "text";
        const attrs = {
          ...ids, "data-stateful": "", id: inputId, class: "bk-input",
          placeholder: plain(element.placeholder) || null,
          maxlength: element.max_length || null,
          inputmode: element.type === "number_input" ? "decimal" : null,
        };
        const input = element.multiline
          ? el("textarea", { ...attrs, rows: 4 }, element.initial_value || "")
          : el("input", { ...attrs, type, value: element.initial_value || "" });
        if (immediate) {
          input.addEventListener("keydown", (event) => {
            if (event.key === "Enter" && !element.multiline) send(input.value);
          });
        }
        return input;
      }
      case "datepicker": case "timepicker": {
        const input = el("input", {
          ...ids, "data-stateful": "", id: inputId, class: "bk-input",
          type: element.type === "datepicker" ? "date" : "time",
          value: element.initial_date || element.initial_time || "",
        });
        if (immediate) input.addEventListener("change", () => send(input.value || null));
        return input;
      }
      case "image":
        return el("img", { class: "bk-image-element", src: safeImage(element.image_url), alt: element.alt_text || "" });
      default:
        return el("span", { class: "bk-unsupported" }, `[${element.type} element]`);
    }
  }

  function safeImage(url) {
    return /^https?:/i.test(url || "") ? url : null;
  }

  function readValue(node) {
    const kind = node.dataset.kind || "";
    if (kind === "checkboxes") return [...node.querySelectorAll("input:checked")].map((i) => i.value);
    if (kind === "radio_buttons") {
      const checked = node.querySelector("input:checked");
      return checked ? checked.value : null;
    }
    if (node.multiple) return [...node.selectedOptions].map((o) => o.value);
    return node.value === "" ? null : node.value;
  }

  // ---- blocks --------------------------------------------------------------------------
  function block(block, ctx, errors) {
    const id = block.block_id;
    switch (block.type) {
      case "header":
        return el("div", { class: "bk-header" }, plain(block.text));
      case "divider":
        return el("hr", { class: "bk-divider" });
      case "section": {
        const body = el("div", { class: "bk-section-body" });
        if (block.text) body.append(el("div", { class: "bk-text" }, text(block.text, ctx)));
        if (block.fields) {
          body.append(el("div", { class: "bk-fields" },
            block.fields.map((field) => el("div", { class: "bk-field" }, text(field, ctx)))));
        }
        const accessory = block.accessory ? element(block.accessory, id, ctx, "accessory") : null;
        return el("div", { class: "bk-section" }, body, accessory && el("div", { class: "bk-accessory" }, accessory));
      }
      case "context":
        return el("div", { class: "bk-context" }, (block.elements || []).map((item) =>
          item.type === "image"
            ? el("img", { class: "bk-context-image", src: safeImage(item.image_url), alt: item.alt_text || "" })
            : el("span", {}, text(item, ctx))));
      case "actions":
        return el("div", { class: "bk-actions" },
          (block.elements || []).map((item) => element(item, id, ctx, "actions")));
      case "input": {
        const inputId = nextId("input");
        const error = errors && errors[id];
        return el("div", {
          class: `bk-input-block${error ? " has-error" : ""}`,
          "data-required": block.optional ? null : "",
        },
          el("label", { class: "bk-label", for: inputId }, plain(block.label),
            block.optional ? el("span", { class: "bk-optional" }, " (optional)") : null),
          element(block.element || {}, id, ctx, "input", block.dispatch_action, inputId),
          block.hint ? el("div", { class: "bk-hint" }, plain(block.hint)) : null,
          error ? el("div", { class: "bk-error", role: "alert" }, error) : null);
      }
      case "image":
        return el("figure", { class: "bk-image" },
          block.title ? el("figcaption", {}, plain(block.title)) : null,
          el("img", { src: safeImage(block.image_url), alt: block.alt_text || "" }));
      case "rich_text":
        return el("div", { class: "bk-rich" }, (block.elements || []).map((item) => richText(item, ctx)));
      default:
        return el("div", { class: "bk-unsupported" }, `[unsupported block: ${block.type}]`);
    }
  }

  function richText(node, ctx) {
    const runs = (elements) => (elements || []).map((run) => {
      if (run.type === "text") {
        let out = document.createTextNode(run.text || "");
        const style = run.style || {};
        for (const [flag, tag] of [["code", "code"], ["bold", "strong"], ["italic", "em"], ["strike", "s"]]) {
          if (style[flag]) out = el(tag, {}, out);
        }
        return out;
      }
      if (run.type === "link") return text(`<${run.url}|${run.text || run.url}>`, ctx);
      if (run.type === "user") return text(`<@${run.user_id}>`, ctx);
      if (run.type === "channel") return text(`<#${run.channel_id}>`, ctx);
      if (run.type === "emoji") return run.unicode ? String.fromCodePoint(...run.unicode.split("-").map((h) => parseInt(h, 16))) : `:${run.name}:`;
      return document.createTextNode("");
    });
    switch (node.type) {
      case "rich_text_list":
        return el(node.style === "ordered" ? "ol" : "ul", {}, (node.elements || []).map((item) => el("li", {}, runs(item.elements))));
      case "rich_text_preformatted":
        return el("pre", { class: "md-pre" }, runs(node.elements));
      case "rich_text_quote":
        return el("blockquote", {}, runs(node.elements));
      default:
        return el("div", {}, runs(node.elements));
    }
  }

  return {
    // `ctx`: { users, conversations, onAction({blockId, actionId, value}) }; `errors`:
    // block_id → message under an input (a modal's response_action: errors).
    render(blocks, ctx, errors) {
      return el("div", { class: "bk-blocks" }, (blocks || []).map((b) => block(b, ctx, errors)));
    },
    // What every stateful element holds now: block_id → action_id → raw value.
    entries(root) {
      const entries = {};
      for (const node of root.querySelectorAll("[data-stateful]")) {
        const blockId = node.dataset.blockId;
        (entries[blockId] = entries[blockId] || {})[node.dataset.actionId] = readValue(node);
      }
      return entries;
    },
    // Slack's client refuses to submit a modal with an empty required input and says so
    // under it; returns whether everything required is filled in.
    checkRequired(root) {
      let complete = true;
      for (const block of root.querySelectorAll(".bk-input-block[data-required]")) {
        const node = block.querySelector("[data-stateful]");
        const value = node ? readValue(node) : null;
        const empty = value === null || (Array.isArray(value) && !value.length) || String(value).trim() === "";
        const shown = block.querySelector(".bk-required");
        if (empty && !shown) {
          const note = el("div", { class: "bk-error bk-required", role: "alert" }, "Please complete this required field.");
          block.append(note);
          for (const kind of ["input", "change"]) block.addEventListener(kind, () => note.remove(), { once: true });
        }
        if (!empty && shown) shown.remove();
        complete = complete && !empty;
      }
      return complete;
    },
    // Put values typed before a redraw back into elements that kept their ids (as Slack does).
    restore(root, entries) {
      for (const node of root.querySelectorAll("[data-stateful]")) {
        const value = (entries[node.dataset.blockId] || {})[node.dataset.actionId];
        if (value === undefined || node.dataset.kind !== "plain_text_input") continue;
        node.value = value || "";
      }
    },
  };
})();
