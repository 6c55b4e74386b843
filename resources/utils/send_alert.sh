#!/bin/bash
# send_alert.sh: mail alerts with a throttle (sourced, not run).
#
#   source /etc/drcm/utils/send_alert.sh
#   send_alert SUBJECT BODY [EMAILLIST]      BODY is text or the path of a file
#
# Variables (1.x names and defaults; set them before sourcing or before the call):
#   EMAILLIST           list file, default $DRCMdir/my_cluster_conf/cm_alert_list.sh (written if missing)
#   EMAILlist           comma list of mail addresses (default root); TEXTlist: mail-to-SMS addresses
#   SENDEMAIL SENDTEXT  TRUE/FALSE (default TRUE)
#   UNIXMAILPROGRAM     default mail; called as: $UNIXMAILPROGRAM -s SUBJECT LIST < BODYFILE
#   VARdir              default $HOME/var: throttle time files
#   ALERTTIMESPANHOURS  default 4: at most one alert per problem in this many hours; 0 disables the
#                       throttle; decimals are fine (0.5 = 30 minutes); anything else: a WARNING and 4
# drcm 2 additions:
#   ALERTKIND           event kind (for example node_dead). With ALERTNODE and ALERTRESOURCE it keys
#                       the throttle: one time file per problem, $VARdir/cm_alert.<kind>.timefile, or
#                       $VARdir/cm_alert.<kind>@<node>@<resource>.timefile when either is set, so a
#                       node_dead of cmnode2 still goes out right after one of cmnode1.
#                       ALERTKIND unset: the 1.x shared file TIMEFILE (default $VARdir/cm_alert.timefile),
#                       so one alert of any kind silences all others for 4 hours, as in 1.x.
#   ALERTNODE ALERTRESOURCE  the node and resource the alert is about (optional)
#   ALERTRECOVERY       1: a back-to-normal notice: always sent, never throttled, and it resets the
#                       throttle of the problem it ends, so the same problem recurring is mailed again
#   ALERTRESETS         kinds whose throttle a recovery resets (default: ALERTKIND): only the files of
#                       the same resource (when ALERTRESOURCE is set), else of the same node (when
#                       ALERTNODE is set), else all files of those kinds.
# The throttle time is stamped only after the mail program succeeded: a failed mail is retried by the
# next alert. Returns 0 when sent or throttled (a line says which), 1 when the mail program failed
# (message on stderr).

DRCMdir="${DRCMdir:-/etc/drcm}"
EMAILLIST="${EMAILLIST:-$DRCMdir/my_cluster_conf/cm_alert_list.sh}"
VARdir="${VARdir:-${HOME:-/root}/var}"
ALERTTIMESPANHOURS="${ALERTTIMESPANHOURS:-4}"
SENDEMAIL="${SENDEMAIL:-TRUE}"
SENDTEXT="${SENDTEXT:-TRUE}"
UNIXMAILPROGRAM="${UNIXMAILPROGRAM:-mail}"

# The shipped my_cluster_conf/cm_alert_list.sh is this same text (a unit test keeps them equal).
write_alert_list_template() {
  cat >"$1" <<'TEMPLATE'
#!/bin/bash
# drcm alert lists, read by /etc/drcm/utils/send_alert.sh (watch_cluster.sh, mail_alert.sh).
#
# Set your comma delimited alert lists here:
# export EMAILlist="root,name@example.com"
# export TEXTlist="555-555-5555@mobile_domain.com"
#
# To send a text message, use the mail-to-SMS domain of the phone's carrier, for example:
#   AT&T: number@txt.att.net          T-Mobile: number@tmomail.net
#   Verizon: number@vtext.com         Sprint: number@messaging.sprintpcs.com
#   US Cellular: number@email.uscc.net
#
export EMAILlist="root"
export TEXTlist=""
TEMPLATE
}

