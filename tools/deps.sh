# Sourced by tools/run and tools/test: installs whatever of Peercam's build and
# test dependencies is missing on Debian 12 (as root, or through sudo).
PEERCAM_BUILD_DEPS="
  meson ninja-build pkg-config gcc gettext libxml2-utils
  libglib2.0-dev libglib2.0-dev-bin libgtk-4-dev libadwaita-1-dev
  libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev libgstreamer-plugins-bad1.0-dev
  libnice-dev libsoup-3.0-dev libjson-glib-dev libqrencode-dev
  libgnutls28-dev libssl-dev
  gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-bad
  gstreamer1.0-nice gstreamer1.0-libav
  desktop-file-utils appstream
  libportal-dev gstreamer1.0-pipewire
"
PEERCAM_TEST_DEPS="
  xvfb xauth dbus dbus-x11 clang libclang-rt-14-dev imagemagick fonts-wqy-microhei
  chromium iproute2
  python3-aiortc python3-av python3-socketio python3-aiohttp firefox-esr
"
# tools/bench network: gst-launch-1.0 and timeoverlay make Chromium's camera file.
PEERCAM_BENCH_DEPS="
  gstreamer1.0-tools gstreamer1.0-x
"

peercam_install_deps () {
  missing=""
  for pkg in $PEERCAM_BUILD_DEPS ${1:-}; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed"; then
      missing="$missing $pkg"
    fi
  done
  [ -z "$missing" ] && return 0

  echo "==> Installing missing packages:$missing"
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  # shellcheck disable=SC2086
  $sudo apt-get install -y -qq --no-install-recommends $missing
}
