/**
 * The core's narrow logging port. Every event callvault logs is named here with the fields it
 * carries and a sentence for people: the deployed logger (Powertools) writes the fields as JSON,
 * the CLI prints the sentence, and neither has to guess what a field means.
 * Callers pass values that are already safe to print: the provider transport redacts credentials
 * before anything gets here.
 */
export type LogFields = Record<string, unknown>;

/** Event → its fields. Type aliases (not interfaces), so each is also a LogFields. */
export type LogEvents = {
  'provider request failed': {
    account: string;
    provider: string;
    request: string;
    reason: string;
    attempt: number;
    retriesLeft: number;
  };
  'voipbin recording has an unknown status; treating it as pending': {
    account: string;
    provider: string;
    status: unknown;
  };
  'voipbin next_page_token did not move; stopping the listing': {
    account: string;
    provider: string;
    pageToken: string;
  };
  'unknown Bandwidth recording status, treated as pending': {
    account: string;
    provider: string;
    recordingId: string;
    status: unknown;
  };
  'bandwidth listing item without a recordingId skipped': {
    account: string;
    provider: string;
    page: string;
    item: number;
    callId?: string;
    conferenceId?: string;
    startTime?: string;
  };
  'bandwidth conference without a usable id skipped': {
    account: string;
    provider: string;
    page: string;
    item: number;
    name?: string;
    createdTime?: string;
  };
  'bandwidth conference gone before its recordings were listed': {
    account: string;
    provider: string;
    conferenceId: string;
  };
  'voipbin listing item without an id skipped': {
    account: string;
    provider: string;
    page: string;
    item: number;
    referenceId?: string;
    tmCreate?: string;
  };
  'infobip listing file without a url skipped': {
    account: string;
    provider: string;
    page: string;
    item: number;
    messageId?: string;
    recordedAt?: string;
  };
  'restcomm listing recording without a sid skipped': {
    account: string;
    provider: string;
    page: string;
    item: number;
    callSid?: string;
    dateCreated?: string;
  };
  'dialogtech recording without a readable date': { account: string; sid: string; date?: string };
  'dialogtech listing position names no configured list': { account: string; position: string };
  'dialogtech list entry without a sid skipped': {
    account: string;
    provider: string;
    list: string;
    item: number;
    date?: string;
  };
  'sweep done': {
    accountId: string;
    listed: number;
    started: number;
    alreadyDone: number;
    alreadyRunning: number;
    cursor?: string;
  };
  'sweep failed': { account: string; error: string; reason: string };
  webhook: {
    account: string;
    status: number;
    /** The answer's message (`message` is the log item's own key). */
    answer: string;
    started?: number;
    duplicates?: number;
    recordings?: string[];
  };
  'recording indexed': { id: string; account: string; status: string; reason?: string };
  'recording outcome not indexed': { id: string; account: string; status: string };
  'request failed': { route?: string; error: string; reason: string };
  'scheduled sweep': { account: string; listed: number; started: number };
  'scheduled sweep failed': { account: string; reason: string };
  'stopping with executions still running; they resume on the next start': { unfinished: number };
  'workflow task failed': { state: string; error: string; reason: string };
  'resumed executions a previous run left unfinished': { count: number };
  'invocation failed': { handler: string; error: string; reason: string };
  'rebuilding the local index for the current GSIs': { table: string };
  'rebuilt the local index': { table: string; items: number };
  'execution history unreadable; the entry keeps what the input knew': { execution: string; error: string };
  'execution ended without an outcome; recorded as failed': {
    execution: string;
    status: string;
    id: string;
    account: string;
  };
  'retry of failed recordings done': {
    failed: number;
    started: number;
    running: number;
    notDue: number;
    atRetryLimit: number;
    errors: number;
  };
  'failed recordings reached the retry limit': { exhausted: number; ids: string[] };
  'a failed recording could not be handed over': { id: string; reason: string };
  'scheduled retry failed': { reason: string };
  'infobip listing is not newest first: reading every page': { account: string };
  'not deleted at source': { account: string; id: string; reason?: string };
  'manifest written': { key: string; recordings: number; sha256: string; previousManifest: string | null };
  'reconcile failed': { account: string; error: string; reason: string };
  'reconcile done': { key: string; accounts: number; gaps: number };
  'previous reconcile report unreadable': { now: string; error: string };
};

export type LogEvent = keyof LogEvents;

export interface Logger {
  info<E extends LogEvent>(event: E, fields: LogEvents[E]): void;
  warn<E extends LogEvent>(event: E, fields: LogEvents[E]): void;
  error<E extends LogEvent>(event: E, fields: LogEvents[E]): void;
}

