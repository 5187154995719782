# Sourced by scripts/start.sh and scripts/test.sh: installs what TenderHall needs on a bare
# Debian/Ubuntu machine that has Python 3.11+, then syncs the locked virtual environment.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# System libraries: Pango for WeasyPrint (PDF archives), CJK fonts to embed Chinese text, libpq for
# psycopg (the job queue, procrastinate).
need=()
pkgs=(libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-noto-cjk libpq5)
# Chromium for the browser tests (Playwright drives it: pages under their Content-Security-Policy);
# only the test commands ask for it (scripts/test.sh, and so .ci/run).
if [ "${TENDERHALL_BOOTSTRAP_TESTS:-0}" = 1 ]; then
  pkgs+=(chromium)
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
