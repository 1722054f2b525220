// The app's shell: the hash route picks a screen; every screen is built from the public API.
import * as api from "./api.js";
import { el, show } from "./dom.js";
import { lang, setLang, t } from "./i18n.js";
import { signIn } from "./screens/login.js";
import { myIssues } from "./screens/issues.js";
import { issuePage } from "./screens/issue.js";
import { fileIssue } from "./screens/file.js";
import { feed, unread } from "./screens/feed.js";
import { projects } from "./screens/projects.js";
import { desk } from "./screens/desk.js";
import { dashboard } from "./screens/dashboard.js";
import { admin } from "./screens/admin.js";
import { inspections } from "./screens/inspections.js";
import * as outbox from "./outbox.js";

const view = document.getElementById("view");
let user = null;

/// The links of the bar, by role: [hash, text key, id].
const LINKS = {
  observer: [["#/issues", "my_issues", "nav-issues"], ["#/projects", "nav_projects", "nav-projects"], ["#/inspections", "nav_inspections", "nav-inspections"]],
  department_staff: [["#/issues", "queue", "nav-issues"], ["#/projects", "nav_projects", "nav-projects"], ["#/inspections", "nav_inspections", "nav-inspections"]],
  department_head: [["#/issues", "queue", "nav-issues"], ["#/dashboard", "nav_figures", "nav-dashboard"], ["#/projects", "nav_projects", "nav-projects"], ["#/inspections", "nav_inspections", "nav-inspections"]],
  supervisor: [["#/desk", "nav_desk", "nav-desk"], ["#/issues", "nav_issues", "nav-issues"], ["#/inspections", "nav_inspections", "nav-inspections"], ["#/dashboard", "nav_dashboard", "nav-dashboard"], ["#/admin", "nav_admin", "nav-admin"]],
  admin: [["#/admin", "nav_admin", "nav-admin"], ["#/issues", "nav_issues", "nav-issues"], ["#/dashboard", "nav_dashboard", "nav-dashboard"]],
};
const HOME = { supervisor: "#/desk", admin: "#/admin" };

function chrome() {
  document.title = t("app");
  document.getElementById("brand").textContent = t("app");
  document.getElementById("lang").textContent = lang === "zh" ? t("english") : t("chinese");
  const out = document.getElementById("logout");
  out.textContent = t("logout");
  out.hidden = !user;
  const here = location.hash || HOME[user?.role] || "#/issues";
  document.getElementById("nav-role").replaceChildren(...(user ? LINKS[user.role] ?? [] : []).map(([href, key, id]) =>
    el("a", { href, id, "aria-current": here === href || here.startsWith(href + "/") ? "page" : false }, t(key))));
  const feedLink = document.getElementById("nav-feed");
  feedLink.hidden = !user;
  feedLink.firstChild.textContent = t("nav_feed") + " ";
}

async function badge() {
  const n = await unread().catch(() => 0);
  const b = document.getElementById("unread");
  b.textContent = n > 99 ? "99+" : String(n);
  b.hidden = n === 0;
  b.setAttribute("aria-label", `${n}`);
}

/// Without a connection: what waits to be sent, under the profile kept from last time.
async function offlineView() {
  const items = await outbox.waiting();
  const add = JSON.parse(localStorage.getItem("od-user") || "{}").role === "observer"
    ? el("a", { href: "#/new", class: "button", id: "new-issue" }, t("new_issue")) : null;
  return el("section", { id: "offline" },
    el("h1", {}, t("offline_title")),
    el("p", {}, t("offline_note")), add,
    el("ul", { class: "issues" }, items.map((w) =>
      el("li", { class: "issue waiting" }, el("span", { class: "title" }, w.label), el("span", { class: "status" }, t("waiting"))))));
}

/// What `#/new?category=…&project=…` asks the filing form to start from.
function preset(hash) {
  const q = new URLSearchParams(hash.split("?")[1] || "");
  return { category: q.get("category") || undefined, project: q.get("project") || undefined };
}

function remember(u) {
  // Only what the shell needs to greet its user offline; never a token.
  localStorage.setItem("od-user", JSON.stringify({ id: u.id, role: u.role, display_name: u.display_name }));
}

let latest = 0; // screens drawn out of order never cover a newer one

async function route() {
  const mine = ++latest;
  const put = (node) => { if (mine === latest) show(view, node); };
  chrome();
  if (!user) {
    try {
      if (await api.resume()) user = await api.get("/api/v1/me").catch(() => null);
    } catch {
      const kept = JSON.parse(localStorage.getItem("od-user") || "null");
      if (kept) {
        // No connection: the observer may still file; everything waits in the outbox.
        put(location.hash === "#/new" && kept.role === "observer" ? await fileIssue() : await offlineView());
        return;
      }
    }
    if (!user) {
      put(signIn(async (u) => { user = u; remember(u); await route(); }));
      chrome();
      return;
    }
    remember(user);
    chrome();
    outbox.flush().catch(() => {});
  }
  const hash = location.hash || HOME[user.role] || "#/issues";
  const one = hash.match(/^#\/issues\/(\d+)$/);
  const role = user.role;
  const wide = hash.startsWith("#/admin") || hash.startsWith("#/dashboard") || hash === "#/desk";
  view.classList.toggle("wide", wide);
  try {
    if (one) put(await issuePage(Number(one[1]), user, route));
    else if ((hash === "#/new" || hash.startsWith("#/new?")) && role === "observer") put(await fileIssue(preset(hash)));
    else if (hash === "#/inspections") put(await inspections(user, route));
    else if (hash === "#/feed") put(await feed());
    else if (hash === "#/projects") put(await projects(user));
    else if (hash === "#/desk" && role === "supervisor") put(await desk());
    else if (hash === "#/dashboard" && ["supervisor", "admin", "department_head"].includes(role)) put(await dashboard(user, route));
    else if (hash.startsWith("#/admin") && ["supervisor", "admin"].includes(role)) put(await admin(user, hash, route));
    else put(await myIssues(user));
  } catch (e) {
    if (e instanceof TypeError) put(await offlineView()); // no connection
    else put(el("p", { class: "error", role: "alert" }, e.status === 404 ? t("not_found") : e.message));
  }
  badge();
}

document.getElementById("lang").addEventListener("click", () => {
  setLang(lang === "zh" ? "en" : "zh");
  route();
});
document.getElementById("logout").addEventListener("click", async () => {
  await api.logout();
  localStorage.removeItem("od-user");
  user = null;
  location.hash = "";
  route();
});
window.addEventListener("hashchange", route);
window.addEventListener("online", () => { if (!user) route(); });
function outboxBadge(items) {
  const b = document.getElementById("outbox");
  b.textContent = `${t("waiting")} ${items.length}`;
  b.hidden = items.length === 0;
}
outbox.onChange((items) => {
  outboxBadge(items);
  // What waited has gone: a screen that showed it as waiting is drawn again. (A screen where
  // the action was just taken updates itself.)
  const showsWaiting = document.getElementById("offline") || document.querySelector("#issue-list li.waiting");
  if (items.length === 0 && showsWaiting && !location.hash.startsWith("#/new")) route();
});
outbox.waiting().then(outboxBadge).catch(() => {});
setLang(lang);
route();

if ("serviceWorker" in navigator) navigator.serviceWorker.register("/sw.js").catch(() => {});
