/**
 * Each running pipeline as a cancellable notification, driven by `showrunner/runProgress` — off
 * unless `showrunner.progress.notifications` is set: the review panel and the status bar already
 * show a run, and one event gets one notification.
 */
import * as vscode from "vscode";
import { Commands, FINAL_STATES, type RunProgress } from "./protocol";
import { commandError, type Server } from "./server";

interface Tracked {
  report: (message: string) => void;
  finish: () => void;
}

export class RunNotifications implements vscode.Disposable {
  private readonly runs = new Map<string, Tracked>();

  constructor(private readonly server: Server) {}

  get active(): number {
    return this.runs.size;
  }

  onProgress(p: RunProgress): void {
    const done = p.event === "done" || FINAL_STATES.includes(p.state);
    let t = this.runs.get(p.run);
    if (!t && !done && vscode.workspace.getConfiguration("showrunner").get<boolean>("progress.notifications", false)) {
      t = this.track(p.run, p.pipeline);
    }
    if (!t) return;
    if (done) {
      t.finish();
      // A failure is told once, by the review panel (ReviewPanels.tellFailure).
      this.runs.delete(p.run);
      return;
    }
    switch (p.event) {
      case "step":
        if (p.step) t.report(`${p.step}: ${p.step_state ?? ""}`);
        break;
      case "gate":
        t.report(`waiting for your review (${p.gate?.kind.replace("_", " ") ?? "gate"})`);
        break;
      case "state":
        t.report(p.state);
        break;
      case "text":
        break;
    }
  }

  private track(run: string, pipeline: string): Tracked {
    let report: (m: string) => void = () => undefined;
    let finish: () => void = () => undefined;
    const finished = new Promise<void>((resolve) => (finish = resolve));
    void vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `Showrunner: ${pipeline}`, cancellable: true },
      (progress, token) => {
        report = (message) => progress.report({ message });
        token.onCancellationRequested(() => {
          this.server.execute(Commands.runCancel, { run }).catch((e: unknown) => void vscode.window.showErrorMessage(commandError(Commands.runCancel, e)));
        });
        return finished;
      },
    );
    const t: Tracked = { report: (m) => report(m), finish: () => finish() };
    this.runs.set(run, t);
    return t;
  }

  dispose(): void {
    for (const t of this.runs.values()) t.finish();
    this.runs.clear();
  }
}
