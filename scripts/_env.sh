# Shared set-up for the quick-start scripts: a virtual environment in .venv with seisproc
# installed in editable mode and the extras named in $1 (comma-separated, may be empty).
# Works on a fresh Debian machine as root: installs python3-venv if venv is missing.

seisproc_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${SEISPROC_VENV:-$seisproc_root/.venv}"

_pick_python() {
    for candidate in python3.11 python3; do
        if command -v "$candidate" >/dev/null 2>&1 &&
            "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
            echo "$candidate"
            return 0
        fi
    done
    echo "seisproc needs Python >= 3.11; none found on PATH" >&2
    return 1
}

_apt_install() {
    if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
        echo "please install these system packages: $*" >&2
        return 1
    fi
    if [ -z "${_seisproc_apt_updated:-}" ]; then
        apt-get update -qq >/dev/null
        _seisproc_apt_updated=1
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

ensure_venv() {
    local extras="${1:-}" python
    python="$(_pick_python)"
    if [ ! -x "$VENV/bin/python" ]; then
        if ! "$python" -m venv "$VENV" 2>/dev/null; then
            rm -rf "$VENV"
            _apt_install python3-venv
            "$python" -m venv "$VENV"
        fi
    fi
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check --upgrade pip
    local spec="$seisproc_root"
    [ -n "$extras" ] && spec="$seisproc_root[$extras]"
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check -e "$spec"
}

# System libraries Qt needs on a fresh Debian machine: the first line is enough for the
# offscreen platform the widget tests use; the xcb set and Xvfb give a real X window
# (screenshots, `seisproc gui` on a headless box).
QT_SYSTEM_PACKAGES=(
    libegl1 libgl1 libfontconfig1 libglib2.0-0 libxkbcommon0 libdbus-1-3 fonts-dejavu-core
    libxkbcommon-x11-0 libxcb-cursor0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1
    libxcb-randr0 libxcb-render-util0 libxcb-shape0 libxcb-xinerama0 libxcb-xkb1
    libxcb-xfixes0 xvfb xauth
)

ensure_qt_libs() {
    command -v dpkg >/dev/null 2>&1 || return 0
    local missing=() package
    for package in "${QT_SYSTEM_PACKAGES[@]}"; do
        dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
    done
    [ "${#missing[@]}" -eq 0 ] || _apt_install "${missing[@]}"
}
