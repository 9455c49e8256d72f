import type { BenchReport } from './types.js';

type Align = 'left' | 'right';

export function table(
  headers: readonly string[],
  rows: readonly (readonly string[])[],
  align: readonly Align[],
): string {
  const widths = headers.map((header, column) =>
    Math.max(header.length, ...rows.map((row) => (row[column] ?? '').length)),
  );
  const format = (cells: readonly string[]): string =>
    cells
      .map((cell, column) => {
        const width = widths[column] ?? 0;
        return align[column] === 'right' ? cell.padStart(width) : cell.padEnd(width);
      })
      .join('  ')
      .trimEnd();
  const rule = widths.map((width) => '-'.repeat(width)).join('  ');
  return [format(headers), rule, ...rows.map(format)].join('\n');
}

const fixed = (value: number | null | undefined, digits: number): string =>
  value === null || value === undefined ? '-' : value.toFixed(digits);

export function renderHuman(report: BenchReport): string {
  const out: string[] = [];
  const { machine, settings } = report;
  out.push(
    `machine: ${machine.cpus} × ${machine.cpuModel}, ${machine.totalMemMiB} MiB, node ${machine.node} ${machine.platform}/${machine.arch}`,
    `init: median of ${settings.runs} fresh processes (+${settings.warmup} warm-up), tracing ${settings.tracing ? 'on' : 'off'}`,
    '',
  );
  const rows: string[][] = [];
  const reference = report.reference;
  if (reference) {
    rows.push([
      'reference',
      fixed(reference.bytes / 1024, 1),
      fixed(reference.initMs, 1),
      fixed(reference.initP95Ms, 1),
      fixed(reference.rssMiB, 1),
      '1.0000',
      '1.000',
      reference.format,
    ]);
  }
  for (const bundle of report.bundles) {
    rows.push([
      `${bundle.name}${bundle.cdkInternal ? ' (cdk)' : ''}${bundle.error ? ' !' : ''}`,
      fixed(bundle.bytes / 1024, 1),
      fixed(bundle.initMs, 1),
      fixed(bundle.initP95Ms, 1),
      fixed(bundle.rssMiB, 1),
      fixed(bundle.ratioBytesVsReference, 4),
      fixed(bundle.ratioInitVsReference, 3),
      bundle.format,
    ]);
  }
  out.push('Bundles');
  if (rows.length === 0) {
    out.push('(none)');
  } else {
    out.push(
      table(['name', 'KiB', 'init ms', 'p95 ms', 'rss MiB', 'bytes×ref', 'init×ref', 'fmt'], rows, [
        'left',
        'right',
        'right',
        'right',
        'right',
        'right',
        'right',
        'left',
      ]),
    );
    if (report.bundles.length === 0) out.push('(no Lambda bundles in the cloud assembly)');
  }
  out.push('', 'Figures');
  const figures = Object.entries(report.figures);
  if (figures.length === 0) {
    out.push('(none)');
  } else {
    out.push(
      table(
        ['figure', 'value', 'unit', 'baseline'],
        figures.map(([name, figure]) => [
          name,
          String(figure.value),
          figure.unit,
          figure.baseline === undefined ? '' : String(figure.baseline),
        ]),
        ['left', 'right', 'left', 'right'],
      ),
    );
  }
  if (report.errors.length > 0) {
    out.push('', 'Errors');
    for (const error of report.errors) out.push(`- ${error.step}: ${error.message}`);
  }
  return `${out.join('\n')}\n`;
}
