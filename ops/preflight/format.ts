import { formatUsd, formatUsdPerHour } from '../../common/format';
import type { CheckState, PreflightReport, RunEstimate } from './report';

const MARK: Record<CheckState, string> = { pass: 'ok  ', warn: 'WARN', fail: 'FAIL', skip: '--  ' };

function indent(text: string, by: string): string {
  return text
    .split('\n')
    .map((l, i) => (i === 0 ? l : `${by}${l}`))
    .join('\n');
}

function formatEstimate(e: RunEstimate): string[] {
  const price =
    e.market === 'spot'
      ? e.spotUsdPerHour === null
        ? 'spot: no recent price found'
        : `spot ${formatUsdPerHour(e.spotUsdPerHour)} in ${e.spotZone}`
      : `on demand ${formatUsdPerHour(e.onDemandUsdPerHour)} (${e.onDemandPriceSource})`;
  const caps = [
    `on demand ${e.capOnDemandUsd === null ? '?' : formatUsd(e.capOnDemandUsd)}`,
    `spot ${e.capSpotUsd === null ? '?' : formatUsd(e.capSpotUsd)}`,
  ].join(', ');
  return [
    `Run estimate (${e.instanceType} ${e.market}, preset ${e.preset})`,
    `  hours:    at most ${e.maxHours} (maxHours: the instance powers off then)`,
    `            ${indent(e.expectedHoursNote, '            ')}`,
    `  price:    ${price}`,
    `  cost cap: ${e.capUsd === null ? '?' : formatUsd(e.capUsd)} for the instance (${e.maxHours} h; ${caps})`,
    `  budget:   ${e.budgetNote}`,
    `  engines:  ${e.engineComparison} (deploying engine=${e.engine})`,
  ];
}

export function formatPreflight(r: PreflightReport): string {
  const who = r.account ? `account ${r.account}, ${r.region}` : (r.region ?? 'no region');
  const width = Math.max(...r.checks.map((c) => c.title.length));
  const pad = ' '.repeat(4 + 2 + width + 2);
  const lines = [`facepoints preflight (${who})`, ''];
  for (const c of r.checks) {
    lines.push(`${MARK[c.state]}  ${c.title.padEnd(width)}  ${indent(c.detail, pad)}`);
    if (c.fix && c.state !== 'pass') lines.push(`${pad}fix: ${c.fix}`);
  }
  if (r.estimate) lines.push('', ...formatEstimate(r.estimate));
  const fails = r.checks.filter((c) => c.state === 'fail').length;
  const warns = r.checks.filter((c) => c.state === 'warn').length;
  lines.push(
    '',
    r.verdict === 'blocked'
      ? `${fails} check${fails === 1 ? '' : 's'} failed: cdk deploy would fail; fix them first (exit 1)`
      : r.verdict === 'warnings'
        ? `ready to deploy, with ${warns} warning${warns === 1 ? '' : 's'} (exit ${r.exitCode}${r.exitCode === 0 ? '; --strict makes it 2' : ''})`
        : 'ready to deploy (exit 0)',
  );
  return lines.join('\n');
}
