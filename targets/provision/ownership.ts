/**
 * What qpc provisioning owns on a machine, and how a later run takes back
 * what the policy no longer has (DESIGN §5).
 *
 * dom0 keeps a record, `/var/lib/qpc/owned`, one item per line:
 *
 *     policy NAME SHA256      a file qpc installed in /etc/qubes/policy.d
 *     tag QUBE TAG            a tag qpc added
 *     feature QUBE KEY        a feature qpc set
 *     service QUBE NAME       a service qpc turned on or off
 *     pref QUBE PROPERTY      a property qpc set that has a Qubes default
 *     file QUBE PATH          a file qpc pushed into a qube (provision.sh only)
 *     device QUBE CLASS ID    a device qpc assigned to a qube (`qvm-device`)
 *
 * An item is qpc's when an earlier run recorded it or this run writes it.
 * An item the machine already had as the policy wants it, before any qpc
 * run, is left out of the record: no later run removes a tag, feature or
 * file that qpc did not write. Each item is recorded before the change is
 * made, so a run that stops halfway still knows what it wrote.
 *
 * At the end of a run, every recorded item the run did not own again is
 * stale: its tag or feature is removed, its service unset, its property
 * reset to Qubes' default, its policy file removed (only while its bytes
 * are still those qpc installed: a file someone edited since is left, and
 * said so), its file in a qube removed. Then the record becomes what this
 * run owns. Values are never stored: only names, which the allow-lists of
 * check.ts have already vetted, so every line splits on spaces.
 *
 * provision.sh and the Salt states (`qpc-own.sh claim`, then the states,
 * then `qpc-own.sh prune`) run the same shell functions, written once here.
 * Salt installs no files inside qubes: it carries the record's `file` lines
 * over untouched for the next provision.sh run.
 */

/** Where dom0 keeps the record and the Salt helper (`QPC_STATE_DIR` overrides it for tests). */
export const stateDirectory = '/var/lib/qpc';
/** The record's file name in {@link stateDirectory}. */
export const recordName = 'owned';
/** The helper script the Salt states install in {@link stateDirectory} and run. */
export const saltHelperName = 'qpc-own.sh';

/**
 * The properties whose value qpc takes back (resets to Qubes' default) when
 * the policy stops setting them. The others are set on every qube the policy
 * declares (netvm, default_dispvm, the flags) or have no default to return
 * to (label, template).
 */
export const resettablePrefs: readonly string[] = ['memory', 'maxmem', 'vcpus', 'virt_mode', 'kernel', 'kernelopts'];

/**
 * The shell functions both provision.sh and the Salt helper use. They need
 * `dry_run`, `policy_dir`, `say`, `die`, `change` and `exists` from the
 * script around them, and `qubes_release` (`4.2` or `4.3`: `qvm-device`
 * differs). POSIX sh; every value is a name that cannot hold a space or a
 * quote.
 */
