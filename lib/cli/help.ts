import { BANNER } from "../version.ts";

export const HELP = `${BANNER}

Usage: drcm [options]                 run this node's cluster manager in the foreground
       drcm --check-config [options]  check the config (writes a template when it is missing)
       drcm --client [--command=CMD] [-nNODE] [-cN]
                                      console, or one command (cm_stat, rstats, ping, ...)

General options (DRCM 1.x compatible):
  --help, --version              print this text / the version and exit 0
  --config-file=PATH             config file (default /etc/drcm/cm.cfg); the directory holding it
                                 is the etc dir: DIR/.auth/authkey, relative resource paths
  --node=NAME                    act as this [CM_NODE] instead of the one matching uname -n
  --debug, --debug-level=N       debug logging (SIGUSR1/SIGUSR2 lower/raise it at run time)
  --verbose, --verbose-level=N   echo log lines to stdout
  --log-file=NAME                log file name inside log_dir (default drcm.log)
  --log-level=N                  log level
  --log-file-clear               truncate the log file at start
  --log-disable                  do not write the log file
  --no-color                     no colour (also NO_COLOR=1)

Config and keys:
  --check-config [--json]        exit 0 clean, 1 errors, 2 warnings only or template written
  --keygen [--force]             create .auth/authkey and authkey.sha1 beside the config

Console and client:
  --client                       interactive console (help, tab completion, exit/quit)
  --client --command=CMD         run one command: help, cm_stat, rstats [NODE], ping [NODE],
                                 printcfg, status --json, health, watch [--json] [--interval=D]
                                 (live cm_stat until Ctrl-C; piped: one line per cluster event),
                                 explain NICK (where it runs,
                                 why, where it goes next), standby NODE, unstandby NODE,
                                 move NICK NODE [--lifetime=D], clear NICK|--all,
                                 maintenance on|off [NODE], cleanup NICK, reload (every node; a change
                                 of a restart-only key such as log_dir is refused whole)
  -nNODE, -cN                    node for ping/rstats (nodename, hostname or IP); ping count
  Run "drcm --client --command=help" for the command list.

What-if (offline; touches nothing):
  --simulate [--from-status=FILE] [--json] EVENT ...
                                 run every node's real logic on a virtual clock from the live
                                 status (or FILE, saved with --command="status --json"), apply
                                 the events, print each step's changes and the final placement.
                                 Events: kill NODE, stop NODE, start NODE, standby NODE,
                                 unstandby NODE, "partition A,B | C", heal, "fail NICK [on NODE]",
                                 "move NICK NODE", cleanup NICK, "wait 10s"

Service life:
  --daemon --pidfile=PATH        detach from the terminal (init.d), pid written to PATH
  --install [--root=DIR] [--dry-run] [--force]
                                 write the embedded agents, utils, unit files and examples
                                 where the RPM puts them
  --import-heartbeat[=/etc/ha.d] [--config-file=OUT] [--force] [--dry-run]
                                 write a cm.cfg draft (default ./cm.cfg) from Heartbeat's
                                 ha.cf, haresources and authkeys; exit 2 when it has warnings
  demo [--netns] [--keep]        start a 3-node demo cluster and fail it over (npm start)
`;
