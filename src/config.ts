/**
 * The one validated configuration. Everything else receives a Config; nothing else reads process.env.
 *
 * Sources, strongest first: environment variables (ONESEAL_*), the optional JSON file named by
 * ONESEAL_CONFIG_FILE (same keys in camelCase), built-in development defaults.
 * Every bad value is reported at once, so a person fixes the whole file in one pass.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { availableParallelism, homedir } from 'node:os';
import path from 'node:path';
import { inspect } from 'node:util';
import { OneSealError, type FieldError } from './errors.js';
import { isSoftHsm, SOFTHSM_MODULE } from './hsm/softhsm.js';
import { findPackageRoot } from './package-root.js';

export { findPackageRoot };
import { creditCodeError } from './standards/credit-code.js';
import { DEFAULT_DOCUMENT_LIMITS, type DocumentLimits } from './stamping/document-limits.js';

/** The development token's PIN. Public on purpose; production refuses it. */
export const DEV_PIN = '1234-oneseal-dev';

/**
 * A value that must never reach a log, an error message or a JSON dump (PINs, database passwords).
 * Only `reveal()` gives the value, so every use of it is greppable.
 */
export class Secret {
  readonly #value: string;
  constructor(value: string) {
    this.#value = value;
  }
  reveal(): string {
    return this.#value;
  }
  toString(): string {
    return '[redacted]';
  }
  toJSON(): string {
    return '[redacted]';
  }
  [inspect.custom](): string {
    return '[redacted]';
  }
}

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

export type DatabaseConfig =
  | { client: 'sqlite3'; filename: string }
  /** `schema` comes from a `?schema=` query parameter and isolates OneSeal's tables (and the tests'). */
  | { client: 'pg'; url: Secret; schema?: string };

export interface Config {
  nodeEnv: string;
  production: boolean;
  host: string;
  port: number;
  /** Base URL written into certificates (CRL/OCSP locations) and QR codes; no trailing slash. */
  publicUrl: string;
  /**
   * Whether ONESEAL_PUBLIC_URL (or the file's publicUrl) set it. When not, the URL is derived from host
   * and port, and the CLI takes the one the running server recorded instead (src/store/settings.ts).
   */
  publicUrlConfigured: boolean;
  packageRoot: string;
  dataDir: string;
  database: DatabaseConfig;
  hsm: {
    modulePath: string;
    tokenLabel: string;
    pin: Secret;
    /** True when the PIN is the public development PIN. */
    devPin: boolean;
    poolSize: number;
    /** How long a signature may take before the request gets 503 hsm-timeout. */
    timeoutMs: number;
    /** SoftHSM's config file and token directory under the data dir (see `manageSofthsmConf`). */
    softhsmConfPath: string;
    softhsmTokensDir: string;
    /** OneSeal writes and points SOFTHSM2_CONF at softhsmConfPath only for SoftHSM when SOFTHSM2_CONF is unset. */
    manageSofthsmConf: boolean;
  };
  maxUploadBytes: number;
  /**
   * Stamped PDFs up to this size are kept in the database with their record (one fsync for both);
   * larger ones as files under stamps/ (0: every output a file).
   */
  outputsInDatabaseMaxBytes: number;
  /** The smallest seal, in millimetres, that may be fitted into a signature field (ONESEAL_MIN_SEAL_MM). */
  minSealMm: number;
  /** Per API client token bucket: sustained requests per second and burst size. */
  rateLimit: { perSecond: number; burst: number };
  /** Per client address, one bucket for POST /v1/verifications and POST /v/{id}/check (no credentials needed). */
  publicRateLimit: { perSecond: number; burst: number };
  /** How long one API request may run before it is answered with 503 (the work may still finish and be recorded). */
  requestTimeoutMs: number;
  /** /healthz probes the HSM and the database at most this often and answers from the last probe in between (0: every time). */
  healthProbeIntervalMs: number;
  /** Worker threads for PDF work (0: in the main thread). */
  workers: number;
  /** The nice value of the PDF worker threads (Linux; src/workers/priority.ts). */
  workerNice: number;
  /** Pages and objects one document to stamp may have (checked before any work on it). */
  documentLimits: DocumentLimits;
  /**
   * The HTTP server's own limits: time to send the headers, time to send the whole request (a slow
   * upload is cut), idle keep-alive time, and open connections per client address.
   */
  http: { headersTimeoutMs: number; uploadTimeoutMs: number; keepAliveTimeoutMs: number; connectionsPerAddress: number };
  /** How often the server signs the audit chain head when it moved: bounds how much of the log is only hash-protected. */
  auditHeadIntervalMs: number;
  logLevel: LogLevel;
  /**
   * People's sessions: idle time-out and absolute lifetime; whether a TOTP code is required at login;
   * logins per minute from one client address (each costs a scrypt; names also lock after 5 failures).
   */
  sessions: { idleMs: number; maxMs: number; requireTotp: boolean; loginsPerMinute: number };
  /**
   * Where `oneseal login` keeps the CLI's session (mode 0600): under the user's config directory, one
   * file per database, so two deployments on one machine never share a session.
   */
  cliSessionFile: string;
  /** ONESEAL_BREAK_GLASS=1: production accepts `--break-glass` CLI commands (the PIN holder acting outside the policy). */
  breakGlassAllowed: boolean;
  seal: { orgName: string; orgCreditCode: string; sealName: string };
  /**
   * Electronic archives: documents are renewed (new DSS + document time-stamp) when the TSA certificate
   * of their newest time-stamp expires within `horizonDays`, or it relies on a digest in `weakDigests`
   * (e.g. SHA-1); packages state `retentionYears` (电子档案保管期限).
   */
  archive: { horizonDays: number; weakDigests: string[]; retentionYears: number };
  /** The development root certificate shipped in the repo; production must not run on it. */
  devRootCertPath: string;
  /** The JSON file the configuration was read from, if any. */
  configFile?: string;
}

