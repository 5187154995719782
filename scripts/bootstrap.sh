# Sourced by scripts/start.sh and scripts/test.sh: installs what TenderHall needs on a bare
# Debian/Ubuntu machine that has Python 3.11+, then syncs the locked virtual environment.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# System libraries: Pango for WeasyPrint (PDF archives), CJK fonts to embed Chinese text, libpq for
# psycopg (the job queue, procrastinate).
need=()
pkgs=(libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-noto-cjk libpq5)
# npm (with Node.js) builds the browser bundle below; a machine that already has npm (e.g. from
# NodeSource) keeps it.
command -v npm >/dev/null 2>&1 || pkgs+=(npm)
# Chromium for the browser tests (Playwright drives it: pages under their Content-Security-Policy)
# and poppler's tools for the archive tests (pdffonts, pdfdetach, pdftotext read the PDFs back);
# only the test commands ask for them (scripts/test.sh, and so .ci/run).
if [ "${TENDERHALL_BOOTSTRAP_TESTS:-0}" = 1 ]; then
  pkgs+=(chromium poppler-utils)
fi
for pkg in "${pkgs[@]}"; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ]; then
    echo "installing system packages: ${need[*]}"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  elif command -v sudo >/dev/null 2>&1; then
    sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  else
    echo "please install these Debian packages first: ${need[*]}" >&2
    exit 1
  fi
fi

# uv runs the locked environment (uv.lock); install it with pip if it is missing.
if ! command -v uv >/dev/null 2>&1; then
  python3 -m pip install --quiet --disable-pip-version-check "uv==0.13.8" || \
    python3 -m pip install --quiet --user --disable-pip-version-check "uv==0.13.8"
  export PATH="$HOME/.local/bin:$PATH"
fi
uv sync --frozen --quiet

# The browser bundle (frontend/ -> bidding/static/bundle/, served at /static/bundle/): installed
# from the lock file only when it changed, then built (esbuild, well under a second).
frontend_stamp=frontend/node_modules/.tenderhall-lock.sha256
frontend_lock=$(sha256sum frontend/package-lock.json | cut -d' ' -f1)
if [ "$(cat "$frontend_stamp" 2>/dev/null)" != "$frontend_lock" ]; then
  (cd frontend && npm ci --no-audit --no-fund --loglevel=error)
  echo "$frontend_lock" >"$frontend_stamp"
fi
(cd frontend && npm run --silent build)
