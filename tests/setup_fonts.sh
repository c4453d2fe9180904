#!/usr/bin/env bash
# Install a font with Chinese, Japanese and Korean characters for the report's figures.
# hotleads.report draws column and file names with matplotlib's DejaVu Sans (Latin, Greek,
# Cyrillic, Arabic, Hebrew) and falls back to any installed font that has the other characters.
# Debian's fonts-wqy-microhei (WenQuanYi Micro Hei: Chinese, Japanese kana, Korean) costs a 1.6 MB
# download, 5 MB on disk and a few seconds. Skipped when a font with those characters is already
# there. Never fails: without apt-get, root or network it says so and exits 0; the report then
# draws those characters as boxes and says so in one warning, and its CJK test skips.
set -u
PACKAGE=fonts-wqy-microhei

has_cjk_font() {  # U+4E00 (a Chinese character) and U+AC00 (a Korean syllable)
    command -v fc-list >/dev/null 2>&1 && [ -n "$(fc-list ':charset=4e00 ac00' family 2>/dev/null)" ]
}

if has_cjk_font; then
    echo "setup_fonts: a font with Chinese, Japanese and Korean characters is installed"
    exit 0
fi
if ! command -v apt-get >/dev/null 2>&1 || [ "$(id -u)" != 0 ]; then
    echo "setup_fonts: cannot apt-get install $PACKAGE here (no apt-get, or not root); figures will show CJK characters as boxes"
    exit 0
fi

export DEBIAN_FRONTEND=noninteractive
install() { apt-get install -y -q --no-install-recommends "$PACKAGE" >/dev/null 2>&1; }
# update the package lists only when the package is unknown or the first try fails (stale lists)
if ! apt-cache show "$PACKAGE" >/dev/null 2>&1 || ! install; then
    apt-get update -q >/dev/null 2>&1
    install
fi

if dpkg -s "$PACKAGE" >/dev/null 2>&1; then
    echo "setup_fonts: installed $PACKAGE"
else
    echo "setup_fonts: could not install $PACKAGE with apt-get; figures will show CJK characters as boxes"
fi
exit 0
