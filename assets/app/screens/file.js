// Filing an issue: one field after another, labels above, the error beside the form.
import * as api from "../api.js";
import { el } from "../dom.js";
import { t } from "../i18n.js";
import { shrink } from "../photos.js";
import * as outbox from "../outbox.js";
import { today } from "./inspections.js";

export const CATEGORIES = ["approval_delay", "land_supply", "utility_supply", "policy_not_applied",
  "inspection_disturbance", "service_conduct", "payment_arrears", "other"];

/// `preset`: the category and project to start from (a report of an unfiled inspection from
/// the inspections screen arrives with both, and a title and description to send as they are).
export async function fileIssue(preset = {}) {
  // The projects to choose from; without a connection, the list seen last time (ids and
  // names only), so that filing works on a site with no signal.
  let projects;
  try {
    projects = await api.get("/api/v1/projects?limit=200");
    localStorage.setItem("od-projects", JSON.stringify(projects.items.map((p) => ({ id: p.id, name: p.name }))));
  } catch (e) {
    if (!(e instanceof TypeError)) throw e;
    projects = { items: JSON.parse(localStorage.getItem("od-projects") || "[]") };
  }
  const select = (id, options) => el("select", { id, name: id, required: true },
    el("option", { value: "" }, t("choose")), options);
  const project = select("project", projects.items.map((p) => el("option", { value: p.id }, p.name)));
  const category = select("category", CATEGORIES.map((c) => el("option", { value: c }, t("cat_" + c))));
  const priority = el("select", { id: "priority", name: "priority" },
    el("option", { value: "normal" }, t("normal")), el("option", { value: "urgent" }, t("urgent")));
  // The milestones of the chosen project (none offline: the issue is filed on the project).
  const milestone = el("select", { id: "milestone", name: "milestone" }, el("option", { value: "" }, "—"));
  project.addEventListener("change", async () => {
    milestone.replaceChildren(el("option", { value: "" }, "—"));
    if (!project.value) return;
    const list = await api.get(`/api/v1/projects/${project.value}/milestones`).catch(() => ({ items: [] }));
    milestone.append(...list.items.map((m) => el("option", { value: m.id }, m.title)));
  });
  // The position only with the observer's consent: asked for when the box is ticked.
  const position = el("input", { id: "position", name: "position", type: "checkbox" });
  const where = el("p", { class: "hint", id: "position-note", role: "status" });
  let location_ = null;
  position.addEventListener("change", () => {
    location_ = null;
    where.textContent = "";
    if (!position.checked) return;
    navigator.geolocation?.getCurrentPosition(
      (p) => { location_ = { lat: p.coords.latitude, lng: p.coords.longitude }; where.textContent = t("position_got"); },
      () => { position.checked = false; where.textContent = t("position_failed"); },
      { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 });
    if (!navigator.geolocation) { position.checked = false; where.textContent = t("position_failed"); }
  });
  const title = el("input", { id: "title", name: "title", maxlength: 200, required: true });
  const description = el("textarea", { id: "description", name: "description", rows: 5, maxlength: 5000, required: true });
  const priv = el("input", { id: "private", name: "private", type: "checkbox" });
  // An inspection that disturbed the enterprise: who came (if known) and when.
  let departments = [];
  try {
    departments = (await api.get("/api/v1/departments?limit=200")).items;
  } catch { /* offline: the department stays unnamed */ }
  const visiting = el("select", { id: "visiting", name: "visiting" },
    el("option", { value: "" }, t("unknown_department")), departments.map((d) => el("option", { value: d.id }, d.name)));
  const visitedOn = el("input", { id: "visited-on", name: "visited-on", type: "date", value: today(), max: today() });
  const visit = el("div", { id: "visit", hidden: true },
    el("label", { for: "visiting" }, t("visiting_department")), visiting,
    el("label", { for: "visited-on" }, t("visited_on")), visitedOn);
  const showVisit = () => { visit.hidden = category.value !== "inspection_disturbance"; };
  category.addEventListener("change", showVisit);
  if (preset.category) category.value = preset.category;
  if (preset.project) project.value = String(preset.project);
  if (preset.category === "inspection_disturbance") {
    title.value = t("unfiled_title");
    description.value = t("unfiled_description");
  }
  showVisit();
  const photos = el("input", { id: "photos", name: "photos", type: "file", accept: "image/*,application/pdf", multiple: true });
  const original = el("input", { id: "original", type: "checkbox" });
  const error = el("p", { class: "error", role: "alert" });
  const key = crypto.randomUUID(); // one action, one key, however often it is sent
  const form = el("form", { id: "file-form" },
    el("h1", {}, t("new_issue")),
    el("label", { for: "project" }, t("project")), project,
    el("label", { for: "milestone" }, t("milestone")), milestone,
    el("label", { for: "category" }, t("category")), category,
    el("label", { for: "priority" }, t("priority")), priority,
    el("label", { for: "title" }, t("title")), title,
    el("label", { for: "description" }, t("description")), description,
    visit,
    el("label", { class: "check" }, priv, " ", t("private")),
    el("label", { class: "check" }, position, " ", t("position")), where,
    el("label", { for: "photos" }, t("photos")), photos,
    el("label", { class: "check" }, original, " ", t("keep_original")),
    el("button", { type: "submit" }, t("submit")), error);
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    try {
      // Photos are made smaller now, so that what waits offline is what will travel.
      const chosen = [...photos.files];
      const prepared = [];
      for (const [n, file] of chosen.entries()) {
        const blob = original.checked ? file : await shrink(file);
        const name = blob === file ? file.name : file.name.replace(/\.[^.]*$/, "") + ".jpg";
        prepared.push({ blob, name, key: `${key}-photo-${n}` });
      }
      const sent = await outbox.queue({
        kind: "filing", path: "/api/v1/issues", key, label: title.value, photos: prepared,
        body: {
          project_id: Number(project.value), milestone_id: milestone.value ? Number(milestone.value) : null,
          location: location_, category: category.value, priority: priority.value,
          title: title.value, description: description.value, private: priv.checked,
          ...(category.value === "inspection_disturbance"
            ? { visiting_department_id: visiting.value ? Number(visiting.value) : null, visited_on: visitedOn.value || null }
            : {}),
        },
      });
      const issue = sent[key];
      if (!issue) { location.hash = "#/issues"; return; } // waiting to send
      if (issue.error) throw new Error(issue.error);
      location.hash = `#/issues/${issue.id}`;
    } catch (err) {
      error.textContent = err.message;
    }
  });
  return form;
}