/** Keys accepted in the ONESEAL_CONFIG_FILE JSON, with their environment variable. */
const FILE_KEYS = {
  host: 'ONESEAL_HOST',
  port: 'ONESEAL_PORT',
  dataDir: 'ONESEAL_DATA_DIR',
  databaseUrl: 'ONESEAL_DATABASE_URL',
  publicUrl: 'ONESEAL_PUBLIC_URL',
  pkcs11Module: 'ONESEAL_PKCS11_MODULE',
  tokenLabel: 'ONESEAL_TOKEN_LABEL',
  pin: 'ONESEAL_PIN',
  pinFile: 'ONESEAL_PIN_FILE',
  hsmPoolSize: 'ONESEAL_HSM_POOL_SIZE',
  hsmTimeoutSeconds: 'ONESEAL_HSM_TIMEOUT_SECONDS',
  maxUploadMb: 'ONESEAL_MAX_UPLOAD_MB',
  outputsInDatabaseMaxKb: 'ONESEAL_OUTPUTS_IN_DATABASE_MAX_KB',
  minSealMm: 'ONESEAL_MIN_SEAL_MM',
  rateLimitPerSecond: 'ONESEAL_RATE_LIMIT_PER_SECOND',
  rateLimitBurst: 'ONESEAL_RATE_LIMIT_BURST',
  requestTimeoutSeconds: 'ONESEAL_REQUEST_TIMEOUT_SECONDS',
  verifyRatePerSecond: 'ONESEAL_VERIFY_RATE_PER_SECOND',
  verifyRateBurst: 'ONESEAL_VERIFY_RATE_BURST',
  workers: 'ONESEAL_WORKERS',
  workerNice: 'ONESEAL_WORKER_NICE',
  healthProbeIntervalMs: 'ONESEAL_HEALTH_PROBE_INTERVAL_MS',
  maxPages: 'ONESEAL_MAX_PAGES',
  maxStraddlePages: 'ONESEAL_MAX_STRADDLE_PAGES',
  maxObjects: 'ONESEAL_MAX_OBJECTS',
  headersTimeoutSeconds: 'ONESEAL_HEADERS_TIMEOUT_SECONDS',
  uploadTimeoutSeconds: 'ONESEAL_UPLOAD_TIMEOUT_SECONDS',
  keepAliveTimeoutSeconds: 'ONESEAL_KEEPALIVE_TIMEOUT_SECONDS',
  connectionsPerAddress: 'ONESEAL_CONNECTIONS_PER_ADDRESS',
  auditHeadIntervalMinutes: 'ONESEAL_AUDIT_HEAD_INTERVAL_MINUTES',
  logLevel: 'ONESEAL_LOG_LEVEL',
  sessionIdleMinutes: 'ONESEAL_SESSION_IDLE_MINUTES',
  sessionMaxHours: 'ONESEAL_SESSION_MAX_HOURS',
  requireTotp: 'ONESEAL_REQUIRE_TOTP',
  loginsPerMinute: 'ONESEAL_LOGINS_PER_MINUTE',
  sessionFile: 'ONESEAL_SESSION_FILE',
  orgName: 'ONESEAL_ORG_NAME',
  orgCreditCode: 'ONESEAL_ORG_CREDIT_CODE',
  sealName: 'ONESEAL_SEAL_NAME',
  archiveHorizonDays: 'ONESEAL_ARCHIVE_HORIZON_DAYS',
  archiveWeakDigests: 'ONESEAL_ARCHIVE_WEAK_DIGESTS',
  archiveRetentionYears: 'ONESEAL_ARCHIVE_RETENTION_YEARS',
} as const;
type FileKey = keyof typeof FILE_KEYS;
/** Keys whose relative paths are taken relative to the config file rather than the working directory. */
const PATH_KEYS: ReadonlySet<FileKey> = new Set(['dataDir', 'pinFile', 'pkcs11Module', 'sessionFile']);

