# The constant part of qubes/provision.sh, which script.ts inlines (through
# the generated preamble.ts) after the header comment and before the lines it
# writes from the model. These header lines, up to the first blank line, are
# left out; the @QPC_…@ words are replaced by script.ts: the policy directory,
# the ownership record's functions (ownership.ts) and the prefs it may reset.
# A fragment: identity_tags, qubes_release and record are set, and pushed is
# read, by the lines around it.
# shellcheck shell=sh disable=SC2154,SC2034

set -eu

usage() {
  printf '%s\n' 'usage: sh qubes/provision.sh [--dry-run] [--plan FILE [--only-changes] [--force]]' \
    '  --dry-run, -n   print what would change; change nothing, start no qube' \
    '  --plan FILE     the plan qpc plan --out FILE wrote for this script: stop' \
    '                  when the machine changed since its snapshot; with --dry-run,' \
    '                  print the plan' \
    '  --only-changes  with --plan: visit only the qubes the plan changes' \
    '  --force         with --plan: go on when the machine changed since (every' \
    '                  qube is visited then)'
}

dry_run=0
plan_file=''
only_changes=0
force=0
while [ $# -gt 0 ]; do
  case "$1" in
    --dry-run | -n) dry_run=1 ;;
    --plan)
      [ $# -ge 2 ] || { usage >&2; exit 2; }
      plan_file=$2
      shift ;;
    --only-changes) only_changes=1 ;;
    --force) force=1 ;;
    --help | -h) usage; exit 0 ;;
    *) usage >&2; exit 2 ;;
  esac
  shift
done
if [ -z "$plan_file" ] && { [ "$only_changes" = 1 ] || [ "$force" = 1 ]; }; then
  usage >&2
  exit 2
fi

script_dir=$(CDPATH='' cd -- "$(dirname -- "$0")" && pwd -P)
out_dir=$(CDPATH='' cd -- "$script_dir/.." && pwd -P)
manifest="$out_dir/manifest.json"
policy_dir="${QPC_POLICY_DIR:-@QPC_POLICY_DIRECTORY@}"
planned=' '

say() { printf 'qpc: %s\n' "$*"; }
die() { printf 'qpc: error: %s\n' "$*" >&2; exit 1; }

# change DESCRIPTION COMMAND...: runs a command that changes dom0, or only
# prints it in a dry run.
change() {
  if [ "$dry_run" = 1 ]; then
    say "would $1"
    return 0
  fi
  say "$1"
  shift
  "$@"
}

# manifest_sha256 PATH: the sha256 manifest.json records for PATH. qpc compile
# writes one artifact per line, '    { "path": "P", "sha256": "H" },', so
# awk can read it without a JSON parser (dom0 has neither Node.js nor jq).
manifest_sha256() {
  awk -v want="$1" '
    $0 == "  \"artifacts\": [" { inside = 1; next }
    inside && substr($0, 1, 3) == "  ]" { inside = 0 }
    inside {
      prefix = "    { \"path\": \"" want "\", \"sha256\": \""
      if (substr($0, 1, length(prefix)) == prefix) {
        hash = substr($0, length(prefix) + 1, 64)
        tail = substr($0, length(prefix) + 65)
        if (length(hash) == 64 && hash !~ /[^0-9a-f]/ && (tail == "\" }" || tail == "\" },")) { print hash; found++ }
      }
    }
    END { if (found != 1) exit 1 }
  ' "$manifest"
}

# verify PATH SHA256: the artifact exists and its bytes match both
# manifest.json and the hash this script was compiled with.
verify() {
  if [ ! -f "$out_dir/$1" ] || [ -L "$out_dir/$1" ]; then die "missing artifact $1 in $out_dir (or not a regular file); nothing was changed"; fi
  recorded=$(manifest_sha256 "$1") || die "manifest.json does not list $1 exactly once; nothing was changed"
  [ "$recorded" = "$2" ] || die "manifest.json and provision.sh disagree on $1 (files of two compilations?); nothing was changed"
  actual=$(sha256sum < "$out_dir/$1")
  actual=${actual%% *}
  [ "$actual" = "$2" ] || die "sha256 of $1 does not match manifest.json: the file changed after qpc compile; nothing was changed"
}

