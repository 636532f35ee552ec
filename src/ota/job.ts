/* The desired update, as the fleet publishes it (retained, CBOR) on
 * …/device/<id>/ota/job (docs/mqtt.md):
 *   { id: "2026-11-rollout", url: "https://…/vecgate-1.4.2-arm64.vgb",
 *     version?: "1.4.2",          the bundle must carry this version
 *     window?: { cron: "0 2 * * *", minutes: 120 },   restart only inside it
 *     healthSeconds?: 120 }       the new slot must prove itself within this */
import { OtaError } from '../errors';

export interface MaintenanceWindow {
  cron: string; /* node-cron expression: when a window opens */
  minutes: number; /* how long it stays open */
}

export interface OtaJob {
  id: string;
  url: string;
  version?: string;
  window?: MaintenanceWindow;
  healthSeconds: number;
}

export const DEFAULT_HEALTH_SECONDS = 120;
const FIELDS = ['id', 'url', 'version', 'window', 'healthSeconds'];

function bad(field: string, reason: string): OtaError {
  return new OtaError('OTA_JOB', `ota job: ${field}: ${reason}`);
}

function text(v: unknown, field: string, max: number): string {
  if (typeof v !== 'string') throw bad(field, `must be a text string, not ${typeName(v)}`);
  if (!v.length || v.length > max) throw bad(field, `must be 1 to ${max} characters`);
  return v;
}

function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (v instanceof Uint8Array) return 'a byte string';
  return typeof v === 'object' ? 'a map' : `a ${typeof v}`;
}

function isMap(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);
}

function entries(v: Record<string, unknown> | Map<unknown, unknown>): Record<string, unknown> {
  if (!(v instanceof Map)) return v;
  const o: Record<string, unknown> = {};
  for (const [k, val] of v) o[String(k)] = val;
  return o;
}

export function parseJob(value: unknown): OtaJob {
  if (!isMap(value) && !(value instanceof Map)) throw bad('job', `must be a map, not ${typeName(value)}`);
  const o = entries(value as Record<string, unknown>);
  for (const k of Object.keys(o)) if (!FIELDS.includes(k)) throw bad(k, `unknown field (known: ${FIELDS.join(', ')})`);
  const id = text(o.id, 'id', 128);
  const url = text(o.url, 'url', 2048);
  if (!/^https?:\/\/[^/\s]+/i.test(url)) throw bad('url', `must be an http:// or https:// URL, not ${JSON.stringify(url)}`);
  const job: OtaJob = { id, url, healthSeconds: DEFAULT_HEALTH_SECONDS };
  if (o.version !== undefined) job.version = text(o.version, 'version', 64);
  if (o.healthSeconds !== undefined) {
    const h = o.healthSeconds;
    if (typeof h !== 'number' || !Number.isInteger(h) || h < 1 || h > 3600) throw bad('healthSeconds', `must be a whole number of seconds from 1 to 3600, not ${JSON.stringify(h)}`);
    job.healthSeconds = h;
  }
  if (o.window !== undefined) {
    if (!isMap(o.window) && !(o.window instanceof Map)) throw bad('window', `must be a map { cron, minutes }, not ${typeName(o.window)}`);
    const w = entries(o.window as Record<string, unknown>);
    for (const k of Object.keys(w)) if (k !== 'cron' && k !== 'minutes') throw bad(`window.${k}`, 'unknown field (known: cron, minutes)');
    const cron = text(w.cron, 'window.cron', 100);
    const { validate } = require('node-cron') as typeof import('node-cron');
    if (!validate(cron)) throw bad('window.cron', `${JSON.stringify(cron)} is not a cron expression (e.g. "0 2 * * *": 02:00 every day)`);
    const m = w.minutes;
    if (typeof m !== 'number' || !Number.isInteger(m) || m < 1 || m > 1440) throw bad('window.minutes', `must be a whole number of minutes from 1 to 1440, not ${JSON.stringify(m)}`);
    job.window = { cron, minutes: m };
  }
  return job;
}

/* Whether `now` lies in a window: some minute of the last `minutes` opened one. */
export function inWindow(w: MaintenanceWindow, now = new Date()): boolean {
  const cron = require('node-cron') as typeof import('node-cron');
  const task = cron.createTask(w.cron, () => undefined);
  try {
    const t = new Date(now);
    t.setSeconds(0, 0);
    for (let i = 0; i < w.minutes; i++) {
      if (task.match(t)) return true;
      t.setTime(t.getTime() - 60_000);
    }
    return false;
  } finally {
    void task.destroy();
  }
}