# Loads EMAILlist/TEXTlist from the list file $1, creating the template when it is missing.
load_alert_list() {
  local list="$1"
  if [ ! -f "$list" ]; then
    if mkdir -p "$(dirname "$list")" 2>/dev/null && write_alert_list_template "$list" 2>/dev/null; then
      echo "Created alert list $list: set EMAILlist and TEXTlist there"
    else
      echo "WARNING - Cannot create alert list $list: sending to ${EMAILlist:-root}" >&2
    fi
  fi
  if [ -f "$list" ]; then
    # shellcheck disable=SC1090
    . "$list"
  fi
  EMAILlist="${EMAILlist:-root}"
  TEXTlist="${TEXTlist:-}"
}

# Prints the throttle span in whole seconds. ALERTTIMESPANHOURS may be a decimal (bash arithmetic
# cannot do 0.5 * 3600); a value that is no number of hours falls back to 4 hours with a warning,
# so the alert itself is never lost.
alert_span_seconds() {
  local hours="${ALERTTIMESPANHOURS:-4}"
  if ! [[ "$hours" =~ ^([0-9]+\.?[0-9]*|\.[0-9]+)$ ]]; then
    echo "WARNING - ALERTTIMESPANHOURS \"$hours\" is not a number of hours: using the default 4" >&2
    hours=4
  fi
  awk -v h="$hours" 'BEGIN { printf "%d\n", h * 3600 }'
}

# A key part as it appears in a file name: @ separates the parts, / and blanks cannot occur.
alert_key_part() {
  printf -v "$1" '%s' "${2//[^A-Za-z0-9_.:-]/_}"
}

# Sets ALERT_TIMEFILE, ALERT_INITFILE and ALERT_ABOUT (for messages) for the current alert.
alert_throttle_files() {
  local kind node res base
  alert_key_part kind "${ALERTKIND:-}"
  alert_key_part node "${ALERTNODE:-}"
  alert_key_part res "${ALERTRESOURCE:-}"
  if [ -z "$kind" ]; then
    ALERT_TIMEFILE="${TIMEFILE:-$VARdir/cm_alert.timefile}"
    ALERT_INITFILE="${INITFILE:-$VARdir/cm_alert.initfile}"
    ALERT_ABOUT="alert"
    return
  fi
  base="$VARdir/cm_alert.$kind"
  [ -n "$node$res" ] && base="$base@$node@$res"
  ALERT_TIMEFILE="$base.timefile"
  ALERT_INITFILE="$base.initfile"
  ALERT_ABOUT="$kind alert"
  [ -n "${ALERTNODE:-}" ] && ALERT_ABOUT="$ALERT_ABOUT for ${ALERTNODE}"
  [ -n "${ALERTRESOURCE:-}" ] && ALERT_ABOUT="$ALERT_ABOUT of ${ALERTRESOURCE}"
}

# Returns 0 when the current alert may go now, 1 (with a line saying why) to hold it back.
alert_throttle_allows() {
  local span="$1" now last
  [ "${ALERTRECOVERY:-0}" = "1" ] && return 0
  [ "$span" -gt 0 ] || return 0
  now=$(date +%s)
  last=$(cat "$ALERT_TIMEFILE" 2>/dev/null)
  case "$last" in '' | *[!0-9]*) return 0 ;; esac
  [ -f "$ALERT_INITFILE" ] || return 0
  if [ $((now - last)) -lt "$span" ]; then
    echo "Alert not sent: last $ALERT_ABOUT was $((now - last)) seconds ago (ALERTTIMESPANHOURS=$ALERTTIMESPANHOURS)"
    return 1
  fi
  return 0
}

