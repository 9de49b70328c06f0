/** The ping URLs of a monitor, from its success URL (`{base}/ping/{key}`). */
export function pingUrls(url: string) {
  return { success: url, start: `${url}/start`, fail: `${url}/fail`, exitCode: `${url}/{exit_code}` };
}

/** A shell word: as is when it is plain, else in single quotes. */
export function shellQuote(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** The crontab line's time fields: the monitor's cron, or the nearest cron of its period. */
export function crontabTiming(m: { cron: string | null; period_seconds: number | null }): string {
  if (m.cron) return m.cron;
  const s = m.period_seconds ?? 3600;
  if (s % 86_400 === 0) return s === 86_400 ? '0 0 * * *' : `0 0 */${s / 86_400} * *`;
  if (s % 3600 === 0) return s === 3600 ? '0 * * * *' : `0 */${s / 3600} * * *`;
  if (s % 60 === 0) return s === 60 ? '* * * * *' : `*/${s / 60} * * * *`;
  return '* * * * *';
}

/**
 * Snippets to copy: curl for a success, a failure and an exit code; a crontab line that reports start, success or
 * failure with the command's output as the log (a POST body, capped by the server); and the kairos CLI's wrapper.
 */
export function snippets(m: { name: string; cron: string | null; period_seconds: number | null; ping_url: string | null }, command = '/usr/local/bin/backup.sh') {
  if (!m.ping_url) return null;
  const u = pingUrls(m.ping_url);
  const q = shellQuote;
  return {
    curl: [
      `# success`,
      `curl -fsS -m 10 --retry 5 ${q(u.success)}`,
      `# a run in two parts: start, then success or failure`,
      `curl -fsS -m 10 --retry 5 ${q(u.start)}`,
      `curl -fsS -m 10 --retry 5 ${q(u.fail)}`,
      `# the exit code of the last command (0 is a success)`,
      `curl -fsS -m 10 --retry 5 ${q(`${m.ping_url}/`)}$?`,
    ].join('\n'),
    // bash for PIPESTATUS (the command's exit code, not curl's); the output goes along as the run's log.
    crontab: [
      'SHELL=/bin/bash',
      `${crontabTiming(m)} curl -fsS -m 10 --retry 5 -o /dev/null ${q(u.start)}; ` +
        `${command} 2>&1 | curl -fsS -m 10 --retry 5 -o /dev/null --data-binary @- ${q(`${m.ping_url}/`)}` + '${PIPESTATUS[0]}',
    ].join('\n'),
    cli: `kairos exec --monitor ${q(m.name)} -- ${command}`,
  };
}

/**
 * The slug form of the ping URLs (healthchecks.io's): `{base}/ping/{organization ping key}/{slug}`, for each monitor
 * by its slug, with one key for all; `{slug}` stands in when no slug is given.
 */
export function slugPingUrls(prefix: string, slug = '{slug}') {
  const base = `${prefix.replace(/\/+$/, '')}/${slug === '{slug}' ? slug : encodeURIComponent(slug)}`;
  return { ...pingUrls(base), curl: `curl -fsS -m 10 --retry 5 ${shellQuote(base)}` };
}
