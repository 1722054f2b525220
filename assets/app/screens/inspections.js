// Inspection filings (督查报备): a department files its planned inspections and records them;
// an observer sees those on the projects they follow and reports an unfiled visit in two taps;
// supervisors see the frequency alerts.
import * as api from "../api.js";
import { el } from "../dom.js";
import { t } from "../i18n.js";

/// Today in Beijing time, as the service counts days.
export const today = () => new Date(Date.now() + 8 * 3600e3).toISOString().slice(0, 10);

const inDepartment = (user) => ["department_staff", "department_head"].includes(user.role);

export async function inspections(user, redraw) {
  const supervises = ["supervisor", "admin"].includes(user.role);
  const [list, projects, departments, alerts] = await Promise.all([
    api.get("/api/v1/inspections?limit=200"),
    api.get("/api/v1/projects?limit=200"),
    api.get("/api/v1/departments?limit=200"),
    supervises ? api.get("/api/v1/inspection-alerts?limit=200") : Promise.resolve({ items: [] }),
  ]);
  const deptName = (id) => departments.items.find((d) => d.id === id)?.name ?? String(id);
  const projName = (id) => projects.items.find((p) => p.id === id)?.name ?? String(id);
  return el("section", { id: "inspections" },
    el("h1", {}, t("inspections")),
    user.role === "observer" ? reportButtons(projects.items) : null,
    inDepartment(user) ? fileForm(user, projects.items, departments.items, redraw) : null,
    supervises ? alertList(alerts.items, projName) : null,
    el("h2", {}, t("filings")),
    list.items.length === 0 ? el("p", {}, t("no_filings")) : null,
    el("ul", { class: "issues", id: "filings" }, list.items.map((i) => filing(i, user, deptName, projName, redraw))));
}

/// One tap to a filled-in report of an unfiled visit on the project, one more to send it.
function reportButtons(projects) {
  return el("div", { class: "card", id: "report-unfiled" },
    el("p", {}, t("report_unfiled_note")),
    projects.map((p) => el("a", { href: `#/new?category=inspection_disturbance&project=${p.id}`, class: "button", id: `report-${p.id}` },
      t("report_unfiled"), " · ", p.name)));
}

function alertList(items, projName) {
  return el("div", { id: "alerts" },
    el("h2", {}, t("inspection_alerts")),
    items.length === 0 ? el("p", {}, t("no_alerts")) : null,
    el("ul", { class: "issues" }, items.map((a) =>
      el("li", { class: "issue alert" },
        el("span", { class: "title" }, projName(a.project_id)),
        el("span", { class: "meta" }, `${t("period_" + a.period)} ${a.period_start} · ${a.inspections} / ${a.threshold}`)))));
}

function filing(i, user, deptName, projName, redraw) {
  const mine = inDepartment(user) && user.department_id === i.department_id;
  const window = i.window_from ? ` ${i.window_from}–${i.window_until ?? ""}` : "";
  const joint = i.joint_department_ids.length ? ` + ${i.joint_department_ids.map(deptName).join("、")}` : "";
  const error = el("p", { class: "error", role: "alert" });
  const act = async (body) => {
    try {
      await api.call("PATCH", `/api/v1/inspections/${i.id}`, body);
      redraw();
    } catch (e) {
      error.textContent = e.message;
    }
  };
  let actions = null;
  if (mine && i.status === "planned") {
    const outcome = el("textarea", { id: `outcome-${i.id}`, rows: 2, maxlength: 2000 });
    actions = el("div", { class: "actions" },
      i.planned_on >= today()
        ? el("button", { type: "button", id: `cancel-${i.id}`, onclick: () => act({ status: "cancelled" }) }, t("cancel_filing"))
        : null,
      i.planned_on <= today()
        ? el("form", { id: `record-${i.id}`, onsubmit: (e) => { e.preventDefault(); act({ status: "done", outcome: outcome.value }); } },
          el("label", { for: `outcome-${i.id}` }, t("outcome")), outcome,
          el("button", { type: "submit" }, t("record_done")))
        : null,
      error);
  }
  return el("li", { class: "issue card", id: `filing-${i.id}` },
    el("span", { class: "title" }, `${i.planned_on}${window} · ${projName(i.project_id)}`),
    el("span", { class: "status" }, t("insp_" + i.status)),
    el("p", { class: "meta" }, deptName(i.department_id) + joint),
    el("p", {}, i.purpose),
    el("p", { class: "muted" }, t("basis"), "：", i.basis),
    i.inspectors ? el("p", { class: "muted" }, t("inspectors"), "：", i.inspectors.join("、")) : null,
    i.outcome ? el("p", {}, t("outcome"), "：", i.outcome) : null,
    i.rating ? el("p", { class: "muted" }, `${t("rating")} ${i.rating.average} (${i.rating.count})`) : null,
    actions);
}

function fileForm(user, projects, departments, redraw) {
  const project = el("select", { id: "insp-project", required: true },
    el("option", { value: "" }, t("choose")), projects.map((p) => el("option", { value: p.id }, p.name)));
  const day = el("input", { id: "insp-day", type: "date", required: true, min: today(), value: today() });
  const from = el("input", { id: "insp-from", type: "time" });
  const until = el("input", { id: "insp-until", type: "time" });
  const purpose = el("textarea", { id: "insp-purpose", rows: 2, maxlength: 1000, required: true });
  const basis = el("input", { id: "insp-basis", maxlength: 500, required: true });
  const inspectors = el("input", { id: "insp-inspectors", required: true, placeholder: "张三、李四" });
  const joint = departments.filter((d) => d.id !== user.department_id).map((d) =>
    el("label", { class: "check" }, el("input", { type: "checkbox", value: d.id, name: "joint", id: `joint-${d.id}` }), " ", d.name));
  const error = el("p", { class: "error", role: "alert" });
  const form = el("form", { id: "insp-form", class: "card" },
    el("h2", {}, t("file_inspection")),
    el("label", { for: "insp-project" }, t("project")), project,
    el("label", { for: "insp-day" }, t("planned_on")), day,
    el("label", { for: "insp-from" }, t("window_from")), from,
    el("label", { for: "insp-until" }, t("window_until")), until,
    el("label", { for: "insp-purpose" }, t("purpose")), purpose,
    el("label", { for: "insp-basis" }, t("basis")), basis,
    el("label", { for: "insp-inspectors" }, t("inspectors")), inspectors,
    el("fieldset", {}, el("legend", {}, t("joint_departments")), joint),
    el("button", { type: "submit" }, t("submit")), error);
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    try {
      await api.call("POST", "/api/v1/inspections", {
        department_id: user.department_id, project_id: Number(project.value), planned_on: day.value,
        window_from: from.value || null, window_until: until.value || null,
        purpose: purpose.value, basis: basis.value,
        inspectors: inspectors.value.split(/[、,，;；\s]+/).filter(Boolean),
        joint_department_ids: [...form.querySelectorAll("input[name=joint]:checked")].map((b) => Number(b.value)),
      });
      redraw();
    } catch (err) {
      error.textContent = err.message;
    }
  });
  return form;
}