const DEFAULTS = {
  host: '127.0.0.1',
  port: 8080,
  pkcs11Module: SOFTHSM_MODULE,
  tokenLabel: 'oneseal-dev',
  hsmPoolSize: 4,
  hsmTimeoutSeconds: 10,
  maxUploadMb: 50,
  // A one-page stamped letter is ~50 KB; a few hundred pages still fit, a scanned dossier goes to a file.
  outputsInDatabaseMaxKb: 1024,
  // Below about 2 cm a seal's ring text can no longer be read on paper.
  minSealMm: 20,
  rateLimitPerSecond: 20,
  rateLimitBurst: 40,
  requestTimeoutSeconds: 60,
  verifyRatePerSecond: 20,
  verifyRateBurst: 40,
  ...DEFAULT_DOCUMENT_LIMITS,
  headersTimeoutSeconds: 20,
  // 50 MB at 1 MB/s, with room: a client slower than that ties up a connection for nothing.
  uploadTimeoutSeconds: 120,
  keepAliveTimeoutSeconds: 5,
  connectionsPerAddress: 256,
  auditHeadIntervalMinutes: 10,
  sessionIdleMinutes: 30,
  sessionMaxHours: 12,
  loginsPerMinute: 30,
  logLevel: 'info' as LogLevel,
  orgName: '某某区行政审批局',
  // A made-up code with a correct GB 32100 check character.
  orgCreditCode: '11110105MB0123456F',
  sealName: '行政审批专用章',
  archiveHorizonDays: 365,
  archiveRetentionYears: 30,
};

const DIGEST_NAMES = ['SHA-1', 'SHA-224', 'SHA-256', 'SHA-384', 'SHA-512'];

/** The directory holding OneSeal's package.json, found from this file so it works from src/ (vitest) and dist/. */
const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]', '::1', '0.0.0.0']);

function isLoopbackUrl(url: string): boolean {
  const host = new URL(url).hostname;
  return LOOPBACK_HOSTS.has(host) || host.startsWith('127.');
}

type Raw = Partial<Record<FileKey, string>>;

