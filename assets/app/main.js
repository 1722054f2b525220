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

const view = document.getElementById("view");
let user = null;

function chrome() {
  document.title = t("app");
  document.getElementById("brand").textContent = t("app");
  document.getElementById("lang").textContent = lang === "zh" ? t("english") : t("chinese");
  const out = document.getElementById("logout");
  out.textContent = t("logout");
  out.hidden = !user;
  const nav = { "nav-projects": "nav_projects", "nav-feed": "nav_feed" };
  for (const [id, key] of Object.entries(nav)) {
    const link = document.getElementById(id);
    link.hidden = !user;
    link.firstChild.textContent = t(key) + " ";
  }
}

async function badge() {
  const n = await unread().catch(() => 0);
  const b = document.getElementById("unread");
  b.textContent = n > 99 ? "99+" : String(n);
  b.hidden = n === 0;
  b.setAttribute("aria-label", `${n}`);
}

async function route() {
  chrome();
  if (!user) {
    if (await api.resume()) user = await api.get("/api/v1/me").catch(() => null);
    if (!user) {
      show(view, signIn(async (u) => { user = u; await route(); }));
      chrome();
      return;
    }
    chrome();
  }
  const hash = location.hash || "#/issues";
  const one = hash.match(/^#\/issues\/(\d+)$/);
  try {
    if (one) show(view, await issuePage(Number(one[1]), user, route));
    else if (hash === "#/new" && user.role === "observer") show(view, await fileIssue());
    else if (hash === "#/feed") show(view, await feed());
    else if (hash === "#/projects") show(view, await projects());
    else show(view, await myIssues(user));
  } catch (e) {
    show(view, el("p", { class: "error", role: "alert" }, e.status === 404 ? t("not_found") : e.message));
  }
  badge();
}

document.getElementById("lang").addEventListener("click", () => {
  setLang(lang === "zh" ? "en" : "zh");
  route();
});
document.getElementById("logout").addEventListener("click", async () => {
  await api.logout();
  user = null;
  location.hash = "#/issues";
  route();
});
window.addEventListener("hashchange", route);
setLang(lang);
route();

if ("serviceWorker" in navigator) navigator.serviceWorker.register("/sw.js").catch(() => {});
