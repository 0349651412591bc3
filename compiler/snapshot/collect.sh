#!/bin/sh
# qpc snapshot: collects this dom0's state into one directory, read-only.
set -eu

usage() {
  printf '%s\n' 'usage: sh snapshot.sh [--start-gateways] DIR' \
    '  DIR               a new or empty directory that receives the snapshot' \
    '  --start-gateways  start halted Whonix gateways to read their files'
}

start_gateways=0
dir=''
for arg in "$@"; do
  case "$arg" in
    --start-gateways) start_gateways=1 ;;
    --help | -h) usage; exit 0 ;;
    -*) usage >&2; exit 2 ;;
    *) [ -z "$dir" ] || { usage >&2; exit 2; }; dir=$arg ;;
  esac
done
[ -n "$dir" ] || { usage >&2; exit 2; }
policy_dir=${QPC_POLICY_DIR:-/etc/qubes/policy.d}
release_file=${QPC_RELEASE_FILE:-/etc/qubes-release}
mkdir -p -- "$dir"
if [ -n "$(ls -A -- "$dir")" ]; then
  printf 'snapshot: %s is not empty\n' "$dir" >&2
  exit 1
fi
cd -- "$dir"
umask 077
autostart=--no-autostart
[ "$start_gateways" = 0 ] || autostart=--autostart

fields=NAME,CLASS,STATE,LABEL,TEMPLATE,NETVM,PROVIDES_NETWORK,TEMPLATE_FOR_DISPVMS,DEFAULT_DISPVM
qvm-ls --raw-data --fields "$fields" > qvm-ls.txt
qubes-prefs > qubes-prefs.txt

mkdir qubes
cut -d '|' -f 1 qvm-ls.txt | while IFS= read -r q; do
  # qubesd's names start with a letter and have no slash: never an option, never a path.
  case "$q" in [A-Za-z]*) ;; *) continue ;; esac
  case "$q" in */*) continue ;; esac
  qvm-prefs "$q" > "qubes/$q.prefs"
  qvm-tags "$q" list > "qubes/$q.tags"
  qvm-features "$q" > "qubes/$q.features"
  qvm-service "$q" > "qubes/$q.services"
done

# Devices: every device a qube exposes, with the qubes it is assigned to
# (USED BY, with the options of each assignment).
mkdir devices
# A class this machine does not have is listed in devices/unavailable.
for class in pci usb block mic; do
  if ! qvm-device "$class" list > "devices/$class.txt"; then
    : > "devices/$class.txt"
    printf '%s\n' "$class" >> devices/unavailable
  fi
done

mkdir policy.d
if [ -d "$policy_dir" ]; then
  (cd "$policy_dir" && find . -type f) | LC_ALL=C sort | while IFS= read -r f; do
    f=${f#./}
    mkdir -p "policy.d/$(dirname -- "$f")"
    cat -- "$policy_dir/$f" > "policy.d/$f"
  done
fi

# The ownership record qpc provisioning keeps (read, never written): a copy
# in owned, or, when there is none, the reason in owned.unread.
state_dir=${QPC_STATE_DIR:-/var/lib/qpc}
record=$state_dir/owned
if [ -L "$record" ] || { [ -e "$record" ] && [ ! -f "$record" ]; }; then
  printf 'not a regular file\n' > owned.unread
elif [ -f "$record" ]; then
  if ! cat -- "$record" > owned 2> /dev/null; then
    rm -f owned
    printf 'not readable\n' > owned.unread
  fi
elif [ -d "$state_dir" ] && [ ! -x "$state_dir" ]; then
  printf 'not readable\n' > owned.unread
else
  printf 'absent\n' > owned.unread
fi

# Whonix gateways: AppVMs and StandaloneVMs tagged anon-gateway.
mkdir whonix
: > whonix/skipped
safe_name() {
  case "$1" in '' | .* | *[!A-Za-z0-9._-]*) return 1 ;; *) return 0 ;; esac
}
while IFS='|' read -r q class state _rest; do
  case "$class" in AppVM | StandaloneVM) ;; *) continue ;; esac
  grep -qx 'anon-gateway' "qubes/$q.tags" || continue
  if [ "$state" != Running ] && [ "$start_gateways" = 0 ]; then
    printf '%s: not running\n' "$q" >> whonix/skipped
    continue
  fi
  for sub in torrc.d whonix_firewall.d; do
    mkdir -p "whonix/$q/$sub"
    qvm-run --pass-io --no-gui --quiet $autostart "$q" \
      "cd /usr/local/etc/$sub 2>/dev/null || exit 0; for f in *; do [ -f \"\$f\" ] && printf '%s\\n' \"\$f\"; done; exit 0" \
      < /dev/null | head -n 1000 > "whonix/$q/$sub.list"
    # The names come from the gateway: only plain file names are read.
    while IFS= read -r f; do
      if ! safe_name "$f"; then
        printf '%s: %s/%s not read (not a plain file name)\n' "$q" "$sub" "$(printf '%s' "$f" | tr -c 'A-Za-z0-9._-' '?')" >> whonix/skipped
        continue
      fi
      if ! qvm-run --pass-io --no-gui --quiet $autostart "$q" "head -c 1048576 /usr/local/etc/$sub/$f" \
        < /dev/null > "whonix/$q/$sub/$f"; then
        rm -f "whonix/$q/$sub/$f"
        printf '%s: %s/%s could not be read\n' "$q" "$sub" "$f" >> whonix/skipped
      fi
    done < "whonix/$q/$sub.list"
    rm -f "whonix/$q/$sub.list"
  done
done < qvm-ls.txt
# The gateways started above run now: the listing records the machine as the
# script leaves it (a later recording, such as provision.sh --plan makes, sees
# them running too).
if [ "$start_gateways" = 1 ]; then
  qvm-ls --raw-data --fields "$fields" > qvm-ls.txt
fi

release=$(head -n 1 "$release_file" 2>/dev/null || printf unknown)
{
  printf 'qpc-snapshot 1\n'
  printf 'release %s\n' "$release"
  printf 'date %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  # provision.sh --plan collects again as this run did, to compare the state.
  if [ "$start_gateways" = 1 ]; then printf 'start-gateways yes\n'; else printf 'start-gateways no\n'; fi
} > version

# The manifest: every collected file but these three, with its sha256.
manifest=files.sha256
collected=$(find . -type f ! -name version ! -name "$manifest" ! -name state.sha256 | LC_ALL=C sort | sed 's|^\./||')
printf '%s\n' "$collected" | while IFS= read -r f; do sha256sum -- "$f"; done > "$manifest"
sha256sum < "$manifest" | cut -d ' ' -f 1 > state.sha256
printf 'snapshot written to %s (state %s)\n' "$dir" "$(cat state.sha256)"
if [ -s whonix/skipped ]; then
  printf 'not read (--start-gateways starts halted gateways):\n'
  sed 's/^/  /' whonix/skipped
fi
case "$(cat owned.unread 2> /dev/null)" in
  'not readable') printf "qpc's ownership record %s not read: not readable (run the script as root: sudo sh snapshot.sh DIR)\n" "$record" ;;
  'not a regular file') printf "qpc's ownership record %s not read: not a regular file (provision.sh refuses to run until it is one)\n" "$record" ;;
esac
