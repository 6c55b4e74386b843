// How long cm_stat, status and health wait for the nodes they ask. A frozen daemon (SIGSTOP, a
// hung disk, a stalled VM) accepts the connection and never replies; without a deadline the
// report waited for the slowest node's request timeout (1 s). With it the report is printed
// REPORT_DEADLINE_MS after the client started asking, with what arrived by then.

/**
 * The report deadline, from when the client starts asking (the local node and every peer at
 * once). A node that has not answered by then is reported as "no answer" (not Down: it may just
 * be slow); the others are not held back by it.
 */
export const REPORT_DEADLINE_MS = 150;

/** The health problem (WARNING) and Node Detail wording for a node that missed the deadline. */
export function noAnswerProblem(nodename: string, deadlineMs: number = REPORT_DEADLINE_MS): string {
  return `${nodename} did not answer within ${deadlineMs} ms`;
}

/**
 * When no node at all has answered by the deadline, how much longer the report waits for the first
 * answer (then it goes out at once with that one). Every node frozen costs deadline + grace; one
 * frozen node, or a frozen local node with live peers, costs only the deadline.
 */
export const NO_ANSWER_GRACE_MS = 1000;