# stock_file NAME SHA256: a policy file the policy models but does not install
# (a "policy-file NAME stock sha256 ..." block) is in dom0 with these bytes:
# qpc's checks counted on its rules.
stock_file() {
  [ -f "$policy_dir/$1.policy" ] || die "stock policy file $policy_dir/$1.policy is missing, but the policy models it and its checks count on its rules; nothing was changed"
  actual=$(sha256sum < "$policy_dir/$1.policy") || die "cannot read stock policy file $policy_dir/$1.policy; nothing was changed"
  actual=${actual%% *}
  [ "$actual" = "$2" ] || die "stock policy file $policy_dir/$1.policy has sha256 $actual, not $2 as the policy says: model the file as it is (rules and sha256) in the policy's stock block, or restore it; nothing was changed"
}

exists() { qvm-check "$1" > /dev/null 2>&1; }

# A plan file (`qpc plan --out FILE`, docs/plan.md) is data, one item a line:
# `provision SHA256` (of the provision.sh it was made for), `state SHA256`
# (the snapshot's state.sha256), `start-gateways yes|no`, `qube NAME` (each
# qube the plan changes), `collected LINE` (the snapshot's files.sha256) and
# `text LINE` (the plan as qpc plan prints it). Nothing in it is run.
plan_tmp=''
plan_qubes=' '
now_qubes=' '

# plan_field KEY: the value of the plan's one line `KEY VALUE`.
plan_field() { awk -v k="$1" '$1 == k { print substr($0, length(k) + 2); n++ } END { exit n == 1 ? 0 : 1 }' "$plan_file"; }

# printable: the bytes of standard input but control characters (a tab and
# newlines stay), as a plan or a path shown here could hold any.
printable() { LC_ALL=C tr -d '\000-\010\013-\037\177'; }

# check_plan: the plan was made for this script, on the machine as it is now:
# the snapshot script shipped with it (verified above) records the machine
# again and the state must be the one the plan was made on. Sets plan_qubes.
check_plan() {
  if [ ! -f "$plan_file" ] || [ -L "$plan_file" ]; then die "plan $plan_file is not a regular file; nothing was changed"; fi
  [ "$(head -n 1 "$plan_file")" = 'qpc-plan-file 1' ] || die "$plan_file is not a plan file of qpc plan --out (format qpc-plan-file 1); nothing was changed"
  want_script=$(plan_field provision) || die "$plan_file does not name its provision.sh exactly once; nothing was changed"
  have_script=$(sha256sum < "$0") || die "cannot read $0"
  have_script=${have_script%% *}
  [ "$want_script" = "$have_script" ] || die "the plan was made for another provision.sh (sha256 $(printf '%s' "$want_script" | printable); this one is $have_script): plan the policy this output was compiled from; nothing was changed"
  want_state=$(plan_field state) || die "$plan_file does not name its state exactly once; nothing was changed"
  start=$(plan_field start-gateways) || die "$plan_file does not say whether its snapshot started the gateways; nothing was changed"
  plan_tmp=$(mktemp -d) || die "cannot create a temporary directory"
  say "recording the machine to compare it with the plan's snapshot"
  if [ "$start" = yes ]; then set -- --start-gateways; else set --; fi
  sh "$out_dir/qubes/snapshot.sh" "$@" "$plan_tmp/now" > /dev/null 2> "$plan_tmp/err" || die "the snapshot script failed: $(head -c 1000 "$plan_tmp/err" | printable); nothing was changed"
  have_state=$(cat "$plan_tmp/now/state.sha256")
  now_qubes=" $(cut -d '|' -f 1 "$plan_tmp/now/qvm-ls.txt" | tr '\n' ' ')"
  if [ "$have_state" != "$want_state" ]; then
    # The files whose sha256 differs, by path: files.sha256 is HASH, two characters, PATH.
    differ=$(awk '
      FNR == NR { if ($1 == "collected") want[substr($0, 77)] = $2; next }
      { p = substr($0, 67); have[p] = 1; if (want[p] != $1) print p }
      END { for (p in want) if (!(p in have)) print p }
    ' "$plan_file" "$plan_tmp/now/files.sha256" | LC_ALL=C sort | head -n 20 | printable | tr '\n' ' ')
    if [ "$force" = 0 ]; then
      as_root=''
      [ "$(id -u)" = 0 ] || as_root=' (as another user than root the ownership record cannot be read: run it with sudo)'
      die "the machine changed since the snapshot the plan was made on (state $have_state, the plan's $(printf '%s' "$want_state" | printable)); what differs: ${differ:-the listing}$as_root; record a new snapshot and plan again, or run with --force; nothing was changed"
    fi
    say "warning: the machine changed since the snapshot the plan was made on (what differs: ${differ:-the listing}); --force: going on, and visiting every qube"
    only_changes=0
  else
    say "the machine is as the plan's snapshot recorded it (state $have_state)"
  fi
  while read -r q <&3; do
    case "$q" in
      [A-Za-z]*) ;;
      *) die "$plan_file names a qube that is not a qube name; nothing was changed" ;;
    esac
    case "$q" in
      *[!A-Za-z0-9_.-]*) die "$plan_file names a qube that is not a qube name; nothing was changed" ;;
    esac
    plan_qubes="$plan_qubes$q "
  done 3<<EOF