/** Reads the config file into env-variable-shaped strings, noting bad keys and types as field errors. */
function readConfigFile(file: string, errors: FieldError[]): Raw {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    errors.push({ field: 'ONESEAL_CONFIG_FILE', message: `cannot read ${file} as JSON: ${(e as Error).message}` });
    return {};
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    errors.push({ field: 'ONESEAL_CONFIG_FILE', message: `${file} must hold a JSON object` });
    return {};
  }
  const raw: Raw = {};
  for (const [key, value] of Object.entries(parsed)) {
    if (!(key in FILE_KEYS)) {
      errors.push({ field: `${file}: ${key}`, message: `unknown key; known keys: ${Object.keys(FILE_KEYS).join(', ')}` });
      continue;
    }
    if (typeof value !== 'string' && typeof value !== 'number') {
      errors.push({ field: `${file}: ${key}`, message: 'must be a string or a number' });
      continue;
    }
    const k = key as FileKey;
    raw[k] = PATH_KEYS.has(k) ? path.resolve(path.dirname(file), String(value)) : String(value);
  }
  return raw;
}

function parseInteger(raw: string, field: string, min: number, max: number, errors: FieldError[]): number | undefined {
  if (!/^\d+$/.test(raw.trim()) || Number(raw) < min || Number(raw) > max) {
    errors.push({ field, message: `must be a whole number from ${min} to ${max}, got "${raw}"` });
    return undefined;
  }
  return Number(raw);
}

function parseHttpUrl(raw: string, field: string, errors: FieldError[]): string | undefined {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    errors.push({ field, message: `must be an absolute http(s) URL, got "${raw}"` });
    return undefined;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    errors.push({ field, message: `must be an http(s) URL, got "${raw}"` });
    return undefined;
  }
  if (url.search || url.hash || url.username || url.password) {
    errors.push({ field, message: 'must be a plain base URL without credentials, query or fragment' });
    return undefined;
  }
  return url.href.replace(/\/+$/, '');
}

function parseDatabaseUrl(raw: string, field: string, errors: FieldError[]): DatabaseConfig | undefined {
  if (/^postgres(ql)?:\/\//.test(raw)) {
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      errors.push({ field, message: 'is not a valid postgres:// URL' });
      return undefined;
    }
    const schema = url.searchParams.get('schema') ?? undefined;
    if (schema !== undefined && !/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) {
      errors.push({ field, message: `schema "${schema}" must be a lower-case SQL identifier` });
      return undefined;
    }
    url.searchParams.delete('schema');
    return { client: 'pg', url: new Secret(url.href), ...(schema ? { schema } : {}) };
  }
  if (raw.startsWith('sqlite:')) {
    // sqlite:///abs/file.db, sqlite:relative/file.db
    const rest = raw.slice('sqlite:'.length).replace(/^\/\//, '');
    if (!rest) {
      errors.push({ field, message: 'sqlite: URL names no file' });
      return undefined;
    }
    return { client: 'sqlite3', filename: path.resolve(rest) };
  }
  errors.push({ field, message: 'must start with sqlite: or postgres:// (postgresql://)' });
  return undefined;
}

