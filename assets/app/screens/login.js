// Sign-in: labels above fields, the error next to the form, the session kept in a cookie.
import * as api from "../api.js";
import { el } from "../dom.js";
import { t } from "../i18n.js";

export function signIn(done) {
  const error = el("p", { class: "error", role: "alert", id: "signin-error" });
  const username = el("input", { id: "username", name: "username", autocomplete: "username", required: true });
  const password = el("input", { id: "password", name: "password", type: "password", autocomplete: "current-password", required: true });
  const form = el("form", { class: "card", id: "signin-form" },
    el("h1", {}, t("signin_title")),
    el("label", { for: "username" }, t("username")), username,
    el("label", { for: "password" }, t("password")), password,
    el("button", { type: "submit", id: "signin" }, t("signin")),
    error);
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    error.textContent = "";
    try {
      done(await api.login(username.value.trim(), password.value));
    } catch (err) {
      error.textContent = err.status === 429 ? t("throttled") : err.status ? t("signin_failed") : t("offline");
    }
  });
  return form;
}