$(awk '$1 == "qube" { print substr($0, 6) }' "$plan_file")
EOF
}

# print_plan: the plan's text, as qpc plan printed it.
print_plan() { sed -n 's/^text //p; s/^text$//p' "$plan_file" | printable; }

# visit QUBE: this run provisions QUBE; with --only-changes, only a qube the
# plan changes (the others the plan found as the policy says, on this very
# machine state).
visit() {
  [ "$only_changes" = 1 ] || return 0
  case "$plan_qubes" in
    *" $1 "*) return 0 ;;
  esac
  return 1
}

# carry_over: with --only-changes, what the record holds on the qubes this
# run does not visit (and that still exist) stays recorded: a full run would
# own each again, since the plan found nothing to change or take back there.
carry_over() {
  [ "$only_changes" = 1 ] || return 0
  [ -f "$record" ] || return 0
  awk -v visit="$plan_qubes" -v now="$now_qubes" '
    $1 ~ /^(tag|feature|service|pref|device|file)$/ && index(visit, " " $2 " ") == 0 && index(now, " " $2 " ") > 0
  ' "$record" >> "$next_record"
}

# @QPC_OWNERSHIP_FUNCTIONS@

is_planned() {
  case "$planned" in
    *" $1 "*) return 0 ;;
  esac
  return 1
}

# is_created QUBE: this run created QUBE, so everything on it is qpc's.
created=' '
is_created() {
  case "$created" in
    *" $1 "*) return 0 ;;
  esac
  return 1
}

# own_on QUBE HAD LINE: own, where nothing on a qube this run created was there before.
own_on() {
  if is_created "$1"; then own 0 "$3"; else own "$2" "$3"; fi
}

# need QUBE CLASS: a qube the policy expects to be installed already.
need() {
  exists "$1" || die "qube $1 does not exist; the policy expects an installed $2 of that name"
  klass=$(qvm-prefs "$1" klass) || die "cannot read the class of $1"
  [ "$klass" = "$2" ] || die "qube $1 is a $klass; the policy declares a $2"
}

# whonix_marker TEMPLATE FEATURE ROLE: the template carries Whonix's own marker,
# FEATURE=1, which a Whonix template requests from dom0 itself (its post-install
# hook; the Qubes Whonix add-on records it). The policy declares the template
# a Whonix ROLE; this is the machine's word for it. Reads only.
whonix_marker() {
  exists "$1" || die "template $1 does not exist; the policy bases Tor qubes on it as a Whonix $3 template; nothing was changed"
  found='not set'
  if marker=$(qvm-features "$1" "$2" 2> /dev/null); then
    [ "$marker" = 1 ] && return 0
    found="it is '$marker'"
  fi
  die "template $1 does not carry Whonix's marker feature $2=1 ($found): the policy declares it a Whonix $3 template, but a Whonix template sets that marker itself when it is installed, so this one is not known to be one; base the Tor qubes on the Whonix template (qubes-templates-community); nothing was changed"
}

# create QUBE CLASS LABEL TEMPLATE PROPERTY=VALUE...: creates a missing qube
# (TEMPLATE '' for Qubes' default). Properties are set by qvm-create itself,
# in the given order, before the command returns, so the new qube never has
# Qubes' default netvm while it could be started.
create() {
  visit "$1" || return 0
  if exists "$1"; then
    need "$1" "$2"
    return 0
  fi
  new_name=$1
  new_class=$2
  new_label=$3
  new_template=$4
  shift 4
  count=$#
  while [ "$count" -gt 0 ]; do
    set -- "$@" --property "$1"
    shift
    count=$((count - 1))
  done
  if [ -n "$new_template" ]; then
    set -- --template "$new_template" "$@"
  fi
  change "create $new_class $new_name" qvm-create --class "$new_class" --label "$new_label" "$@" "$new_name"
  created="$created$new_name "
  if [ "$dry_run" = 1 ]; then
    planned="$planned$new_name "
  fi
}

