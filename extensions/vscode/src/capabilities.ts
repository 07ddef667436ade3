/**
 * What the client tells the server it can do with edits. Approved text reaches an open scene
 * through `workspace/applyEdit`; with `documentChanges` the server names the document version it
 * planned against, so an edit planned on an older buffer is refused instead of landing in the
 * wrong place. vscode-languageclient declares both already; this makes the dependency explicit
 * and keeps it if a client version ever stops. Type imports only: unit-tested without an editor.
 */
import type { ClientCapabilities } from "vscode-languageclient";

export function declareEditCapabilities(caps: ClientCapabilities): ClientCapabilities {
  const workspace = (caps.workspace ??= {});
  workspace.applyEdit = true;
  const edit = (workspace.workspaceEdit ??= {});
  edit.documentChanges = true;
  return caps;
}
