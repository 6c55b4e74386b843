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
