#!/bin/sh
# Remove what install.sh installed, except the node's data (/var/lib/dameso) and the `dameso` user
# that owns it: the series and chunks a node kept are never deleted by an uninstall.
#
#   sudo /opt/dameso/uninstall.sh
#   ./uninstall.sh --root /tmp/board      # the same under a folder; systemctl is printed, not run
set -eu

ROOT=''
while [ $# -gt 0 ]; do
  case "$1" in
    --root)
      [ $# -ge 2 ] || { echo "uninstall.sh: --root needs a value [DAMESO_USAGE]" >&2; exit 64; }
      ROOT=$2
      shift 2
      ;;
    -h | --help) sed -n '2,6p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "uninstall.sh: unknown flag \"$1\" (usage: uninstall.sh [--root DIR]) [DAMESO_USAGE]" >&2; exit 64 ;;
  esac
done
[ -z "$ROOT" ] || ROOT=$(cd "$ROOT" && pwd)

REAL=0
if [ -z "$ROOT" ]; then
  [ "$(id -u)" = 0 ] || { echo "uninstall.sh: run as root (sudo ...), or give --root DIR [DAMESO_USAGE]" >&2; exit 77; }
  REAL=1
fi

if [ "$REAL" = 1 ] && command -v systemctl >/dev/null 2>&1; then
  systemctl disable --now dameso-node.service 2>/dev/null || true
else
  echo "would run: systemctl disable --now dameso-node.service"
fi

for path in /etc/systemd/system/dameso-node.service /usr/local/bin/dameso /etc/dameso /opt/dameso; do
  if [ -e "$ROOT$path" ] || [ -L "$ROOT$path" ]; then
    rm -rf "$ROOT$path"
    echo "removed $ROOT$path"
  fi
done

if [ "$REAL" = 1 ] && command -v systemctl >/dev/null 2>&1; then
  systemctl daemon-reload
else
  echo "would run: systemctl daemon-reload"
fi
echo "kept $ROOT/var/lib/dameso (the node's data) and the user dameso that owns it;" \
  "to remove them too: rm -rf /var/lib/dameso && userdel dameso"
