/**
 * The REPL's answer to SIGTERM, SIGHUP, and SIGINT without a terminal (with one, Node's REPL
 * handles Ctrl-C itself: twice exits): close the REPL, so that its exit handler closes the device,
 * and let that handler exit as a shell expects of a signalled command (128 + n).
 */
import type { REPLServer } from 'node:repl';

export interface SignalWatch {
  /** Stops listening; returns the signal that closed the REPL, if one did. */
  stop(): NodeJS.Signals | undefined;
}

export function closeOnSignals(server: REPLServer, interactive: boolean, enabled: boolean): SignalWatch {
  let signalled: NodeJS.Signals | undefined;
  const onSignal = (sig: NodeJS.Signals): void => {
    signalled = sig;
    server.close();
  };
  const signals: NodeJS.Signals[] = !enabled
    ? []
    : interactive
      ? ['SIGTERM', 'SIGHUP']
      : ['SIGTERM', 'SIGHUP', 'SIGINT'];
  for (const sig of signals) process.on(sig, onSignal);
  return {
    stop() {
      for (const sig of signals) process.off(sig, onSignal);
      return signalled;
    },
  };
}
