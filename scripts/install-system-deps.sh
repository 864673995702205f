#!/usr/bin/env bash
# Debian packages for the full test suite: PostgreSQL, mosquitto, GStreamer RTSP server
# (Debian python3-gi), ffmpeg, chromium for the console's browser tests, CJK fonts for Hangul in reports.
set -euo pipefail
PKGS="postgresql mosquitto chromium chromium-driver python3-gi gir1.2-gst-rtsp-server-1.0
gstreamer1.0-plugins-good gstreamer1.0-plugins-bad ffmpeg fonts-noto-cjk"
missing=""
for p in $PKGS; do dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"; done
if [ -z "$missing" ]; then echo "system packages present"; exit 0; fi
SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing
# the Debian package starts a system cluster we do not need
$SUDO pg_ctlcluster 15 main stop >/dev/null 2>&1 || true
