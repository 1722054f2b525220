// The one owner of talking to the API: the access token (in memory only), the browser
// session (refresh token in an HttpOnly cookie the page never sees), Idempotency-Keys.
import { lang } from "./i18n.js";

let access = null;

/// Like fetch, but when the device says it has no connection, fails at once the way fetch
/// does (a TypeError) instead of waiting for a request that cannot travel.
function net(path, init) {
  if (!navigator.onLine) return Promise.reject(new TypeError("offline"));
  return fetch(path, init);
}
const SESSION = { "X-Observer-Desk-Session": "cookie", "Content-Type": "application/json" };

export class ApiError extends Error {
  constructor(status, problem) {
    super(problem?.title || String(status));
    this.status = status;
    this.code = problem?.code;
  }
}

export async function login(username, password) {
  const r = await fetch("/api/v1/auth/login", {
    method: "POST", headers: { "Content-Type": "application/json", "Accept-Language": lang },
    body: JSON.stringify({ username, password, cookie: true }),
  });
  const body = await r.json();
  if (!r.ok) throw new ApiError(r.status, body);
  access = body.access_token;
  return body.user;
}

/// A new access token from the cookie session; false when there is none. Throws a
/// TypeError when there is no connection (the session may well still be there).
export async function resume() {
  const r = await net("/api/v1/auth/refresh", { method: "POST", headers: SESSION, body: "{}" });
  if (!r.ok) { access = null; return false; }
  access = (await r.json()).access_token;
  return true;
}

export async function logout() {
  await fetch("/api/v1/auth/logout", { method: "POST", headers: SESSION, body: "{}" }).catch(() => {});
  access = null;
}

export async function call(method, path, body, extra = {}) {
  const send = () => net(path, {
    method,
    headers: {
      ...(access ? { Authorization: "Bearer " + access } : {}),
      ...(body !== undefined ? { "Content-Type": "application/json" } : {}),
      "Accept-Language": lang,
      ...extra,
    },
    body: body !== undefined ? JSON.stringify(body) : undefined,
  });
  let r = await send();
  if (r.status === 401 && (await resume())) r = await send();
  if (r.status === 204) return null;
  const data = r.headers.get("content-type")?.includes("json") ? await r.json() : null;
  if (!r.ok) throw new ApiError(r.status, data);
  return data;
}

export const get = (path) => call("GET", path);

/// A creating POST, safe to retry: the key is made once per action.
export function create(path, body, key = crypto.randomUUID()) {
  return call("POST", path, body, { "Idempotency-Key": key });
}

/// Sends one file to an issue (multipart), safe to retry under its key.
export async function upload(issueId, blob, name, key = crypto.randomUUID()) {
  const send = () => {
    const form = new FormData();
    form.append("file", blob, name);
    return net(`/api/v1/issues/${issueId}/attachments`, {
      method: "POST",
      headers: { Authorization: "Bearer " + access, "Idempotency-Key": key, "Accept-Language": lang },
      body: form,
    });
  };
  let r = await send();
  if (r.status === 401 && (await resume())) r = await send();
  const data = await r.json().catch(() => null);
  if (!r.ok) throw new ApiError(r.status, data);
  return data;
}

/// A protected image (a thumbnail, a photo) as a URL the page may show.
export async function imageUrl(path) {
  const fetchIt = () => net(path, { headers: { Authorization: "Bearer " + access } });
  let r = await fetchIt();
  if (r.status === 401 && (await resume())) r = await fetchIt();
  if (!r.ok) throw new ApiError(r.status, null);
  return URL.createObjectURL(await r.blob());
}

/// Saves a protected file (a report as CSV or XLSX) under `name`.
export async function download(path, name) {
  const url = await imageUrl(path);
  const a = document.createElement("a");
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}
