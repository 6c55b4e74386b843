import pkg from "../package.json" with { type: "json" };

/** Baked into the compiled binary at build time (package.json is bundled). */
export const VERSION: string = pkg.version;
export const BANNER = `drcm ${VERSION} (DataReel Cluster Manager successor)`;