/**
 * Builds the configuration from `env` (process.env by default). Reads the files it names (config file,
 * PIN file) and nothing else. Throws one OneSealError('invalid-config') listing every bad variable.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const errors: FieldError[] = [];
  const configFile = env.ONESEAL_CONFIG_FILE ? path.resolve(env.ONESEAL_CONFIG_FILE) : undefined;
  const fromFile = configFile ? readConfigFile(configFile, errors) : {};
  const get = (key: FileKey): string | undefined => {
    const v = env[FILE_KEYS[key]];
    return v !== undefined && v !== '' ? v : fromFile[key];
  };
  // Where a bad value came from: the variable, or the file key when the file supplied it.
  const field = (key: FileKey): string => (env[FILE_KEYS[key]] ? FILE_KEYS[key] : `${configFile}: ${key}`);

  const nodeEnv = env.NODE_ENV || 'development';
  const production = nodeEnv === 'production';
  const packageRoot = findPackageRoot();

  const host = get('host') ?? DEFAULTS.host;
  if (!/^[A-Za-z0-9.:_-]+$/.test(host)) errors.push({ field: field('host'), message: `is not a host name or address: "${host}"` });

  const portRaw = get('port');
  const port = portRaw === undefined ? DEFAULTS.port : parseInteger(portRaw, field('port'), 0, 65535, errors);

  const publicUrlRaw = get('publicUrl');
  const publicUrl =
    publicUrlRaw === undefined
      ? `http://${host.includes(':') ? `[${host}]` : host}:${port ?? DEFAULTS.port}`
      : parseHttpUrl(publicUrlRaw, field('publicUrl'), errors);

  const dataDir = path.resolve(get('dataDir') ?? path.join(packageRoot, 'var'));

  const dbRaw = get('databaseUrl');
  const database: DatabaseConfig | undefined =
    dbRaw === undefined
      ? { client: 'sqlite3', filename: path.join(dataDir, 'oneseal.db') }
      : parseDatabaseUrl(dbRaw, field('databaseUrl'), errors);

  const modulePath = path.resolve(get('pkcs11Module') ?? DEFAULTS.pkcs11Module);
  if (!existsSync(modulePath)) errors.push({ field: field('pkcs11Module'), message: `no PKCS#11 module at ${modulePath}` });

  const tokenLabel = get('tokenLabel') ?? DEFAULTS.tokenLabel;
  // PKCS#11 token labels are a 32-byte blank-padded field.
  if (!tokenLabel || Buffer.byteLength(tokenLabel) > 32) {
    errors.push({ field: field('tokenLabel'), message: 'must be 1 to 32 bytes long' });
  }

  let pin: string | undefined;
  const pinRaw = get('pin');
  const pinFile = get('pinFile');
  if (pinRaw !== undefined && pinFile !== undefined) {
    errors.push({ field: 'ONESEAL_PIN', message: 'set either ONESEAL_PIN or ONESEAL_PIN_FILE, not both' });
  } else if (pinFile !== undefined) {
    try {
      // A trailing newline from `echo pin > file` is not part of the PIN.
      pin = readFileSync(path.resolve(pinFile), 'utf8').replace(/\r?\n$/, '');
    } catch (e) {
      errors.push({ field: field('pinFile'), message: `cannot read the PIN file: ${(e as NodeJS.ErrnoException).code ?? 'error'}` });
    }
    if (pin === '') errors.push({ field: field('pinFile'), message: 'the PIN file is empty' });
  } else {
    pin = pinRaw ?? DEV_PIN;
  }

  const poolRaw = get('hsmPoolSize');
  const poolSize = poolRaw === undefined ? DEFAULTS.hsmPoolSize : parseInteger(poolRaw, field('hsmPoolSize'), 1, 64, errors);

  const uploadRaw = get('maxUploadMb');
  const maxUploadMb = uploadRaw === undefined ? DEFAULTS.maxUploadMb : parseInteger(uploadRaw, field('maxUploadMb'), 1, 1024, errors);

  const minSealRaw = get('minSealMm');
  const minSealMm = minSealRaw === undefined ? DEFAULTS.minSealMm : parseInteger(minSealRaw, field('minSealMm'), 5, 100, errors);

  const optionalInt = (key: 'hsmTimeoutSeconds' | 'rateLimitPerSecond' | 'rateLimitBurst' | 'requestTimeoutSeconds' | 'auditHeadIntervalMinutes' | 'sessionIdleMinutes' | 'sessionMaxHours' | 'loginsPerMinute'
    | 'verifyRatePerSecond' | 'verifyRateBurst' | 'maxPages' | 'maxStraddlePages' | 'maxObjects' | 'headersTimeoutSeconds' | 'uploadTimeoutSeconds' | 'keepAliveTimeoutSeconds' | 'connectionsPerAddress'
    | 'archiveHorizonDays' | 'archiveRetentionYears', max: number): number | undefined => {
    const raw = get(key);
    return raw === undefined ? DEFAULTS[key] : parseInteger(raw, field(key), 1, max, errors);
  };
  const hsmTimeoutSeconds = optionalInt('hsmTimeoutSeconds', 600);
  const ratePerSecond = optionalInt('rateLimitPerSecond', 100_000);
  const rateBurst = optionalInt('rateLimitBurst', 100_000);
  const requestTimeoutSeconds = optionalInt('requestTimeoutSeconds', 3600);
  const auditHeadIntervalMinutes = optionalInt('auditHeadIntervalMinutes', 24 * 60);
  const sessionIdleMinutes = optionalInt('sessionIdleMinutes', 24 * 60);
  const sessionMaxHours = optionalInt('sessionMaxHours', 7 * 24);
  const loginsPerMinute = optionalInt('loginsPerMinute', 1_000_000);
  const archiveHorizonDays = optionalInt('archiveHorizonDays', 10 * 366);
  const archiveRetentionYears = optionalInt('archiveRetentionYears', 1000);
  const weakDigests = (get('archiveWeakDigests') ?? '').split(',').map((d) => d.trim().toUpperCase()).filter((d) => d !== '');
  for (const d of weakDigests) {
    if (!DIGEST_NAMES.includes(d)) errors.push({ field: field('archiveWeakDigests'), message: `"${d}" is not one of ${DIGEST_NAMES.join(', ')}` });
  }
  const verifyRatePerSecond = optionalInt('verifyRatePerSecond', 100_000);
  const verifyRateBurst = optionalInt('verifyRateBurst', 100_000);
  const workersRaw = get('workers');
  // A worker signs its stamp on a signing lane itself, busy rather than idle while the HSM works: one per
  // core keeps the cores busy, and one more covers a worker waiting for its output's sync or held by a
  // heavy document. Each worker beyond that is one more isolate with its own garbage collection and
  // compilation: on 2 cores, two warm servers side by side answered 7–8% more POST /v1/stamps with 4
  // workers than with 6 (cores + HSM sessions, the default from before the lanes), and 4% more again with
  // 3 at c=32 (5 of 6 pairs; the same at c=8, and for licences); with 2, 3% fewer.
  const workers = workersRaw === undefined ? availableParallelism() + 1 : parseInteger(workersRaw, field('workers'), 0, 256, errors);
  const inDatabaseRaw = get('outputsInDatabaseMaxKb');
  const outputsInDatabaseMaxKb = inDatabaseRaw === undefined ? DEFAULTS.outputsInDatabaseMaxKb : parseInteger(inDatabaseRaw, field('outputsInDatabaseMaxKb'), 0, 16 * 1024, errors);
  const niceRaw = get('workerNice');
  const workerNice = niceRaw === undefined ? 10 : parseInteger(niceRaw, field('workerNice'), 0, 19, errors);
  const probeRaw = get('healthProbeIntervalMs');
  const healthProbeIntervalMs = probeRaw === undefined ? 1000 : parseInteger(probeRaw, field('healthProbeIntervalMs'), 0, 60_000, errors);
  const maxPages = optionalInt('maxPages', 10_000_000);
  const maxStraddlePages = optionalInt('maxStraddlePages', 10_000_000);
  const maxObjects = optionalInt('maxObjects', 5_000_000);
  const headersTimeoutSeconds = optionalInt('headersTimeoutSeconds', 3600);
  const uploadTimeoutSeconds = optionalInt('uploadTimeoutSeconds', 3600);
  const keepAliveTimeoutSeconds = optionalInt('keepAliveTimeoutSeconds', 3600);
  const connectionsPerAddress = optionalInt('connectionsPerAddress', 100_000);
  if (headersTimeoutSeconds !== undefined && uploadTimeoutSeconds !== undefined && headersTimeoutSeconds > uploadTimeoutSeconds) {
    errors.push({ field: field('headersTimeoutSeconds'), message: `the headers time-out (${headersTimeoutSeconds} s) cannot be longer than the whole request's (${uploadTimeoutSeconds} s)` });
  }
  if (sessionIdleMinutes !== undefined && sessionMaxHours !== undefined && sessionIdleMinutes > sessionMaxHours * 60) {
    errors.push({ field: field('sessionIdleMinutes'), message: `the idle time-out (${sessionIdleMinutes} min) cannot be longer than the session lifetime (${sessionMaxHours} h)` });
  }
  const requireTotpRaw = get('requireTotp');
  let requireTotp = production;
  if (requireTotpRaw !== undefined) {
    if (!/^(true|false|1|0)$/.test(requireTotpRaw)) errors.push({ field: field('requireTotp'), message: `must be true or false, got "${requireTotpRaw}"` });
    else requireTotp = requireTotpRaw === 'true' || requireTotpRaw === '1';
    if (production && !requireTotp) errors.push({ field: field('requireTotp'), message: 'production always requires a TOTP code at login; it cannot be switched off' });
  }
  const breakGlass = env.ONESEAL_BREAK_GLASS;
  if (breakGlass !== undefined && breakGlass !== '' && breakGlass !== '1' && breakGlass !== '0') {
    errors.push({ field: 'ONESEAL_BREAK_GLASS', message: `must be 1 (allow --break-glass in production) or 0, got "${breakGlass}"` });
  }

  const logLevel = (get('logLevel') ?? DEFAULTS.logLevel) as LogLevel;
  if (!LOG_LEVELS.includes(logLevel)) {
    errors.push({ field: field('logLevel'), message: `must be one of ${LOG_LEVELS.join(', ')}, got "${logLevel}"` });
  }

  const orgName = (get('orgName') ?? DEFAULTS.orgName).trim();
  if (!orgName || orgName.length > 64) errors.push({ field: field('orgName'), message: 'must be 1 to 64 characters' });
  const orgCreditCode = (get('orgCreditCode') ?? DEFAULTS.orgCreditCode).trim().toUpperCase();
  const creditCodeProblem = creditCodeError(orgCreditCode);
  if (creditCodeProblem) {
    errors.push({ field: field('orgCreditCode'), message: `"${orgCreditCode}" is not a unified social credit code: ${creditCodeProblem}` });
  }
  const sealName = (get('sealName') ?? DEFAULTS.sealName).trim();
  if (!sealName || sealName.length > 32) errors.push({ field: field('sealName'), message: 'must be 1 to 32 characters' });

  if (errors.length > 0 || port === undefined || publicUrl === undefined || database === undefined || pin === undefined
    || poolSize === undefined || hsmTimeoutSeconds === undefined || maxUploadMb === undefined || minSealMm === undefined || ratePerSecond === undefined || rateBurst === undefined
    || requestTimeoutSeconds === undefined || auditHeadIntervalMinutes === undefined || sessionIdleMinutes === undefined || sessionMaxHours === undefined || loginsPerMinute === undefined
    || archiveHorizonDays === undefined || archiveRetentionYears === undefined
    || workers === undefined || workerNice === undefined || outputsInDatabaseMaxKb === undefined || healthProbeIntervalMs === undefined || verifyRatePerSecond === undefined || verifyRateBurst === undefined || maxPages === undefined || maxStraddlePages === undefined || maxObjects === undefined || headersTimeoutSeconds === undefined
    || uploadTimeoutSeconds === undefined || keepAliveTimeoutSeconds === undefined || connectionsPerAddress === undefined) {
    throw invalidConfig(errors);
  }

  const hsmDir = path.join(dataDir, 'hsm');
  const config: Config = {
    nodeEnv,
    production,
    host,
    port,
    publicUrl,
    publicUrlConfigured: publicUrlRaw !== undefined,
    packageRoot,
    dataDir,
    database,
    hsm: {
      modulePath,
      tokenLabel,
      pin: new Secret(pin),
      devPin: pin === DEV_PIN,
      poolSize,
      timeoutMs: hsmTimeoutSeconds * 1000,
      softhsmConfPath: path.join(hsmDir, 'softhsm2.conf'),
      softhsmTokensDir: path.join(hsmDir, 'tokens'),
      manageSofthsmConf: isSoftHsm(modulePath) && !env.SOFTHSM2_CONF,
    },
    maxUploadBytes: maxUploadMb * 1024 * 1024,
    outputsInDatabaseMaxBytes: outputsInDatabaseMaxKb * 1024,
    minSealMm,
    rateLimit: { perSecond: ratePerSecond, burst: rateBurst },
    requestTimeoutMs: requestTimeoutSeconds * 1000,
    workers,
    workerNice,
    healthProbeIntervalMs,
    publicRateLimit: { perSecond: verifyRatePerSecond, burst: verifyRateBurst },
    documentLimits: { maxPages, maxStraddlePages, maxObjects },
    http: {
      headersTimeoutMs: headersTimeoutSeconds * 1000,
      uploadTimeoutMs: uploadTimeoutSeconds * 1000,
      keepAliveTimeoutMs: keepAliveTimeoutSeconds * 1000,
      connectionsPerAddress,
    },
    auditHeadIntervalMs: auditHeadIntervalMinutes * 60 * 1000,
    logLevel,
    sessions: { idleMs: sessionIdleMinutes * 60 * 1000, maxMs: sessionMaxHours * 3600 * 1000, requireTotp, loginsPerMinute },
    cliSessionFile: get('sessionFile') ?? defaultSessionFile(env, database),
    breakGlassAllowed: breakGlass === '1',
    seal: { orgName, orgCreditCode, sealName },
    archive: { horizonDays: archiveHorizonDays, weakDigests, retentionYears: archiveRetentionYears },
    devRootCertPath: path.join(packageRoot, 'keys-dev', 'root-ca.crt.pem'),
    ...(configFile ? { configFile } : {}),
  };
  if (production) {
    const problems = productionProblems(config, { usingDevRoot: false });
    if (problems.length) throw invalidConfig(problems);
  }
  return config;
}

/** ~/.config/oneseal/session-<database>.json (XDG_CONFIG_HOME honoured), named after the database it belongs to. */
function defaultSessionFile(env: NodeJS.ProcessEnv, database: DatabaseConfig): string {
  const configHome = env.XDG_CONFIG_HOME || path.join(env.HOME || homedir(), '.config');
  const where = database.client === 'sqlite3' ? database.filename : `${database.url.reveal()}#${database.schema ?? ''}`;
  return path.join(configHome, 'oneseal', `session-${createHash('sha256').update(where).digest('hex').slice(0, 16)}.json`);
}

