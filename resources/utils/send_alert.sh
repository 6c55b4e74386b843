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
#   ALERTTIMESPANHOURS  default 4: at most one alert per kind in this many hours; 0 disables the throttle
# drcm 2 additions:
#   ALERTKIND           throttle key (for example node_dead): each kind has its own time file
#                       $VARdir/cm_alert.<kind>.timefile. Unset: the 1.x shared file
#                       TIMEFILE (default $VARdir/cm_alert.timefile), so one alert of any kind
#                       silences all others for 4 hours, as in 1.x.
#   ALERTRECOVERY       1: a back-to-normal notice, always sent and never throttled.
# Returns 0 when sent or throttled (a line says which), 1 when the mail program failed.

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

# Decides under a lock whether an alert of this kind may go now, and stamps the time file if so.
# Prints why an alert is held back. Returns 0 to send, 1 to hold back.
alert_throttle_allows() {
  local kind="${ALERTKIND:-}" timefile initfile now last span
  if [ "${ALERTRECOVERY:-0}" = "1" ]; then return 0; fi
  if [ -n "$kind" ]; then
    kind="${kind//[^A-Za-z0-9_.-]/_}"
    timefile="$VARdir/cm_alert.$kind.timefile"
    initfile="$VARdir/cm_alert.$kind.initfile"
  else
    timefile="${TIMEFILE:-$VARdir/cm_alert.timefile}"
    initfile="${INITFILE:-$VARdir/cm_alert.initfile}"
  fi
  span=$((ALERTTIMESPANHOURS * 3600))
  now=$(date +%s)
  mkdir -p "$VARdir" || return 0
  (
    # Two alerts at the same moment (cron and the daemon) must not both pass the check.
    flock -w 10 9 || true
    last=$(cat "$timefile" 2>/dev/null)
    case "$last" in '' | *[!0-9]*) last="" ;; esac
    if [ "$span" -gt 0 ] && [ -n "$last" ] && [ -f "$initfile" ] && [ $((now - last)) -lt "$span" ]; then
      echo "Alert not sent: last ${kind:-alert} alert was $((now - last)) seconds ago (ALERTTIMESPANHOURS=$ALERTTIMESPANHOURS)"
      exit 1
    fi
    echo "$now" >"$timefile"
    echo "$now" >"$initfile"
    exit 0
  ) 9>>"$VARdir/cm_alert.lck"
}

send_alert() {
  local subject="${1:-}" body="${2:-}" list="${3:-$EMAILLIST}" bodyfile rc=0 tmp=""
  if [ -z "$subject" ]; then
    echo "ERROR - send_alert: no subject given" >&2
    return 1
  fi
  load_alert_list "$list"
  alert_throttle_allows || return 0
  if [ -n "$body" ] && [ -f "$body" ]; then
    bodyfile="$body"
  else
    tmp=$(mktemp "${TMPDIR:-/tmp}/drcm_alert.XXXXXX") || return 1
    printf '%s\n' "$body" >"$tmp"
    bodyfile="$tmp"
  fi
  if [ "$SENDEMAIL" = "TRUE" ] && [ -n "$EMAILlist" ]; then
    "$UNIXMAILPROGRAM" -s "$subject" "$EMAILlist" <"$bodyfile" || rc=1
  fi
  if [ "$SENDTEXT" = "TRUE" ] && [ -n "$TEXTlist" ]; then
    "$UNIXMAILPROGRAM" -s "$subject" "$TEXTlist" <"$bodyfile" || rc=1
  fi
  [ -n "$tmp" ] && rm -f "$tmp"
  if [ "$rc" -eq 0 ]; then echo "Alert sent: $subject"; else echo "ERROR - $UNIXMAILPROGRAM failed for: $subject" >&2; fi
  return "$rc"
}
