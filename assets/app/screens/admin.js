// Setting the county up: users, departments (with their webhook), projects with their
// followers and milestones, routing rules, SLA policies and the yearly calendars. Admins
// see every part; supervisors the SLA policies and the calendars, which are theirs too.
import * as api from "../api.js";
import { el } from "../dom.js";
import { t } from "../i18n.js";
import { CATEGORIES } from "./file.js";

const ROLES = ["observer", "department_staff", "department_head", "supervisor", "admin"];
const KINDS = ["project_approval", "land_pre_review", "planning_permit", "construction_permit", "environmental_assessment",
  "energy_assessment", "power_connection", "water_connection", "gas_connection", "completion_acceptance", "other"];
const MS_STATUS = ["planned", "in_progress", "done", "blocked"];
const TABS = { users: ["admin"], departments: ["admin"], projects: ["admin"], routing: ["admin"], sla: ["admin", "supervisor"], calendar: ["admin", "supervisor"] };

/// Every page of a list (a county has hundreds of rows, not millions; at most 20 pages).
async function all(path) {
  const items = [];
  let cursor = null;
  for (let n = 0; n < 20; n++) {
    const page = await api.get(`${path}${path.includes("?") ? "&" : "?"}limit=200${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`);
    items.push(...page.items);
    cursor = page.next_cursor;
    if (!cursor) break;
  }
  return items;
}

const options = (values, label, selected, blank) => [
  blank !== undefined ? el("option", { value: "" }, blank) : null,
  ...values.map((v) => el("option", { value: v, selected: String(v) === String(selected ?? "") }, label(v)))];

/// A labelled field: [label, control]; `id` is unique on the screen.
function field(id, label, control) {
  control.id = id;
  control.name ||= id;
  return [el("label", { for: id }, label), control];
}

const text = (value, attrs = {}) => el("input", { value: value ?? "", ...attrs });
const pick = (values, label, selected, blank) => el("select", {}, options(values, label, selected, blank));

let saved = false; // the last form sent was accepted: said once on the redrawn screen

/// A form that sends what `body()` makes and redraws the screen when the server agrees.
function form(id, title, fields, submit, send, refresh) {
  const error = el("p", { class: "error", role: "alert" });
  const f = el("form", { id, class: "admin-form" }, title ? el("h2", {}, title) : null, fields, el("button", { type: "submit" }, submit), error);
  f.addEventListener("submit", async (e) => {
    e.preventDefault();
    error.textContent = "";
    try {
      await send(f);
      saved = true;
      refresh();
    } catch (err) {
      error.textContent = err.message;
    }
  });
  return f;
}

const val = (f, name) => f.elements[name].value.trim();
const orNull = (s) => (s === "" ? null : s);
const idOrNull = (s) => (s === "" ? null : Number(s));

function table(id, head, rows) {
  return el("div", { class: "scroll" }, el("table", { id },
    el("thead", {}, el("tr", {}, head.map((h) => el("th", { scope: "col" }, h)))), el("tbody", {}, rows)));
}

/// An editing form folded under a row.
const fold = (label, content) => el("details", {}, el("summary", {}, label), content);

async function users(refresh) {
  const [list, depts] = await Promise.all([all("/api/v1/users"), all("/api/v1/departments")]);
  const deptName = (id) => depts.find((d) => d.id === id)?.name ?? "—";
  const deptIds = depts.map((d) => d.id);
  const rows = list.map((u) => el("tr", { dataset: { id: u.id } },
    el("td", {}, u.username), el("td", {}, u.display_name), el("td", {}, t("role_" + u.role)),
    el("td", {}, deptName(u.department_id)), el("td", {}, u.active ? t("active") : t("inactive")),
    el("td", {}, fold(t("edit"), form(`user-${u.id}`, null, [
      field(`user-${u.id}-role`, t("role"), pick(ROLES, (r) => t("role_" + r), u.role)),
      field(`user-${u.id}-dept`, t("department"), pick(deptIds, deptName, u.department_id, "—")),
      field(`user-${u.id}-password`, t("new_password"), text("", { type: "password", autocomplete: "new-password", minlength: 10 })),
      el("label", { class: "check" }, el("input", { type: "checkbox", name: "active", checked: u.active }), " ", t("active")),
    ], t("save"), (f) => {
      const get = (name) => f.elements[`user-${u.id}-${name}`].value;
      const body = { role: get("role"), department_id: idOrNull(get("dept")), active: f.elements.active.checked };
      if (get("password")) body.password = get("password");
      return api.call("PATCH", `/api/v1/users/${u.id}`, body);
    }, refresh)))));
  return [
    table("users", [t("username"), t("display_name"), t("role"), t("department"), t("active"), ""], rows),
    form("new-user", t("create"), [
      field("nu-username", t("username"), text("", { required: true, autocomplete: "off", maxlength: 32 })),
      field("nu-name", t("display_name"), text("", { required: true, maxlength: 100 })),
      field("nu-password", t("password"), text("", { type: "password", required: true, minlength: 10, autocomplete: "new-password" })),
      field("nu-role", t("role"), pick(ROLES, (r) => t("role_" + r), "observer")),
      field("nu-dept", t("department"), pick(deptIds, deptName, null, "—")),
      field("nu-email", t("email"), text("", { type: "email" })),
    ], t("create"), (f) => api.create("/api/v1/users", {
      username: val(f, "nu-username"), display_name: val(f, "nu-name"), password: f.elements["nu-password"].value,
      role: f.elements["nu-role"].value, department_id: idOrNull(f.elements["nu-dept"].value), email: orNull(val(f, "nu-email")),
    }), refresh),
  ];
}