# halted_for QUBE PROPERTY VALUE: qubesd refuses to change the template,
# virt_mode or kernel of a running qube. Checked before any change, so a run
# never stops half-applied: a dry run warns, a real run stops here.
halted_for() {
  exists "$1" || return 0
  current=$(qvm-prefs "$1" "$2") || die "cannot read property $2 of $1"
  if [ "$current" = "$3" ] || ! qvm-check --running "$1" > /dev/null 2>&1; then
    return 0
  fi
  if [ "$dry_run" = 1 ]; then
    say "warning: $1 is running, and qubesd refuses to change its $2 ('$current' -> '$3') while it runs: shut it down (qvm-shutdown --wait $1) before the real run"
  else
    die "$1 is running, and qubesd refuses to change its $2 ('$current' -> '$3') while it runs: shut it down (qvm-shutdown --wait $1) and run again; nothing was changed"
  fi
}

# pref QUBE PROPERTY VALUE: sets a property whose value differs.
pref() {
  visit "$1" || return 0
  current='(new qube)'
  had=0
  if ! is_planned "$1"; then
    current=$(qvm-prefs "$1" "$2") || die "cannot read property $2 of $1"
    if [ "$current" = "$3" ]; then
      had=1
    fi
  fi
  case "$2" in
    @QPC_RESETTABLE_PREFS@) own_on "$1" "$had" "pref $1 $2" ;;
  esac
  if [ "$had" = 1 ]; then
    return 0
  fi
  change "set $2 of $1: '$current' -> '$3'" qvm-prefs "$1" "$2" "$3"
}

# pref_default QUBE PROPERTY: resets a property to Qubes' default (qvm-prefs
# --default) unless it is at the default already (the D column of qvm-prefs QUBE).
pref_default() {
  visit "$1" || return 0
  if ! is_planned "$1"; then
    state=$(qvm-prefs "$1" | awk -v p="$2" '$1 == p { print $2; exit }') || die "cannot read the properties of $1"
    if [ "$state" = D ]; then
      return 0
    fi
  fi
  change "reset $2 of $1 to Qubes' default" qvm-prefs --default "$1" "$2"
}

# global_pref PROPERTY VALUE: sets a global property (qubes-prefs) whose value differs.
global_pref() {
  current=$(qubes-prefs "$1") || die "cannot read global property $1"
  if [ "$current" = "$2" ]; then
    return 0
  fi
  change "set global $1: '$current' -> '$2'" qubes-prefs "$1" "$2"
}

# tag QUBE TAG: adds a missing tag.
tag() {
  visit "$1" || return 0
  had=0
  if ! is_planned "$1" && has_tag "$1" "$2"; then had=1; fi
  own_on "$1" "$had" "tag $1 $2"
  if [ "$had" = 1 ]; then
    return 0
  fi
  change "add tag $2 to $1" qvm-tags "$1" add "$2"
}

# untag_stale QUBE 'KEEP...': removes the tags of other identities, so a qube
# moved out of an identity no longer matches that identity's @tag: rules.
untag_stale() {
  visit "$1" || return 0
  if is_planned "$1"; then
    return 0
  fi
  tags_now=$(qvm-tags "$1" list) || die "cannot list the tags of $1"
  printf '%s\n' "$tags_now" | while IFS= read -r old_tag; do
    case " $identity_tags " in
      *" $old_tag "*) ;;
      *) continue ;;
    esac
    case " $2 " in
      *" $old_tag "*) continue ;;
    esac
    change "remove tag $old_tag from $1 (an identity it no longer belongs to)" qvm-tags "$1" del "$old_tag"
  done
}

# feature QUBE KEY VALUE: sets a feature whose value differs or is unset.
feature() {
  visit "$1" || return 0
  had=0
  if ! is_planned "$1" && has_feature "$1" "$2" "$3"; then had=1; fi
  own_on "$1" "$had" "feature $1 $2"
  if [ "$had" = 1 ]; then
    return 0
  fi
  change "set feature $2 of $1 to '$3'" qvm-features "$1" "$2" "$3"
}

# service QUBE NAME on|off: qvm-service prints on/off, and fails when unset.
service() {
  visit "$1" || return 0
  had=0
  if ! is_planned "$1" && has_service "$1" "$2" "$3"; then had=1; fi
  own_on "$1" "$had" "service $1 $2"
  if [ "$had" = 1 ]; then
    return 0
  fi
  change "turn service $2 of $1 $3" qvm-service "$1" "$2" "$3"
}

