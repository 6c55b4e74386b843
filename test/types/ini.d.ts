// The ini package ships no types (and @types/ini is not among our dependencies): the part we use.
declare module "ini" {
  export function parse(text: string): Record<string, unknown>;
  export function stringify(value: object, options?: { section?: string; whitespace?: boolean }): string;
  const ini: { parse: typeof parse; stringify: typeof stringify };
  export default ini;
}
