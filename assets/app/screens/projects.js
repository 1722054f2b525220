// The projects an observer follows (all projects for departments and supervisors), each
// with its milestones and where they stand.
import * as api from "../api.js";
import { el } from "../dom.js";
import { t } from "../i18n.js";

export async function projects(user) {
  const page = await api.get("/api/v1/projects?limit=200");
  const withMilestones = await Promise.all(page.items.map(async (p) => ({
    project: p,
    milestones: (await api.get(`/api/v1/projects/${p.id}/milestones`)).items,
  })));
  return el("section", {},
    el("h1", {}, user?.role === "observer" ? t("projects") : t("nav_projects")),
    withMilestones.length === 0 ? el("p", {}, t("no_projects")) : null,
    el("ul", { class: "projects", id: "projects" }, withMilestones.map(({ project, milestones }) =>
      el("li", { class: "card" },
        el("h2", {}, project.name),
        el("p", { class: "meta" }, [project.code, project.park, project.enterprise].filter(Boolean).join(" · ")),
        el("ol", { class: "milestones" }, milestones.map((m) =>
          el("li", { class: "milestone " + m.status },
            el("span", {}, m.title),
            el("span", { class: "status" }, t("ms_" + m.status), m.planned_date ? " · " + m.planned_date : ""))))))));
}