# assign_device QUBE CLASS ID [no-strict-reset]: a persistent assignment, so
# the qube gets the device whenever it starts. R4.2: attach --persistent; R4.3:
# assign, with --required for PCI (the qube does not start without it, as
# sys-net and sys-usb need their controllers). no-strict-reset: the option
# -o no-strict-reset=True, for a PCI device that cannot be reset on its own.
assign_device() {
  assign_qube=$1 assign_class=$2 assign_id=$3
  if [ "${4:-}" = no-strict-reset ]; then set -- -o no-strict-reset=True; else set --; fi
  if [ "$qubes_release" = 4.2 ]; then
    qvm-device "$assign_class" attach --persistent "$@" "$assign_qube" "$assign_id"
  elif [ "$assign_class" = pci ]; then
    qvm-device "$assign_class" assign --required "$@" "$assign_qube" "$assign_id"
  else
    qvm-device "$assign_class" assign "$@" "$assign_qube" "$assign_id"
  fi
}

reassign_device() { unassign_device "$1" "$2" "$3" && assign_device "$@"; }

# device QUBE CLASS ID [no-strict-reset]: assigns a device that is not
# assigned yet; one assigned without an option the policy gives is assigned
# again with it (an assignment's options do not change in place).
device() {
  visit "$1" || return 0
  had=0
  if ! is_planned "$1" && has_device "$1" "$2" "$3"; then had=1; fi
  own_on "$1" "$had" "device $1 $2 $3"
  if [ "$had" = 0 ]; then
    change "assign $2 device $3 to $1${4:+ with $4}" assign_device "$@"
  elif [ "${4:-}" = no-strict-reset ] && ! has_device_option "$1" "$2" "$3" no-strict-reset=True; then
    change "assign $2 device $3 to $1 again, with no-strict-reset" reassign_device "$@"
  fi
}

replace_policy() { qubes-policy --replace "$1" < "$2"; }

# Without qubes-policy: write a dot-file beside the target (the policy daemon
# ignores names starting with a dot) and rename it into place, so the daemon
# never reads half a file.
write_policy() {
  tmp="$policy_dir/.$1.policy.qpc-new"
  cp "$2" "$tmp"
  chmod 0644 "$tmp"
  mv -f "$tmp" "$policy_dir/$1.policy"
}

# policy NAME SHA256: installs qubes/policy.d/NAME.policy unless dom0 has these bytes.
policy() {
  src="$out_dir/qubes/policy.d/$1.policy"
  dest="$policy_dir/$1.policy"
  own 0 "policy $1 $2"
  if [ -f "$dest" ] && cmp -s "$src" "$dest"; then
    return 0
  fi
  if command -v qubes-policy > /dev/null 2>&1; then
    change "install $dest with qubes-policy --replace (qubesd checks the whole policy directory first)" replace_policy "$1" "$src"
  else
    change "install $dest (renamed into place)" write_policy "$1" "$src"
  fi
}

# Commands run by the qube's shell. They take paths, modes and sha256s as
# "$1", "$2"… and contain no single quote, so they are passed single-quoted
# and no value of ours is parsed as shell code inside the qube. Beside each
# file a dot-file records the sha256 of the artifact pushed there, written
# only once the qube's reload commands succeeded (so a failed reload is
# retried by the next run): reload commands may rewrite the file in place
# (the Tor gateway's address is filled in inside the qube), so the file's own
# hash cannot tell whether the artifact changed. Tor's %include and the
# Whonix firewall skip dot-files.
# shellcheck disable=SC2016 # expanded inside the qube, not here
in_qube_read='s="${1%/*}/.${1##*/}.qpc-sha256"; if [ -f "$1" ] && [ -f "$s" ]; then m=$(stat -c %a "$1") && h=$(cat "$s") && printf "%s %s\n" "$m" "$h"; fi'
# shellcheck disable=SC2016 # expanded inside the qube, not here
in_qube_write='d=${1%/*} && mkdir -p "$d" && t="$d/.qpc-new.${1##*/}" && umask 077 && cat > "$t" && chmod "$2" "$t" && mv -f "$t" "$1"'
# shellcheck disable=SC2016 # expanded inside the qube, not here
in_qube_mark='while [ $# -gt 1 ]; do printf "%s\n" "$2" > "${1%/*}/.${1##*/}.qpc-sha256" || exit 1; shift 2; done'
# shellcheck disable=SC2016 # expanded inside the qube, not here
in_qube_remove='rm -f -- "$1" "${1%/*}/.${1##*/}.qpc-sha256"'

