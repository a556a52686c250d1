/**
 * A plain SVG bar chart of the benchmark medians: one group per figure, one bar per contestant,
 * bar length relative to the largest value of that figure, the value written beside it.
 */

/** What the chart needs of each figure (a subset of what run.ts writes to JSON). */
export interface ChartFigure {
  label: string;
  unit: string;
  higherIsBetter: boolean;
  medians: Record<string, number | undefined>;
}

const COLORS: Record<string, string> = { tcp: '#9e9e9e', udp: '#9e9e9e', tls: '#1f77b4', 'hipl-udp': '#ff7f0e', 'hipl-tcp': '#2ca02c' };
const ORDER = ['tcp', 'udp', 'tls', 'hipl-udp', 'hipl-tcp'];

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Render the figures as one SVG document. */
export function svgChart(figures: Record<string, ChartFigure>, title: string): string {
  const width = 900;
  const labelW = 110;
  const barMax = width - labelW - 120;
  const barH = 14;
  const parts: string[] = [];
  let y = 40;
  parts.push(`<text x="10" y="24" font-size="16" font-weight="bold">${esc(title)}</text>`);
  for (const f of Object.values(figures)) {
    const impls = ORDER.filter((k) => f.medians[k] !== undefined && Number.isFinite(f.medians[k]!));
    if (impls.length === 0) continue;
    const max = Math.max(...impls.map((k) => Math.abs(f.medians[k]!)), 1e-9);
    parts.push(`<text x="10" y="${y + 12}" font-size="13" font-weight="bold">${esc(f.label)} (${f.higherIsBetter ? 'higher' : 'lower'} is better)</text>`);
    y += 20;
    for (const k of impls) {
      const v = f.medians[k]!;
      const w = Math.max(1, (Math.abs(v) / max) * barMax);
      parts.push(`<text x="${labelW - 6}" y="${y + 11}" font-size="12" text-anchor="end">${k}</text>`);
      parts.push(`<rect x="${labelW}" y="${y}" width="${w.toFixed(1)}" height="${barH}" fill="${COLORS[k] ?? '#666'}"/>`);
      parts.push(`<text x="${(labelW + w + 6).toFixed(1)}" y="${y + 11}" font-size="12">${v >= 100 ? Math.round(v) : v.toFixed(2)} ${esc(f.unit)}</text>`);
      y += barH + 4;
    }
    y += 12;
  }
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${y + 10}" font-family="sans-serif">\n<rect width="100%" height="100%" fill="white"/>\n${parts.join('\n')}\n</svg>\n`;
}
