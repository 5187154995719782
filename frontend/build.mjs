// One reproducible build: frontend/src -> bidding/static/bundle/ (served at /static/bundle/ by the
// bidding package's STATIC_DIR).  Run by scripts/bootstrap.sh (`npm run build`).
import * as esbuild from "esbuild";

await esbuild.build({
  entryPoints: { envelope: "src/envelope.js" },
  outdir: "../bidding/static/bundle",
  bundle: true,
  format: "esm",
  target: "es2022",
  minify: true,
  legalComments: "eof",
  charset: "utf8",
  logLevel: "warning",
});