# A recovery ends a problem: removes the time files of the ALERTRESETS kinds for the same resource,
# else the same node, else all of them (see the header).
alert_throttle_reset() {
  local kinds="${ALERTRESETS:-${ALERTKIND:-}}" k f rest fnode fres node res
  if [ -z "$kinds" ]; then
    rm -f "$ALERT_TIMEFILE" "$ALERT_INITFILE"
    return
  fi
  alert_key_part node "${ALERTNODE:-}"
  alert_key_part res "${ALERTRESOURCE:-}"
  for k in $kinds; do
    alert_key_part k "$k"
    for f in "$VARdir/cm_alert.$k.timefile" "$VARdir/cm_alert.$k@"*.timefile; do
      [ -e "$f" ] || continue
      fnode=""
      fres=""
      case "$f" in "$VARdir/cm_alert.$k@"*)
        rest="${f#"$VARdir/cm_alert.$k@"}"
        rest="${rest%.timefile}"
        fnode="${rest%%@*}"
        fres="${rest#*@}"
        ;;
      esac
      if [ -n "$res" ]; then
        [ "$fres" = "$res" ] || continue
      elif [ -n "$node" ]; then
        [ "$fnode" = "$node" ] || continue
      fi
      rm -f "$f" "${f%.timefile}.initfile"
    done
  done
}

# Runs the mail program without the throttle lock descriptor (a mailer that leaves a daemon behind
# must not keep the lock).
alert_mail() {
  local subject="$1" to="$2" bodyfile="$3"
  "$UNIXMAILPROGRAM" -s "$subject" "$to" <"$bodyfile" {ALERT_LOCKfd}>&-
}

send_alert() {
  local subject="${1:-}" body="${2:-}" list="${3:-$EMAILLIST}" bodyfile rc=0 tmp="" span
  local ALERT_TIMEFILE ALERT_INITFILE ALERT_ABOUT ALERT_LOCKfd=""
  if [ -z "$subject" ]; then
    echo "ERROR - send_alert: no subject given" >&2
    return 1
  fi
  load_alert_list "$list"
  span=$(alert_span_seconds)
  alert_throttle_files
  # The lock is held from the check to the stamp: two alerts at the same moment (cron and the
  # daemon) must not both pass the check, and the time is stamped only once the mail went out.
  if mkdir -p "$VARdir" 2>/dev/null && { exec {ALERT_LOCKfd}>>"$VARdir/cm_alert.lck"; } 2>/dev/null; then
    flock -w 10 "$ALERT_LOCKfd" || true
  else
    echo "WARNING - Cannot use the alert throttle directory $VARdir: sending without throttle" >&2
    exec {ALERT_LOCKfd}</dev/null
    span=0
  fi
  if ! alert_throttle_allows "$span"; then
    exec {ALERT_LOCKfd}>&-
    return 0
  fi
  if [ -n "$body" ] && [ -f "$body" ]; then
    bodyfile="$body"
  elif tmp=$(mktemp "${TMPDIR:-/tmp}/drcm_alert.XXXXXX"); then
    printf '%s\n' "$body" >"$tmp"
    bodyfile="$tmp"
  else
    echo "ERROR - Cannot create a temporary file for the alert body: not sent: $subject" >&2
    exec {ALERT_LOCKfd}>&-
    return 1
  fi
  if [ "$SENDEMAIL" = "TRUE" ] && [ -n "$EMAILlist" ]; then
    alert_mail "$subject" "$EMAILlist" "$bodyfile" || rc=1
  fi
  if [ "$SENDTEXT" = "TRUE" ] && [ -n "$TEXTlist" ]; then
    alert_mail "$subject" "$TEXTlist" "$bodyfile" || rc=1
  fi
  [ -n "$tmp" ] && rm -f "$tmp"
  if [ "${ALERTRECOVERY:-0}" = "1" ]; then
    # The problem is over whether or not this notice got through: its next occurrence is news.
    alert_throttle_reset
  elif [ "$rc" -eq 0 ] && [ "$span" -gt 0 ]; then
    date +%s >"$ALERT_TIMEFILE" 2>/dev/null && cp "$ALERT_TIMEFILE" "$ALERT_INITFILE" 2>/dev/null
  fi
  exec {ALERT_LOCKfd}>&-
  if [ "$rc" -eq 0 ]; then
    echo "Alert sent: $subject"
  else
    echo "ERROR - $UNIXMAILPROGRAM failed for: $subject (throttle not stamped, the next alert retries)" >&2
  fi
  return "$rc"
}
