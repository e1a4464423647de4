#!/usr/bin/env bash
# Set up ScanStation on Debian 12 / Ubuntu / UOS / Kylin and start it or test it.
#   bash setup.sh start   # install what is missing, then start the station
#   bash setup.sh test    # install what is missing, then run the whole test suite
#   bash setup.sh lint    # ruff (lint and format check) and mypy, as CI runs them
# Safe to run again: it installs only what is missing and reuses .venv.
set -euo pipefail
cd "$(dirname "$0")"
action="${1:-start}"; shift || true

RAPIDOCR="rapidocr-onnxruntime==1.4.4"   # PP-OCRv4 models ship inside this wheel (about 15 MB)
APT_PACKAGES=(
  python3 python3-venv python3-dev gcc binutils
  sane-utils libsane1 libsane-dev
  tesseract-ocr tesseract-ocr-chi-sim tesseract-ocr-osd tesseract-ocr-eng
  fonts-noto-cjk fonts-wqy-zenhei fonts-arphic-ukai fonts-arphic-uming poppler-utils openssl sqlite3
  postgresql
  xvfb xauth xdotool x11-apps chromium chromium-driver
  libegl1 libgl1 libxkbcommon0 libfontconfig1 libglib2.0-0 libdbus-1-3 libxkbcommon-x11-0 libxcb-cursor0
  libxcb-icccm4 libxcb-image0 libxcb-keysyms1 libxcb-randr0 libxcb-render-util0 libxcb-shape0 libxcb-xfixes0
  libxcb-xkb1 libxcb-sync1 libxcb-shm0 libxcb-xinerama0 libx11-xcb1 libxcb-glx0
)

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "Installing system packages: ${missing[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  # PostgreSQL: the archive room's optional catalog server. No cluster and no service on this machine:
  # tests, benchmarks and the demo start a private cluster in a temporary folder and stop it.
  if printf '%s\n' "${missing[@]}" | grep -qx postgresql; then
    $SUDO mkdir -p /etc/postgresql-common
    echo "create_main_cluster = false" | $SUDO tee /etc/postgresql-common/createcluster.conf >/dev/null
  fi
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

PY="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
stamp=.venv/.scanstation-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -e ".[test]"
  touch "$stamp"
fi
# PP-OCR engine: without its dependency opencv-python (which brings its own Qt libraries);
# opencv-python-headless and its other dependencies come from pyproject.toml above.
if ! .venv/bin/python -c "import rapidocr_onnxruntime" >/dev/null 2>&1; then
  .venv/bin/python -m pip install -q --no-deps "$RAPIDOCR"
fi
.venv/bin/python -m scanstation.ui.build_translations >/dev/null 2>&1 || true

case "$action" in
  start)
    exec .venv/bin/scanstation "$@" ;;
  lint)
    # style and static checks (what CI runs before the tests)
    .venv/bin/ruff check scanstation tests tools bench
    .venv/bin/ruff format --check scanstation tests tools bench
    .venv/bin/mypy --config-file pyproject.toml   # the typed core: [tool.mypy] files in pyproject.toml
    ;;
  test)
    export QT_QPA_PLATFORM=offscreen
    exec .venv/bin/python -m pytest "$@" ;;
  *)
    echo "usage: bash setup.sh start|test|lint" >&2; exit 2 ;;
esac