async function departments(refresh) {
  const list = await all("/api/v1/departments");
  const hook = (prefix, d) => [
    field(`${prefix}-url`, t("webhook_url"), text(d?.webhook_url, { type: "url", maxlength: 500 })),
    field(`${prefix}-secret`, t("webhook_secret"), text("", { type: "password", autocomplete: "off", minlength: 16, maxlength: 256 })),
  ];
  const hookBody = (f, prefix, body) => {
    body.webhook_url = orNull(val(f, `${prefix}-url`));
    if (f.elements[`${prefix}-secret`].value) body.webhook_secret = f.elements[`${prefix}-secret`].value;
    return body;
  };
  return [
    table("departments", [t("code"), t("name"), t("webhook_url"), ""], list.map((d) => el("tr", { dataset: { id: d.id } },
      el("td", {}, d.code), el("td", {}, d.name), el("td", { class: "wrap" }, d.webhook_url ?? "—", d.webhook_secret_set ? ` (${t("secret_set")})` : ""),
      el("td", {}, fold(t("edit"), form(`dept-${d.id}`, null, [
        field(`dept-${d.id}-name`, t("name"), text(d.name, { required: true, maxlength: 100 })), hook(`dept-${d.id}`, d),
      ], t("save"), (f) => api.call("PATCH", `/api/v1/departments/${d.id}`,
        hookBody(f, `dept-${d.id}`, { name: val(f, `dept-${d.id}-name`) })), refresh)))))),
    form("new-department", t("create"), [
      field("nd-code", t("code"), text("", { required: true, maxlength: 32 })),
      field("nd-name", t("name"), text("", { required: true, maxlength: 100 })), hook("nd"),
    ], t("create"), (f) => api.create("/api/v1/departments",
      hookBody(f, "nd", { code: val(f, "nd-code"), name: val(f, "nd-name") })), refresh),
  ];
}

async function projects(refresh) {
  const [list, depts] = await Promise.all([all("/api/v1/projects"), all("/api/v1/departments")]);
  const deptName = (id) => depts.find((d) => d.id === id)?.name ?? "—";
  return [
    table("projects", [t("code"), t("name"), t("lead_department"), t("park"), t("followers")], list.map((p) => el("tr", {},
      el("td", {}, p.code), el("td", {}, el("a", { href: `#/admin/projects/${p.id}` }, p.name)),
      el("td", {}, deptName(p.lead_department_id)), el("td", {}, p.park ?? "—"), el("td", {}, p.observer_ids.length)))),
    form("new-project", t("create"), [
      field("np-code", t("code"), text("", { required: true, maxlength: 32 })),
      field("np-name", t("name"), text("", { required: true, maxlength: 200 })),
      field("np-lead", t("lead_department"), pick(depts.map((d) => d.id), deptName, null, "—")),
      field("np-park", t("park"), text("", { maxlength: 100 })),
    ], t("create"), async (f) => {
      const p = await api.create("/api/v1/projects", {
        code: val(f, "np-code"), name: val(f, "np-name"), lead_department_id: idOrNull(f.elements["np-lead"].value), park: orNull(val(f, "np-park")),
      });
      location.hash = `#/admin/projects/${p.id}`;
    }, refresh),
  ];
}

