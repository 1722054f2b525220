// One issue: what was reported, the timeline, the replies, the steps the reader may take,
// and a reply box (a department's internal note looks unmistakably different).
import * as api from "../api.js";
import { el } from "../dom.js";
import { countyTime, t } from "../i18n.js";
import * as outbox from "../outbox.js";

const OPEN = ["submitted", "unassigned", "assigned", "in_progress", "awaiting_info", "resolved"];
const WITH_DEPT = ["assigned", "in_progress", "awaiting_info"];

/// The steps offered, by role and state, as [action, comment required, extra field]; the
/// server decides (and says no when it must).
function offered(issue, user) {
  const dept = ["department_staff", "department_head"].includes(user.role) && issue.department_id === user.department_id;
  const head = dept && user.role === "department_head";
  const sup = user.role === "supervisor";
  const mine = user.id === issue.reporter_id;
  const s = issue.status;
  const pending = issue.extension_requested_minutes != null;
  const steps = [];
  if (dept && s === "assigned") steps.push(["acknowledge", false]);
  if (dept && (s === "assigned" || s === "in_progress")) steps.push(["request_info", true]);
  if (dept && s === "in_progress") steps.push(["resolve", true, "photos"]);
  if (head && WITH_DEPT.includes(s)) steps.push(["assign", false, "assignee"]);
  if (dept && WITH_DEPT.includes(s) && !pending) steps.push(["request_extension", true, "days"]);
  if (dept && (s === "assigned" || s === "in_progress")) steps.push(["return", true]);
  if (mine && s === "awaiting_info") steps.push(["provide_info", true]);
  if (mine && s === "resolved") steps.push(["confirm", false, "rating"], ["reopen", true]);
  if (mine && ["submitted", "unassigned", "assigned", "in_progress", "awaiting_info"].includes(s)) steps.push(["withdraw", false]);
  if (sup && (s === "submitted" || s === "unassigned")) steps.push(["dispatch", false, "department"]);
  if (sup && pending && WITH_DEPT.includes(s)) steps.push(["approve_extension", false], ["deny_extension", false]);
  if (sup && WITH_DEPT.includes(s)) steps.push(["transfer", false, "department"]);
  if (sup && OPEN.includes(s)) steps.push(["chase", false], ["escalate", false]);
  return steps;
}

/// The working minutes of one working day in the calendar in force (the sum of its hours).
export function minutesPerDay(calendar) {
  const minutes = (hm) => { const [h, m] = hm.split(":").map(Number); return h * 60 + m; };
  return calendar.hours.reduce((sum, [from, to]) => sum + minutes(to) - minutes(from), 0) || 480;
}

/// The field a step needs besides its note: whom to assign, where to send, how long, a rating.
function extraField(action, extra, ctx) {
  const id = `${extra}-${action}`;
  const choose = (options) => el("select", { id, name: extra, required: true }, el("option", { value: "" }, t("choose")), options);
  if (extra === "department") {
    return [el("label", { for: id }, t("department")),
      choose(ctx.departments.map((d) => el("option", { value: d.id }, d.name)))];
  }
  if (extra === "assignee") {
    return [el("label", { for: id }, t("assignee")),
      choose(ctx.colleagues.map((u) => el("option", { value: u.id }, u.display_name)))];
  }
  if (extra === "days") {
    return [el("label", { for: id }, t("working_days")),
      el("input", { id, name: extra, type: "number", min: 0.5, max: 60, step: 0.5, value: 1, required: true, inputmode: "decimal" })];
  }
  if (extra === "photos") {
    return [el("label", { for: id }, t("photos")),
      el("input", { id, name: extra, type: "file", accept: "image/*,application/pdf", multiple: true })];
  }
  if (extra === "rating") {
    return [el("fieldset", { class: "rating" }, el("legend", {}, t("rating")),
      [1, 2, 3, 4, 5].map((n) => el("label", {}, el("input", { type: "radio", name: "rating", value: n, checked: n === 5 }), " ", n)))];
  }
  return [];
}

function stepForm(id, [action, needsComment, extra], ctx, done) {
  const note = el("textarea", { id: `note-${action}`, rows: 2, maxlength: 5000, required: needsComment });
  const error = el("p", { class: "error", role: "alert" });
  const form = el("form", { class: "step", id: `step-${action}` },
    el("label", { for: `note-${action}` }, needsComment ? t("reason") : t("optional_note")), note,
    extraField(action, extra, ctx), el("button", { type: "submit" }, t("act_" + action)), error);
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const body = { action };
    if (note.value.trim()) body.comment = note.value;
    const value = (name) => form.querySelector(`[name=${name}]`)?.value;
    if (extra === "rating") body.rating = Number(form.querySelector("input[name=rating]:checked").value);
    if (extra === "department") body.department_id = Number(value("department"));
    if (extra === "assignee") body.assignee_id = Number(value("assignee"));
    if (extra === "days") body.extension_minutes = Math.round(Number(value("days")) * ctx.minutesPerDay);
    const key = crypto.randomUUID();
    try {
      // A resolution's photos go first, so that the observer sees them with the reply.
      if (extra === "photos") {
        for (const [n, file] of [...form.querySelector("[name=photos]").files].entries()) {
          await api.upload(id, file, file.name, `${key}-photo-${n}`);
        }
      }
      const sent = await outbox.queue({ kind: "step", path: `/api/v1/issues/${id}/transitions`, body, key, label: t("act_" + action) });
      if (!sent[key]) { error.textContent = t("waiting"); return; }
      if (sent[key].error) throw new Error(sent[key].error);
      done();
    } catch (err) {
      error.textContent = err.message;
    }
  });
  return form;
}