/** One sentence per event, for terminals. A new event without a sentence does not compile. */
const sentences: { [E in LogEvent]: (fields: LogEvents[E]) => string } = {
  'provider request failed': (f) =>
    `${f.account}: ${f.request} failed (${f.reason}), attempt ${f.attempt}; ${f.retriesLeft > 0 ? 'retrying' : 'giving up'}`,
  'voipbin recording has an unknown status; treating it as pending': (f) =>
    `${f.account}: VoIPBin recording status ${JSON.stringify(f.status)} is unknown; treated as pending`,
  'voipbin next_page_token did not move; stopping the listing': (f) =>
    `${f.account}: VoIPBin returned the same page token twice; the listing stops there`,
  'unknown Bandwidth recording status, treated as pending': (f) =>
    `${f.account}: Bandwidth recording ${f.recordingId} has unknown status ${JSON.stringify(f.status)}; treated as pending`,
  'bandwidth listing item without a recordingId skipped': (f) =>
    `${f.account}: Bandwidth listing item ${f.item} of ${f.page} has no recordingId; skipped`,
  'bandwidth conference without a usable id skipped': (f) =>
    `${f.account}: Bandwidth conference ${f.item} of ${f.page} has no usable id; its recordings cannot be listed`,
  'bandwidth conference gone before its recordings were listed': (f) =>
    `${f.account}: Bandwidth conference ${f.conferenceId} was listed but answered 404 for its recordings; skipped`,
  'voipbin listing item without an id skipped': (f) =>
    `${f.account}: VoIPBin listing item ${f.item} of ${f.page} has no id; skipped`,
  'infobip listing file without a url skipped': (f) =>
    `${f.account}: Infobip listing file ${f.item} of ${f.page} has no url naming the file; skipped`,
  'restcomm listing recording without a sid skipped': (f) =>
    `${f.account}: Restcomm listing recording ${f.item} of ${f.page} has no sid; skipped`,
  'dialogtech recording without a readable date': (f) =>
    `${f.account}: DialogTech recording ${f.sid} has no readable date (${f.date ?? 'none'})`,
  'dialogtech listing position names no configured list': (f) =>
    `${f.account}: DialogTech listing position ${f.position} names none of the configured lists (they changed); listing from the first`,
  'dialogtech list entry without a sid skipped': (f) =>
    `${f.account}: DialogTech list ${f.list} has an entry (${f.item}) without a sid; skipped`,
  'sweep done': (f) =>
    `${f.accountId}: swept, ${f.listed} listed, ${f.started} started, ${f.alreadyDone} already done, ${f.alreadyRunning} running`,
  'sweep failed': (f) => `${f.account}: sweep failed: ${f.error}: ${f.reason}`,
  'infobip listing is not newest first: reading every page': (f) =>
    `${f.account}: Infobip listed files out of newest-first order; every page is read`,
  'not deleted at source': (f) => `${f.account}: ${f.id} not deleted at source: ${f.reason ?? 'unverified'}`,
  'manifest written': (f) =>
    `manifest ${f.key} written: ${f.recordings} recordings, sha256 ${f.sha256} (after ${f.previousManifest ?? 'none'})`,
  'reconcile failed': (f) => `${f.account}: reconcile failed: ${f.error}: ${f.reason}`,
  'reconcile done': (f) => `reconcile report ${f.key}: ${f.accounts} accounts, ${f.gaps} gaps`,
  'previous reconcile report unreadable': (f) =>
    `the reconcile report of the day before ${f.now} could not be read (${f.error}): every gap counts as new`,
  webhook: (f) => `webhook for ${f.account}: ${f.status} ${f.answer}`,
  'recording indexed': (f) =>
    `${f.account}: recording ${f.id} ${f.status}${f.reason ? ` (${f.reason})` : ''}`,
  'recording outcome not indexed': (f) =>
    `${f.account}: recording ${f.id} not indexed as ${f.status}: the entry already holds a final or later outcome`,
  'request failed': (f) => `${f.route ?? 'request'} failed: ${f.error}: ${f.reason}`,
  'scheduled sweep': (f) => `${f.account}: scheduled sweep listed ${f.listed}, started ${f.started}`,
  'scheduled sweep failed': (f) => `${f.account}: scheduled sweep failed: ${f.reason}`,
  'stopping with executions still running; they resume on the next start': (f) =>
    `stopping with ${f.unfinished} executions still running; they resume on the next start`,
  'workflow task failed': (f) => `workflow step ${f.state} failed: ${f.error}: ${f.reason}`,
  'resumed executions a previous run left unfinished': (f) =>
    `resumed ${f.count} executions a previous run left unfinished`,
  'invocation failed': (f) => `${f.handler} failed: ${f.error}: ${f.reason}`,
  'rebuilding the local index for the current GSIs': (f) =>
    `rebuilding the local index ${f.table} for the current GSIs`,
  'rebuilt the local index': (f) => `rebuilt the local index ${f.table} (${f.items} items)`,
  'execution history unreadable; the entry keeps what the input knew': (f) =>
    `the history of execution ${f.execution} could not be read (${f.error}); its entry keeps what the input knew`,
  'execution ended without an outcome; recorded as failed': (f) =>
    `${f.account}: execution ${f.execution} ended ${f.status} without an outcome; ${f.id} recorded as failed`,
  'retry of failed recordings done': (f) =>
    `retry of failed recordings: ${f.failed} failed, ${f.started} started, ${f.running} running, ${f.notDue} not due, ${f.atRetryLimit} at the retry limit, ${f.errors} errors`,
  'failed recordings reached the retry limit': (f) =>
    `${f.exhausted} failed recordings reached the retry limit: ${f.ids.join(', ')}`,
  'a failed recording could not be handed over': (f) =>
    `failed recording ${f.id} could not be handed over: ${f.reason}`,
  'scheduled retry failed': (f) => `scheduled retry failed: ${f.reason}`,
};

export function describeLogEvent<E extends LogEvent>(event: E, fields: LogEvents[E]): string {
  return (sentences[event] as (fields: LogEvents[E]) => string)(fields);
}

function write(level: string, message: string, fields: LogFields): void {
  if (process.env.CALLVAULT_LOG === 'silent') return;
  process.stderr.write(`${JSON.stringify({ level, time: new Date().toISOString(), message, ...fields })}\n`);
}

/** One JSON line per event on stderr: the local stack's default. */
export const jsonLogger: Logger = {
  info: (event, fields) => write('info', event, fields),
  warn: (event, fields) => write('warn', event, fields),
  error: (event, fields) => write('error', event, fields),
};

export const silentLogger: Logger = { info() {}, warn() {}, error() {} };
