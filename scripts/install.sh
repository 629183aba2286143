#!/bin/sh
# Install dameso from this unpacked bundle onto a board: no npm, only Node >= 20 at /usr/bin/node.
#
#   sudo ./install.sh --broker mqtt://hub.local:1883 --roles bt --id pi-7
#   ./install.sh --root /tmp/board --broker mqtt://127.0.0.1:1883   # into a folder, for a test
#
# Flags:
#   --broker URL        the broker the node connects to (needed to write the settings)
#   --roles LIST        bt, mapper or bt,mapper (default bt)
#   --id NAME           the node's id (default: the host name)
#   --device BOARD      pi-zero-2w, pi-3b, pi-4b, pi-400, pi-cm4, pi-5, generic or auto (default auto)
#   --replace-config    write /etc/dameso/node.json even if one exists (the old one is kept as .bak)
#   --root DIR          install under DIR; print the useradd/chown/systemctl steps instead of running them
#
# Creates the `dameso` user and /var/lib/dameso (the node's data), writes /etc/dameso/node.json from
# the flags (an existing one is kept), copies the program to /opt/dameso, links /usr/local/bin/dameso,
# installs and enables dameso-node.service and prints its status. Without systemctl the steps are
# printed. /opt/dameso/uninstall.sh removes everything but the data.
set -eu

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=''
ID=''
ROLES='bt'
BROKER=''
# The board is read from /proc/device-tree/model at start unless named.
DEVICE='auto'
REPLACE_CONFIG=0

# One line on stderr, exit 64 (EX_USAGE).
usage() {
  echo "install.sh: $1 (install.sh --help lists the flags) [DAMESO_USAGE]" >&2
  exit 64
}

while [ $# -gt 0 ]; do
  case "$1" in
    --root | --id | --roles | --broker | --device)
      [ $# -ge 2 ] || usage "$1 needs a value"
      case "$1" in
        --root) ROOT=$2 ;;
        --id) ID=$2 ;;
        --roles) ROLES=$2 ;;
        --broker) BROKER=$2 ;;
        --device) DEVICE=$2 ;;
      esac
      shift 2
      ;;
    --replace-config) REPLACE_CONFIG=1; shift ;;
    -h | --help)
      sed -n '2,/^set -eu/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'
      exit 0
      ;;
    *) usage "unknown flag \"$1\"" ;;
  esac
done

# Values go into JSON unescaped: keep them to the characters ids, roles, URLs and board names use.
plain() { [ -z "$2" ] || printf '%s\n' "$2" | grep -Eq '^[A-Za-z0-9._:/@%,+=-]*$' || usage "$1 has a character that is not allowed: \"$2\""; }
plain --id "$ID"
plain --roles "$ROLES"
plain --broker "$BROKER"
plain --device "$DEVICE"
[ -n "$ROLES" ] || usage "--roles needs at least one role (bt, mapper)"
[ -n "$DEVICE" ] || usage "--device needs a board name (pi-4b, ...) or auto"
[ -z "$ROOT" ] || ROOT=$(mkdir -p "$ROOT" && cd "$ROOT" && pwd)
[ -n "$ID" ] || ID=$(hostname 2>/dev/null || echo node)

PROGRAM_DIR=/opt/dameso
DATA_DIR=/var/lib/dameso
CONFIG=/etc/dameso/node.json
UNIT=/etc/systemd/system/dameso-node.service
LINK=/usr/local/bin/dameso

# The real system is changed only without --root, as root.
REAL=0
if [ -z "$ROOT" ]; then
  [ "$(id -u)" = 0 ] || { echo "install.sh: run as root (sudo ./install.sh ...), or give --root DIR [DAMESO_USAGE]" >&2; exit 77; }
  REAL=1
fi
run_or_say() {
  if [ "$REAL" = 1 ]; then "$@"; else echo "would run: $*"; fi
}

if ! command -v node >/dev/null 2>&1; then
  echo "warning: no node on PATH; the unit runs /usr/bin/node (Node >= 20): install it (apt install nodejs)" >&2
fi