async function project(id, refresh) {
  const [p, milestones, depts, observers] = await Promise.all([
    api.get(`/api/v1/projects/${id}`), api.get(`/api/v1/projects/${id}/milestones`).then((m) => m.items),
    all("/api/v1/departments"), all("/api/v1/users?role=observer"),
  ]);
  const deptIds = depts.map((d) => d.id);
  const deptName = (d) => depts.find((x) => x.id === d)?.name ?? "—";
  return [
    el("a", { href: "#/admin/projects", class: "back" }, t("back")),
    form("project-edit", p.name, [
      field("pe-name", t("name"), text(p.name, { required: true, maxlength: 200 })),
      field("pe-lead", t("lead_department"), pick(deptIds, deptName, p.lead_department_id, "—")),
      field("pe-park", t("park"), text(p.park, { maxlength: 100 })),
    ], t("save"), (f) => api.call("PATCH", `/api/v1/projects/${id}`, {
      name: val(f, "pe-name"), lead_department_id: idOrNull(f.elements["pe-lead"].value), park: orNull(val(f, "pe-park")),
    }), refresh),
    form("followers", t("followers"), [
      el("fieldset", { class: "checks" }, el("legend", {}, t("followers")), observers.filter((o) => o.active || p.observer_ids.includes(o.id)).map((o) =>
        el("label", { class: "check" }, el("input", { type: "checkbox", name: "observer", value: o.id, checked: p.observer_ids.includes(o.id) }), " ", o.display_name))),
    ], t("save"), (f) => api.call("PATCH", `/api/v1/projects/${id}`, {
      observer_ids: [...f.querySelectorAll("input[name=observer]:checked")].map((c) => Number(c.value)),
    }), refresh),
    el("h2", {}, t("milestones")),
    table("milestones", [t("kind"), t("title"), t("department"), t("planned_date"), t("status")], milestones.map((m) => el("tr", {},
      el("td", {}, t("mk_" + m.kind)), el("td", {}, m.title), el("td", {}, deptName(m.responsible_department_id)),
      el("td", {}, m.planned_date ?? "—"),
      el("td", {}, form(`ms-${m.id}`, null, [
        field(`ms-${m.id}-status`, t("status"), pick(MS_STATUS, (s) => t("ms_" + s), m.status)),
      ], t("save"), (f) => api.call("PATCH", `/api/v1/milestones/${m.id}`, { status: f.elements[`ms-${m.id}-status`].value }), refresh))))),
    form("new-milestone", t("create"), [
      field("nm-kind", t("kind"), pick(KINDS, (k) => t("mk_" + k), "other")),
      field("nm-title", t("title"), text("", { required: true, maxlength: 200 })),
      field("nm-dept", t("department"), pick(deptIds, deptName, null, "—")),
      field("nm-date", t("planned_date"), text("", { type: "date" })),
    ], t("create"), (f) => api.create(`/api/v1/projects/${id}/milestones`, {
      kind: f.elements["nm-kind"].value, title: val(f, "nm-title"),
      responsible_department_id: idOrNull(f.elements["nm-dept"].value), planned_date: orNull(f.elements["nm-date"].value),
    }), refresh),
  ];
}

async function routing(refresh) {
  const [rules, depts] = await Promise.all([api.get("/api/v1/routing-rules").then((r) => r.items), all("/api/v1/departments")]);
  const deptName = (id) => depts.find((d) => d.id === id)?.name ?? "—";
  return [
    table("rules", [t("category"), t("park"), t("kind"), t("department"), ""], rules.map((r) => {
      const del = el("button", { type: "button", id: `rule-${r.id}-delete` }, t("delete"));
      del.addEventListener("click", async () => { await api.call("DELETE", `/api/v1/routing-rules/${r.id}`); refresh(); });
      return el("tr", {}, el("td", {}, t("cat_" + r.category)), el("td", {}, r.park ?? t("any")),
        el("td", {}, r.milestone_kind ? t("mk_" + r.milestone_kind) : t("any")), el("td", {}, deptName(r.department_id)), el("td", {}, del));
    })),
    form("new-rule", t("create"), [
      field("nr-category", t("category"), pick(CATEGORIES, (c) => t("cat_" + c), "other")),
      field("nr-park", t("park"), text("", { maxlength: 100 })),
      field("nr-kind", t("kind"), pick(KINDS, (k) => t("mk_" + k), null, t("any"))),
      field("nr-dept", t("department"), el("select", { required: true }, options(depts.map((d) => d.id), deptName, null, t("choose")))),
    ], t("create"), (f) => api.create("/api/v1/routing-rules", {
      category: f.elements["nr-category"].value, park: orNull(val(f, "nr-park")),
      milestone_kind: orNull(f.elements["nr-kind"].value), department_id: Number(f.elements["nr-dept"].value),
    }), refresh),
  ];
}