/// What the steps offered need to know: departments, colleagues, the length of a working day.
async function context(issue, user, steps) {
  const needs = new Set(steps.map(([, , extra]) => extra));
  const internal = user.role !== "observer";
  const [departments, colleagues, calendar] = await Promise.all([
    internal ? api.get("/api/v1/departments?limit=200").then((p) => p.items) : [],
    needs.has("assignee") ? api.get(`/api/v1/users?department_id=${user.department_id}&limit=200`).then((p) => p.items.filter((u) => u.active)) : [],
    internal ? api.get(`/api/v1/calendar/${new Date().getFullYear()}`) : null,
  ]);
  return { departments, colleagues, minutesPerDay: calendar ? minutesPerDay(calendar) : 480 };
}

export async function issuePage(id, user, refresh) {
  const [issue, comments, events, files] = await Promise.all([
    api.get(`/api/v1/issues/${id}`),
    api.get(`/api/v1/issues/${id}/comments`),
    api.get(`/api/v1/issues/${id}/events`),
    api.get(`/api/v1/issues/${id}/attachments`),
  ]);
  // Thumbnails come with the bearer token, so they are fetched, then shown from memory;
  // a tap opens the full photo.
  const gallery = el("ul", { class: "gallery", id: "gallery" }, files.items.map((f) => {
    const item = el("li", {});
    const thumbs = ["image/jpeg", "image/png", "image/webp"].includes(f.content_type);
    const open = el("button", { type: "button", class: "file" }, thumbs ? "" : f.file_name);
    open.addEventListener("click", async () => window.open(await api.imageUrl(`/api/v1/attachments/${f.id}`), "_blank"));
    if (thumbs) {
      api.imageUrl(`/api/v1/attachments/${f.id}/thumbnail`)
        .then((url) => open.append(el("img", { src: url, alt: f.file_name, width: 96, height: 96 })))
        .catch(() => open.append(f.file_name));
    }
    item.append(open);
    return item;
  }));
  const entry = (c) => el("li", { class: c.internal ? "internal" : "public" },
    c.internal ? el("strong", { class: "tag" }, t("internal")) : null,
    el("p", { class: "body" }, c.body),
    el("time", { datetime: c.created_at }, countyTime(c.created_at)));
  const list = el("ol", { class: "comments", id: "comments" }, comments.items.map(entry));
  const timeline = el("ol", { class: "timeline", id: "timeline" }, events.items
    .filter((e) => e.kind !== "comment")
    .map((e) => el("li", {},
      el("time", { datetime: e.at }, countyTime(e.at)), " ",
      el("strong", {}, t("ev_" + e.kind)),
      e.data && e.data.comment ? el("p", { class: "body" }, e.data.comment) : null)));
  const box = el("textarea", { id: "reply", name: "reply", rows: 3, maxlength: 5000, required: true });
  const dept = user.role !== "observer";
  const internal = dept ? el("input", { id: "internal", type: "checkbox" }) : null;
  const hint = el("p", { class: "hint", id: "internal-hint", hidden: true }, t("internal_hint"));
  const error = el("p", { class: "error", role: "alert" });
  const form = el("form", { id: "reply-form" },
    el("label", { for: "reply" }, t("reply_label")), box,
    internal ? el("label", { class: "check" }, internal, " ", t("internal_toggle")) : null,
    hint, el("button", { type: "submit" }, t("send")), error);
  internal?.addEventListener("change", () => {
    form.classList.toggle("internal", internal.checked);
    hint.hidden = !internal.checked;
  });
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const key = crypto.randomUUID();
    const body = { body: box.value, internal: internal?.checked ?? false };
    try {
      const sent = await outbox.queue({ kind: "comment", path: `/api/v1/issues/${id}/comments`, body, key, label: box.value });
      const c = sent[key];
      if (c && c.error) throw new Error(c.error);
      list.append(c ? entry(c) : el("li", { class: "waiting" }, el("p", { class: "body" }, body.body), el("span", { class: "status" }, t("waiting"))));
      box.value = "";
    } catch (err) {
      error.textContent = err.message;
    }
  });
  const wanted = offered(issue, user);
  const ctx = await context(issue, user, wanted);
  const steps = wanted.map((step) => stepForm(id, step, ctx, refresh));
  const deptName = ctx.departments.find((d) => d.id === issue.department_id)?.name;
  const colleague = ctx.colleagues.find((u) => u.id === issue.assignee_id)?.display_name;
  return el("article", { class: "issue-page" },
    el("a", { href: "#/issues", class: "back" }, t("back")),
    el("h1", { id: "issue-title" }, issue.title),
    el("p", { class: "meta" }, issue.number, " · ", el("span", { id: "issue-status" }, t("status_" + issue.status)),
      deptName ? ` · ${deptName}` : "", colleague ? ` · ${t("assignee")} ${colleague}` : ""),
    issue.extension_requested_minutes != null
      ? el("p", { class: "notice", id: "extension-pending" }, t("extension_pending"), ": ",
        Math.round((issue.extension_requested_minutes / ctx.minutesPerDay) * 10) / 10, " ", t("days"))
      : null,
    el("p", { class: "description" }, issue.description),
    files.items.length ? gallery : null,
    steps.length ? el("section", { class: "steps", id: "steps" }, steps) : null,
    el("h2", {}, t("timeline")), timeline,
    el("h2", {}, t("comments")), list, form);
}