export const ownershipFunctions = String.raw`state_dir="${"$"}{QPC_STATE_DIR:-${stateDirectory}}"
record="$state_dir/${recordName}"
record_header='# qpc ownership record, format 1: what qpc provisioning wrote on this machine, one item per line. The next run removes what its policy no longer has. Do not edit.'
next_record=''
record_changed=0

# start_record FILE: this run's record is built in FILE (emptied).
start_record() {
  next_record=$1
  : > "$next_record" || die "cannot write $next_record"
  if [ "$dry_run" = 0 ]; then
    mkdir -p "$state_dir" || die "cannot create $state_dir"
    chmod 0700 "$state_dir" || die "cannot set the mode of $state_dir"
    if [ -L "$record" ] || { [ -e "$record" ] && [ ! -f "$record" ]; }; then die "$record is not a regular file; nothing was changed"; fi
    [ -f "$record" ] || printf '%s\n' "$record_header" > "$record" || die "cannot write $record"
  fi
}

# owned_before LINE: an earlier run recorded LINE.
owned_before() { [ -f "$record" ] && grep -Fqx -- "$1" "$record"; }

# own HAD LINE: this run writes the item of LINE (HAD=1: the machine already
# has it as the policy wants). It is qpc's when an earlier run recorded it or
# this run changes it; recorded before the change is made.
own() {
  if [ "$1" = 1 ] && ! owned_before "$2"; then
    return 0
  fi
  printf '%s\n' "$2" >> "$next_record"
  if [ "$dry_run" = 0 ] && ! owned_before "$2"; then
    printf '%s\n' "$2" >> "$record"
    record_changed=1
  fi
}

has_tag() { qvm-tags "$1" list "$2" > /dev/null 2>&1; }
has_feature() { current=$(qvm-features "$1" "$2" 2> /dev/null) && [ "$current" = "$3" ]; }
has_service() { current=$(qvm-service "$1" "$2" 2> /dev/null) && [ "$current" = "$3" ]; }
has_pref() { current=$(qvm-prefs "$1" "$2" 2> /dev/null) && [ "$current" = "$3" ]; }

# has_device QUBE CLASS ID: ID is assigned to QUBE. qvm-device prints one line
# per device, BACKEND:DEVID first and the qubes using it last ('QUBE' or
# 'QUBE (OPTION=VALUE, ...)', comma-separated). R4.2 'list QUBE' shows the
# devices attached to QUBE, persistently or not; R4.3 'list --assignments
# QUBE' also shows the assignments, marked '*QUBE (MODE...)'.
has_device() {
  device_listing "$1" "$2"
  printf '%s\n' "$listing" | awk -v id="$3" -v f="$frontend" '
    $1 == id {
      rest = substr($0, length($1) + 1) ","
      if (index(rest, " " f " (") || (index(f, "*") != 1 && index(rest, " " f ","))) found = 1
    }
    END { exit found ? 0 : 1 }
  '
}

# device_listing QUBE CLASS: sets listing (the release's listing of QUBE's
# CLASS devices) and frontend (how QUBE is named in its users column).
device_listing() {
  if [ "$qubes_release" = 4.2 ]; then
    listing=$(qvm-device "$2" list "$1") || die "cannot list the $2 devices of $1"
    frontend=$1
  else
    listing=$(qvm-device "$2" list --assignments "$1") || die "cannot list the $2 devices of $1"
    frontend="*$1"
  fi
}

# has_device_option QUBE CLASS ID K=V: QUBE's assignment of ID has option
# K=V: the listing's 'QUBE (K=V, ...)' (R4.2) or '*QUBE (MODE: K=V, ...)' (R4.3).
has_device_option() {
  device_listing "$1" "$2"
  printf '%s\n' "$listing" | awk -v id="$3" -v f="$frontend" -v o="$4" '
    $1 == id {
      rest = substr($0, length($1) + 1)
      i = index(rest, " " f " (")
      if (i) {
        opts = substr(rest, i + length(f) + 3)
        opts = substr(opts, 1, index(opts, ")") - 1)
        if (index(f, "*") == 1) { if (!sub(/^[^:,]*: /, "", opts)) opts = "" }
        n = split(opts, a, /, */)
        for (k = 1; k <= n; k++) if (a[k] == o) found = 1
      }
    }
    END { exit found ? 0 : 1 }
  '
}

# unassign_device QUBE CLASS ID: takes back a persistent assignment.
unassign_device() {
  if [ "$qubes_release" = 4.2 ]; then qvm-device "$2" detach "$1" "$3"; else qvm-device "$2" unassign "$1" "$3"; fi
}

own_device() { if has_device "$1" "$2" "$3"; then own 1 "device $1 $2 $3"; else own 0 "device $1 $2 $3"; fi; }

# own_tag QUBE TAG, own_feature QUBE KEY VALUE, own_service QUBE NAME on|off,
# own_pref QUBE PROPERTY VALUE: own with HAD read from the machine.
own_tag() { if has_tag "$1" "$2"; then own 1 "tag $1 $2"; else own 0 "tag $1 $2"; fi; }
own_feature() { if has_feature "$1" "$2" "$3"; then own 1 "feature $1 $2"; else own 0 "feature $1 $2"; fi; }
own_service() { if has_service "$1" "$2" "$3"; then own 1 "service $1 $2"; else own 0 "service $1 $2"; fi; }
own_pref() { if has_pref "$1" "$2" "$3"; then own 1 "pref $1 $2"; else own 0 "pref $1 $2"; fi; }

# stale_items 'KIND...': the recorded items of those kinds this run does not
# own, once each; a policy file's lines merged into 'policy NAME SHA...'.
stale_items() {
  [ -f "$record" ] || return 0
  awk -v kinds=" $1 " '
    function key() { return $1 == "policy" ? $1 " " $2 : $0 }
    FILENAME == ARGV[1] { keep[key()] = 1; next }
    /^#/ || NF == 0 || index(kinds, " " $1 " ") == 0 || (key() in keep) { next }
    $1 == "policy" { if (!($2 in shas)) names[++n] = $2; shas[$2] = shas[$2] " " $3; next }
    !seen[$0]++ { print }
    END { for (i = 1; i <= n; i++) print "policy " names[i] shas[names[i]] }
  ' "$next_record" "$record"
}

# The prune loops read the stale items on descriptor 3, so no command in
# them reads the list, and run in this shell, so they can set variables.

# prune_qubes: takes back the tags, features, services, properties and devices an
# earlier run wrote and this one does not, in any qube that still exists.
prune_qubes() {
  while read -r kind qube key <&3; do
    [ -n "$kind" ] || continue
    exists "$qube" || continue
    case "$kind" in
      tag)
        if has_tag "$qube" "$key"; then change "remove tag $key from $qube (qpc added it; the policy no longer has it)" qvm-tags "$qube" del "$key"; fi ;;
      feature)
        if qvm-features "$qube" "$key" > /dev/null 2>&1; then change "unset feature $key of $qube (qpc set it; the policy no longer has it)" qvm-features --unset "$qube" "$key"; fi ;;
      service)
        if qvm-service "$qube" "$key" > /dev/null 2>&1; then change "unset service $key of $qube (qpc set it; the policy no longer has it)" qvm-service --unset "$qube" "$key"; fi ;;
      pref)
        state=$(qvm-prefs "$qube" | awk -v p="$key" '$1 == p { print $2; exit }') || die "cannot read the properties of $qube"
        if [ "$state" != D ]; then change "reset $key of $qube to Qubes' default (qpc set it; the policy no longer does)" qvm-prefs --default "$qube" "$key"; fi ;;
      device)
        device_class=${"$"}{key%% *}
        device_id=${"$"}{key#* }
        if has_device "$qube" "$device_class" "$device_id"; then change "unassign $device_class device $device_id from $qube (qpc assigned it; the policy no longer has it)" unassign_device "$qube" "$device_class" "$device_id"; fi ;;
    esac
  done 3<<EOF
$(stale_items 'tag feature service pref device')
EOF
}

remove_policy() {
  if command -v qubes-policy > /dev/null 2>&1; then qubes-policy --remove "$1"; else rm -f "$policy_dir/$1.policy"; fi
}

# prune_policies: removes the policy files an earlier run installed and this
# one does not, while they hold the bytes qpc installed.
prune_policies() {
  while read -r kind name shas <&3; do
    [ -n "$kind" ] || continue
    dest="$policy_dir/$name.policy"
    [ -f "$dest" ] || continue
    actual=$(sha256sum < "$dest") || die "cannot read $dest"
    actual=${"$"}{actual%% *}
    case " $shas " in
      *" $actual "*)
        if command -v qubes-policy > /dev/null 2>&1; then
          change "remove $dest with qubes-policy --remove (qpc installed it; the policy no longer has it)" remove_policy "$name"
        else
          change "remove $dest (qpc installed it; the policy no longer has it)" remove_policy "$name"
        fi ;;
      *) say "left $dest: qpc installed it and the policy no longer has it, but it was changed since; remove it by hand if nobody needs it" ;;
    esac
  done 3<<EOF
$(stale_items policy)
EOF
}

# finish_record: the record becomes what this run owns.
finish_record() {
  [ "$dry_run" = 0 ] || return 0
  { printf '%s\n' "$record_header"; awk '!seen[$0]++' "$next_record"; } > "$record.new" || die "cannot write $record.new"
  if ! cmp -s "$record.new" "$record"; then record_changed=1; fi
  mv -f "$record.new" "$record"
}`;