# The user the unit runs as; dialout opens serial sensors.
if [ "$REAL" = 1 ] && ! id -u dameso >/dev/null 2>&1; then
  groups=''
  getent group dialout >/dev/null 2>&1 && groups='--groups dialout'
  # shellcheck disable=SC2086
  useradd --system --home-dir "$DATA_DIR" --no-create-home --shell /usr/sbin/nologin $groups dameso
  echo "created user dameso"
elif [ "$REAL" = 0 ]; then
  echo "would run: useradd --system --home-dir $DATA_DIR --no-create-home --shell /usr/sbin/nologin --groups dialout dameso"
fi

# The program: replaced as a whole (an upgrade leaves no file of the previous version behind).
rm -rf "$ROOT$PROGRAM_DIR"
mkdir -p "$ROOT$PROGRAM_DIR"
cp -R "$HERE/dameso.mjs" "$HERE/prebuilds" "$HERE/boards" "$HERE/systemd" "$HERE/dist" "$HERE/VERSION" "$HERE/README.md" "$HERE/uninstall.sh" "$ROOT$PROGRAM_DIR/"
mkdir -p "$ROOT$(dirname "$LINK")"
printf '#!/bin/sh\nexec /usr/bin/node %s/dameso.mjs "$@"\n' "$PROGRAM_DIR" >"$ROOT$PROGRAM_DIR/dameso"
chmod 755 "$ROOT$PROGRAM_DIR/dameso"
ln -sf "$PROGRAM_DIR/dameso" "$ROOT$LINK"
echo "installed dameso $(cat "$HERE/VERSION") in $ROOT$PROGRAM_DIR (command: $LINK)"

mkdir -p "$ROOT$DATA_DIR"
chmod 750 "$ROOT$DATA_DIR"
run_or_say chown dameso:dameso "$ROOT$DATA_DIR"

# The node's settings: never overwritten silently (an edited file is the operator's work).
mkdir -p "$ROOT$(dirname "$CONFIG")"
if [ -e "$ROOT$CONFIG" ] && [ "$REPLACE_CONFIG" = 0 ]; then
  echo "kept $ROOT$CONFIG (pass --replace-config to write one from the flags)"
else
  [ -z "$BROKER" ] && usage "--broker is required to write $CONFIG (e.g. --broker mqtt://hub.local:1883)"
  if [ -e "$ROOT$CONFIG" ]; then
    backup="$ROOT$CONFIG.$(date -u +%Y%m%dT%H%M%SZ).bak"
    mv "$ROOT$CONFIG" "$backup"
    echo "moved the previous settings to $backup"
  fi
  roles_json=$(printf '%s' "$ROLES" | sed 's/,/", "/g')
  {
    printf '{\n  "id": "%s",\n  "roles": ["%s"],\n  "broker": "%s",\n  "data": "%s"' "$ID" "$roles_json" "$BROKER" "$DATA_DIR"
    printf ',\n  "device": "%s"\n}\n' "$DEVICE"
  } >"$ROOT$CONFIG"
  chmod 640 "$ROOT$CONFIG"
  run_or_say chgrp dameso "$ROOT$CONFIG"
  echo "wrote $ROOT$CONFIG"
fi

mkdir -p "$ROOT$(dirname "$UNIT")"
cp "$HERE/systemd/dameso-node.service" "$ROOT$UNIT"
echo "installed $ROOT$UNIT"

if [ "$REAL" = 1 ] && command -v systemctl >/dev/null 2>&1; then
  systemctl daemon-reload
  systemctl enable dameso-node.service
  # restart, not start: an upgrade runs the new program at once.
  systemctl restart dameso-node.service
  systemctl status --no-pager dameso-node.service || true
else
  [ "$REAL" = 1 ] && echo "no systemctl here: start the node yourself: $LINK node --config $CONFIG"
  echo "would run: systemctl daemon-reload"
  echo "would run: systemctl enable dameso-node.service"
  echo "would run: systemctl restart dameso-node.service"
  echo "would run: systemctl status --no-pager dameso-node.service"
fi
# Under --root the wrapper and the unit name the real paths: run the copy under the root directly.
[ "$REAL" = 1 ] || echo "to try this copy: node $ROOT$PROGRAM_DIR/dameso.mjs --version"

