// One reproducible build: frontend/src -> bidding/static/bundle/ (served at /static/bundle/ by the
// bidding package's STATIC_DIR).  Run by scripts/bootstrap.sh (`npm run build`); an argument
// builds into another folder instead (the test that the build is reproducible).
import * as esbuild from "esbuild";
import { fileURLToPath } from "node:url";

const here = fileURLToPath(new URL(".", import.meta.url));

await esbuild.build({
  absWorkingDir: here,
  entryPoints: { envelope: "src/envelope.js", keystore: "src/keystore.js" },
  splitting: true,
  chunkNames: "chunk-[hash]",
  outdir: process.argv[2] ?? "../bidding/static/bundle",
  bundle: true,
  format: "esm",
  target: "es2022",
  minify: true,
  legalComments: "eof",
  charset: "utf8",
  logLevel: "warning",
});