# qube_run LIMIT QUBE COMMAND: runs COMMAND as root in QUBE (qvm-run starts
# it) and prints at most LIMIT bytes of what it writes, every byte but
# printable ASCII and newlines shown as '?', so a compromised qube can neither
# drive dom0's terminal nor fill dom0's memory; the rest is read and dropped,
# and a command still running after qube_timeout seconds is stopped. Standard
# input is the caller's. Fails when the command fails.
qube_timeout=600
qube_run() {
  rc_file=$(mktemp) || die "cannot create a temporary file"
  {
    rc=0
    timeout -k 10 "$qube_timeout" qvm-run --pass-io --no-gui --user root "$2" "$3" 2>&1 || rc=$?
    printf '%s' "$rc" > "$rc_file"
  } | { head -c "$1"; cat > /dev/null; } | LC_ALL=C tr -c '\n -~' '?'
  rc=$(cat "$rc_file")
  rm -f "$rc_file"
  [ "$rc" = 0 ]
}

push_file() { qube_run 4096 "$1" "sh -c '$in_qube_write' sh '$2' '$3'" < "$4"; }

# push QUBE PATH MODE 'MODE SHA256' ARTIFACT: copies an artifact into a qube
# unless the qube has that file with those bytes and that mode.
push() {
  visit "$1" || return 0
  if [ "$dry_run" = 1 ] && ! qvm-check --running "$1" > /dev/null 2>&1; then
    say "would push $5 to $1:$2 unless it is there already ($1 is not running; a dry run does not start it)"
    pushed=1
    return 0
  fi
  own 0 "file $1 $2"
  have=$(qube_run 256 "$1" "sh -c '$in_qube_read' sh '$2'" < /dev/null) || die "cannot read $2 in $1"
  if [ "$have" = "$4" ]; then
    return 0
  fi
  change "push $5 to $1:$2 (mode $3)" push_file "$1" "$2" "$3" "$out_dir/$5" || die "cannot write $2 in $1"
  pushed=1
}

# reload QUBE 'COMMAND': runs a reload command as root in a qube.
reload() {
  change "run in $1: $2" qube_run 4096 "$1" "$2" < /dev/null || die "the reload command in $1 failed; the new files are in place and the next run retries it"
}

# mark QUBE PATH SHA256…: the reload commands succeeded; records in the qube
# which artifact each file holds.
mark() {
  [ "$dry_run" = 0 ] || return 0
  mark_qube=$1
  shift
  qube_run 4096 "$mark_qube" "sh -c '$in_qube_mark' sh $(printf "'%s' " "$@")" < /dev/null || die "cannot record the pushed files in $mark_qube"
}

# prune_files 'QUBE…': removes the files an earlier run pushed into these
# qubes and this one does not; sets pushed=1, so their reload commands run.
prune_files() {
  while read -r kind qube file <&3; do
    [ -n "$kind" ] || continue
    case " $1 " in
      *" $qube "*) ;;
      *) continue ;;
    esac
    case "$file" in
      /*) ;;
      *) die "$record names a file that is not an absolute path in $qube" ;;
    esac
    case "$file" in
      *[!A-Za-z0-9._@+/-]*) die "$record names a file with unsafe characters in $qube" ;;
    esac
    exists "$qube" || continue
    change "remove $qube:$file (qpc pushed it; the policy no longer has it)" qube_run 4096 "$qube" "sh -c '$in_qube_remove' sh '$file'" < /dev/null || die "cannot remove $file in $qube"
    pushed=1
  done 3<<EOF
$(stale_items file)
EOF
}

# keep_files 'QUBE…': the files an earlier run pushed into qubes this policy
# does not declare stay, and stay recorded: qpc starts no qube it does not
# configure.
keep_files() {
  while read -r kind qube file <&3; do
    [ -n "$kind" ] || continue
    case " $1 " in
      *" $qube "*) continue ;;
    esac
    exists "$qube" || continue
    own 1 "file $qube $file"
    say "left $qube:$file: qpc pushed it, but $qube is not in the policy and qpc does not start it; remove the file in $qube by hand"
  done 3<<EOF
$(stale_items file)
EOF
}
