/**
 * The language client: finds the binary, starts `showrunner lsp`, restarts it on a crash with a
 * notice, and gives the rest of the extension typed access to the server's commands and its
 * `showrunner/runProgress` notifications.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as vscode from "vscode";
import {
  CloseAction,
  ErrorAction,
  ExecuteCommandRequest,
  LanguageClient,
  State,
  type LanguageClientOptions,
  type Middleware,
  type ServerOptions,
} from "vscode-languageclient/node";
import { declareEditCapabilities } from "./capabilities";
import { CrashPolicy } from "./crashPolicy";
import { Commands, parseRunProgress, reviewDocumentIds, RUN_PROGRESS, type RunProgress } from "./protocol";
import { findServer, INSTALL_COMMAND } from "./serverPath";

const probe = {
  isExecutable(file: string): boolean {
    try {
      const st = fs.statSync(file);
      if (!st.isFile()) return false;
      if (process.platform === "win32") return true;
      fs.accessSync(file, fs.constants.X_OK);
      return true;
    } catch {
      return false;
    }
  },
};

/** Documents the server reads: scenes, Fountain, buckets, config, workflows, agents, review documents. */
export const DOCUMENT_SELECTOR = [
  { language: "fountain" },
  { scheme: "file", pattern: "**/story/**/*.md" },
  { scheme: "file", pattern: "**/*.scene.md" },
  { scheme: "file", pattern: "**/.showrunner/runs/**/*.md" },
  { scheme: "file", pattern: "**/buckets/**/*.{yaml,yml}" },
  { scheme: "file", pattern: "**/showrunner.yaml" },
  { scheme: "file", pattern: "**/workflows/*.{yaml,yml}" },
  { scheme: "file", pattern: "**/agents/*.md" },
];

export interface ReviewRequest {
  run: string;
  step: string;
  uri: string;
}

export class Server implements vscode.Disposable {
  private client: LanguageClient | undefined;
  private readonly policy = new CrashPolicy();
  private readonly progressEmitter = new vscode.EventEmitter<RunProgress>();
  private readonly stateEmitter = new vscode.EventEmitter<boolean>();
  private readonly reviewEmitter = new vscode.EventEmitter<ReviewRequest>();
  private readonly runStartedEmitter = new vscode.EventEmitter<{ run: string; args: Record<string, unknown> }>();
  private stopping = false;

  /** Every `showrunner/runProgress` notification, validated. */
  readonly onRunProgress = this.progressEmitter.event;
  /** Fires true when the server is ready, false when it stopped. */
  readonly onDidChangeRunning = this.stateEmitter.event;
  /** A gate's review document the server asked to show (window/showDocument), when the panel handles it. */
  readonly onReviewDocument = this.reviewEmitter.event;
  /** A run started through a code action or code lens (the server's own `showrunner.pipeline.run`). */
  readonly onRunStarted = this.runStartedEmitter.event;

  constructor(
    private readonly output: vscode.LogOutputChannel,
    private readonly showContextCommand: string,
  ) {}

  get running(): boolean {
    return this.client?.state === State.Running;
  }