async function sla(refresh) {
  const policies = await api.get("/api/v1/sla-policies");
  const num = (name, value, attrs) => el("input", { name, type: "number", value, required: true, ...attrs });
  const key = (p) => `${p.category}-${p.priority}`;
  return [form("sla", null, [table("policies",
    [t("category"), t("priority"), t("ack_hours"), t("resolve_hours"), t("warn_percent"), t("auto_close_days")],
    policies.map((p) => el("tr", { dataset: { key: key(p) } },
      el("th", { scope: "row" }, t("cat_" + p.category)), el("td", {}, t(p.priority)),
      ["ack", "resolve"].map((c) => el("td", {}, num(`${key(p)}-${c}`, +(p[`${c}_minutes`] / 60).toFixed(2), { min: 0.01, step: "any", "aria-label": `${t("cat_" + p.category)} ${t(p.priority)} ${t(c + "_hours")}` }))),
      el("td", {}, num(`${key(p)}-warn`, p.warn_percent, { min: 1, max: 100, step: 1, "aria-label": `${t("cat_" + p.category)} ${t(p.priority)} ${t("warn_percent")}` })),
      el("td", {}, num(`${key(p)}-close`, p.auto_close_days, { min: 0.01, step: "any", "aria-label": `${t("cat_" + p.category)} ${t(p.priority)} ${t("auto_close_days")}` })))))],
  t("save"), (f) => api.call("PUT", "/api/v1/sla-policies", policies.map((p) => ({
    category: p.category, priority: p.priority,
    ack_minutes: Number(f.elements[`${key(p)}-ack`].value) * 60, resolve_minutes: Number(f.elements[`${key(p)}-resolve`].value) * 60,
    warn_percent: Number(f.elements[`${key(p)}-warn`].value), auto_close_days: Number(f.elements[`${key(p)}-close`].value),
  }))), refresh)];
}

async function calendar(refresh) {
  const year = Number(sessionStorage.getItem("od-cal-year")) || new Date().getFullYear();
  const c = await api.get(`/api/v1/calendar/${year}`);
  const lines = (s) => s.split(/\s+/).filter(Boolean);
  const choose = el("input", { type: "number", min: 2000, max: 2100, value: year });
  choose.addEventListener("change", () => { sessionStorage.setItem("od-cal-year", choose.value); refresh(); });
  const area = (value) => el("textarea", { rows: 6 }, value);
  const f = form("calendar", String(year), [
      field("cal-weekdays", t("weekdays"), text(c.weekdays.join(","), { required: true })),
      field("cal-hours", t("hours_of_day"), area(c.hours.map(([a, b]) => `${a}-${b}`).join("\n"))),
      field("cal-holidays", t("holidays"), area(c.holidays.join("\n"))),
      field("cal-workdays", t("workdays"), area(c.workdays.join("\n"))),
    ], t("save"), (f) => api.call("PUT", `/api/v1/calendar/${year}`, {
      timezone: c.timezone,
      weekdays: val(f, "cal-weekdays").split(/[,，\s]+/).filter(Boolean).map(Number),
      hours: lines(f.elements["cal-hours"].value).map((h) => h.split("-")),
      holidays: lines(f.elements["cal-holidays"].value), workdays: lines(f.elements["cal-workdays"].value),
    }), refresh);
  f.dataset.year = year;
  return [field("cal-year", t("year"), choose), el("p", {}, `${t("source")}: ${c.source}`), f];
}

const SCREENS = { users, departments, projects, routing, sla, calendar };
const label = (tab) => t(tab === "projects" ? "nav_projects" : tab);

/// `#/admin/<part>` (and `#/admin/projects/<id>`).
export async function admin(user, hash, refresh) {
  const tabs = Object.keys(TABS).filter((k) => TABS[k].includes(user.role));
  const [, part = tabs[0], id] = hash.match(/^#\/admin(?:\/(\w+))?(?:\/(\d+))?$/) || [];
  const current = tabs.includes(part) ? part : tabs[0];
  const body = id && current === "projects" ? await project(Number(id), refresh) : await SCREENS[current](refresh);
  const notice = saved ? el("p", { class: "notice", role: "status", id: "saved" }, t("saved")) : null;
  saved = false;
  return el("section", { class: "admin wide" },
    el("h1", {}, t("admin")), notice,
    el("nav", { class: "tabs", "aria-label": t("admin") }, tabs.map((k) =>
      el("a", { href: `#/admin/${k}`, "aria-current": k === current ? "page" : false }, label(k)))),
    el("h2", {}, label(current)),
    body);
}