function invalidConfig(errors: FieldError[]): OneSealError {
  const lines = errors.map((e) => `  ${e.field}: ${e.message}`).join('\n');
  return new OneSealError('invalid-config', 'bad-request', `invalid configuration:\n${lines}`, { fields: errors });
}

function productionProblems(config: Config, { usingDevRoot }: { usingDevRoot: boolean }): FieldError[] {
  const problems: FieldError[] = [];
  if (config.hsm.devPin) {
    problems.push({
      field: 'ONESEAL_PIN',
      message: 'production refuses the public development PIN; set ONESEAL_PIN or ONESEAL_PIN_FILE to the token\'s own PIN',
    });
  }
  if (isLoopbackUrl(config.publicUrl)) {
    problems.push({
      field: 'ONESEAL_PUBLIC_URL',
      message: `production needs the address relying parties reach (it goes into certificates and QR codes), not ${config.publicUrl}`,
    });
  }
  if (usingDevRoot) {
    problems.push({
      field: 'ONESEAL_TOKEN_LABEL',
      message: `the token holds the development root (${config.devRootCertPath}), whose private key is in the repository; `
        + 'production needs a token with its own root key',
    });
  }
  return problems;
}

/**
 * Refuses to run production on development material. Called at startup once the HSM has told us
 * whether the token's root is the repository's development root.
 */
export function assertProductionSafe(config: Config, facts: { usingDevRoot: boolean }): void {
  if (!config.production) return;
  const problems = productionProblems(config, facts);
  if (problems.length) {
    const err = invalidConfig(problems);
    throw new OneSealError('unsafe-production-config', 'bad-request', err.message.replace('invalid configuration', 'refusing to start in production'), {
      fields: problems,
    });
  }
}
