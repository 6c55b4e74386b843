// Colour for terminal output. kleur only when stdout is a terminal and neither NO_COLOR nor
// --no-color says otherwise; renderers take a Paint so pipes and golden files stay plain text.

import kleur from "kleur";

export interface Paint {
  readonly good: (s: string) => string;
  readonly bad: (s: string) => string;
  readonly warn: (s: string) => string;
}

const same = (s: string): string => s;
export const PLAIN: Paint = { good: same, bad: same, warn: same };

export function wantColor(opts: { noColor: boolean; isTty: boolean; env: Record<string, string | undefined> }): boolean {
  if (opts.noColor || !opts.isTty) return false;
  // https://no-color.org: any non-empty value disables colour.
  if ((opts.env.NO_COLOR ?? "") !== "") return false;
  return opts.env.TERM !== "dumb";
}

export function makePaint(color: boolean): Paint {
  if (!color) return PLAIN;
  kleur.enabled = true;
  return {
    good: (s) => kleur.green(s),
    bad: (s) => kleur.red().bold(s),
    warn: (s) => kleur.yellow(s),
  };
}
