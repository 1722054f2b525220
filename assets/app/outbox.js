// What an observer does without a signal waits here, in IndexedDB, each action with the
// Idempotency-Key made once when it was done, and is sent in order when the connection
// returns — also after the app was closed and opened again. Each lands exactly once.
import * as api from "./api.js";

const DB = "observer-desk";
const STORE = "outbox";
let flushing = null;
const listeners = new Set();

function open() {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(DB, 1);
    req.onupgradeneeded = () => req.result.createObjectStore(STORE, { keyPath: "seq", autoIncrement: true });
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

async function tx(mode, work) {
  const db = await open();
  return new Promise((resolve, reject) => {
    const t = db.transaction(STORE, mode);
    const result = work(t.objectStore(STORE));
    t.oncomplete = () => { db.close(); resolve(result.result ?? result); };
    t.onerror = () => { db.close(); reject(t.error); };
  });
}

/// Everything still waiting, oldest first.
export function waiting() {
  return tx("readonly", (s) => s.getAll());
}

/// Subscribes to changes in what is waiting.
export function onChange(f) { listeners.add(f); }
const changed = async () => { const w = await waiting(); listeners.forEach((f) => f(w)); };

/// Queues an action and tries to send what waits. `entry`: { kind, path, body, key, photos, label }.
export async function queue(entry) {
  await tx("readwrite", (s) => s.add({ ...entry, at: new Date().toISOString() }));
  await changed();
  return flush();
}

const offline = (e) => e instanceof TypeError; // fetch's way of saying "no connection"

async function send(entry) {
  const result = await api.create(entry.path, entry.body, entry.key);
  if (entry.kind === "filing") {
    for (const p of entry.photos || []) await api.upload(result.id, p.blob, p.name, p.key);
  }
  return result;
}

/// Sends what waits, in order; stops at the first one that cannot travel yet. Answers the
/// results of what was sent, by key.
export function flush() {
  if (flushing) return flushing;
  flushing = (async () => {
    const sent = {};
    for (const entry of await waiting()) {
      try {
        sent[entry.key] = await send(entry);
      } catch (e) {
        if (offline(e) || e.status === 401 || e.status === 429 || e.status >= 500) break;
        sent[entry.key] = { error: e.message }; // refused for good: told, not retried
      }
      await tx("readwrite", (s) => s.delete(entry.seq));
    }
    await changed();
    return sent;
  })().finally(() => { flushing = null; });
  return flushing;
}

window.addEventListener("online", () => flush().catch(() => {}));
setInterval(() => { if (navigator.onLine) flush().catch(() => {}); }, 5000);