  async start(): Promise<boolean> {
    const config = vscode.workspace.getConfiguration("showrunner");
    const found = findServer(
      config.get<string>("serverPath"),
      { PATH: process.env.PATH, home: os.homedir(), workspaceFolder: vscode.workspace.workspaceFolders?.[0]?.uri.fsPath },
      process.platform,
      probe,
    );
    if (!found.ok) {
      this.output.error(found.message);
      void vscode.window.showErrorMessage(found.message, "Open Settings", "Copy Install Command").then((choice) => {
        if (choice === "Open Settings") void vscode.commands.executeCommand("workbench.action.openSettings", "showrunner.serverPath");
        if (choice === "Copy Install Command") void vscode.env.clipboard.writeText(INSTALL_COMMAND);
      });
      return false;
    }
    this.output.info(`starting ${found.path} (${found.source})`);
    const args = config.get<string[]>("serverArgs") ?? ["lsp"];
    const env = { ...process.env, ...(config.get<Record<string, string>>("serverEnv") ?? {}) };
    const serverOptions: ServerOptions = { command: found.path, args, options: { env } };
    const clientOptions: LanguageClientOptions = {
      documentSelector: DOCUMENT_SELECTOR,
      outputChannel: this.output,
      synchronize: {
        fileEvents: vscode.workspace.createFileSystemWatcher("**/{showrunner.yaml,buckets/**/*.{yaml,yml},story/**/*.md,*.scene.md,*.fountain,workflows/*.yaml,agents/*.md}"),
      },
      errorHandler: {
        error: (_error, _message, count) => ({ action: count !== undefined && count >= 5 ? ErrorAction.Shutdown : ErrorAction.Continue }),
        closed: () => {
          if (this.stopping) return { action: CloseAction.DoNotRestart, handled: true };
          const d = this.policy.onCrash(Date.now());
          this.stateEmitter.fire(false);
          if (d.restart) void vscode.window.showWarningMessage(d.message);
          else {
            void vscode.window.showErrorMessage(d.message, "Restart Server", "Show Log").then((c) => {
              if (c === "Restart Server") void this.restart();
              if (c === "Show Log") this.output.show();
            });
          }
          return { action: d.restart ? CloseAction.Restart : CloseAction.DoNotRestart, handled: true };
        },
      },
      middleware: this.middleware(),
    };
    const client = new LanguageClient("showrunner", "Showrunner", serverOptions, clientOptions);
    // Approved edits come as workspace/applyEdit naming the document version; the writer saves them.
    client.registerFeature({
      fillClientCapabilities: (caps) => void declareEditCapabilities(caps),
      initialize: () => undefined,
      getState: () => ({ kind: "static" }),
      clear: () => undefined,
    });
    this.client = client;
    client.onDidChangeState((e) => {
      if (e.newState === State.Running) this.stateEmitter.fire(true);
      if (e.newState === State.Stopped) this.stateEmitter.fire(false);
    });
    try {
      await client.start();
    } catch (e) {
      const msg = `The Showrunner language server (${found.path}) did not start: ${e instanceof Error ? e.message : String(e)}`;
      this.output.error(msg);
      void vscode.window.showErrorMessage(msg);
      return false;
    }
    client.onNotification(RUN_PROGRESS, (raw: unknown) => {
      const p = parseRunProgress(raw);
      if (p) this.progressEmitter.fire(p);
      else this.output.warn(`ignored a malformed ${RUN_PROGRESS}: ${JSON.stringify(raw)}`);
    });
    this.stateEmitter.fire(true);
    return true;
  }

  private middleware(): Middleware {
    return {
      // The context lens opens the Context view instead of returning JSON to nobody.
      provideCodeLenses: async (document, token, next) => {
        const lenses = await next(document, token);
        for (const lens of lenses ?? []) {
          if (lens.command?.command === Commands.contextShow) lens.command = { ...lens.command, command: this.showContextCommand };
        }
        return lenses;
      },
      executeCommand: async (command, args, next) => {
        const result: unknown = await next(command, args);
        if (command === Commands.pipelineRun && result && typeof result === "object" && "run" in result) {
          const run = result.run;
          if (typeof run === "string") this.runStartedEmitter.fire({ run, args: (args[0] ?? {}) as Record<string, unknown> });
        }
        return result;
      },
      window: {
        showDocument: async (params, token, next) => {
          const uri = vscode.Uri.parse(params.uri);
          const ids = uri.scheme === "file" ? reviewDocumentIds(uri.fsPath) : undefined;
          if (ids && vscode.workspace.getConfiguration("showrunner").get<boolean>("review.usePanel", true)) {
            this.reviewEmitter.fire({ ...ids, uri: params.uri });
            return { success: true };
          }
          return next(params, token);
        },
      },
    };
  }

  /** Runs a server command with one JSON object argument. */
  async execute<T>(command: string, args: object = {}): Promise<T> {
    if (!this.client || !this.running) throw new Error("The Showrunner language server is not running (Showrunner: Restart Server).");
    return (await this.client.sendRequest(ExecuteCommandRequest.type, { command, arguments: [args] })) as T;
  }

  async restart(): Promise<void> {
    this.policy.reset();
    await this.stop();
    await this.start();
  }

  async stop(): Promise<void> {
    const c = this.client;
    this.client = undefined;
    if (!c) return;
    this.stopping = true;
    try {
      if (c.state !== State.Stopped) await c.stop(2000);
    } catch (e) {
      this.output.warn(`stopping the server: ${e instanceof Error ? e.message : String(e)}`);
    } finally {
      this.stopping = false;
      this.stateEmitter.fire(false);
    }
  }

  dispose(): void {
    void this.stop();
    this.progressEmitter.dispose();
    this.stateEmitter.dispose();
    this.reviewEmitter.dispose();
    this.runStartedEmitter.dispose();
  }
}

/** A readable message for a failed command, naming the command when the server lacks it. */
export function commandError(command: string, e: unknown): string {
  const msg = e instanceof Error ? e.message : typeof e === "object" && e && "message" in e ? String(e.message) : String(e);
  if (/unknown command|method not found/i.test(msg)) return `This showrunner server does not offer ${command} yet; update the binary (${INSTALL_COMMAND}).`;
  return msg;
}
