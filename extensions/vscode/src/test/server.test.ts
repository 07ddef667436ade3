/** Finding the binary and the restart policy, without an editor. */
import { strict as assert } from "node:assert";
import * as path from "node:path";
import { describe, it } from "node:test";
import * as fs from "node:fs";
import { declareEditCapabilities } from "../capabilities";
import { CrashPolicy } from "../crashPolicy";
import { expandSetting, findServer, INSTALL_COMMAND } from "../serverPath";
import { EXTENSION_ROOT } from "./tm";

const files = (...paths: string[]) => ({ isExecutable: (f: string) => paths.includes(f) });

describe("findServer", () => {
  it("uses the setting when it points at an executable", () => {
    const r = findServer("/opt/sr/showrunner", { PATH: "/usr/bin" }, "linux", files("/opt/sr/showrunner", "/usr/bin/showrunner"));
    assert.deepEqual(r, { ok: true, path: "/opt/sr/showrunner", source: "setting" });
  });

  it("a wrong setting is an error naming it, not a silent fall back to PATH", () => {
    const r = findServer("/nope/showrunner", { PATH: "/usr/bin" }, "linux", files("/usr/bin/showrunner"));
    assert.equal(r.ok, false);
    assert.match(r.ok ? "" : r.message, /\/nope\/showrunner/);
  });

  it("searches PATH in order, skipping empty entries", () => {
    const r = findServer("", { PATH: ":/a:/b:/c" }, "linux", files("/b/showrunner", "/c/showrunner"));
    assert.deepEqual(r, { ok: true, path: "/b/showrunner", source: "PATH" });
  });

  it("on Windows looks for showrunner.exe with ; separators", () => {
    const exe = path.join("C:\\tools", "showrunner.exe");
    const r = findServer(undefined, { PATH: "C:\\x;C:\\tools" }, "win32", files(exe));
    assert.deepEqual(r, { ok: true, path: exe, source: "PATH" });
  });

  it("not found: the message gives the install command", () => {
    const r = findServer(undefined, { PATH: "/usr/bin" }, "linux", files());
    assert.equal(r.ok, false);
    assert.ok(!r.ok && r.message.includes(INSTALL_COMMAND));
    assert.equal(INSTALL_COMMAND, "cargo install --path server/cli");
  });

  it("expands ~ and ${workspaceFolder}", () => {
    assert.equal(expandSetting("~/bin/showrunner", { home: "/home/zoë" }), path.join("/home/zoë", "/bin/showrunner"));
    assert.equal(expandSetting("${workspaceFolder}/target/release/showrunner", { workspaceFolder: "/w" }), "/w/target/release/showrunner");
    assert.equal(expandSetting(" /abs ", {}), "/abs");
  });
});

describe("CrashPolicy", () => {
  it("restarts with a numbered notice up to the limit, then stops", () => {
    const p = new CrashPolicy(3, 60_000);
    assert.deepEqual(
      [0, 1000, 2000].map((t) => p.onCrash(t).restart),
      [true, true, true],
    );
    assert.match(p.onCrash(2500).message, /crashed 4 times in 1 minute and was not restarted/);
    assert.equal(p.onCrash(3000).restart, false);
  });

  it("forgets crashes older than the window", () => {
    const p = new CrashPolicy(2, 10_000);
    p.onCrash(0);
    p.onCrash(1);
    assert.equal(p.onCrash(2).restart, false);
    const later = p.onCrash(20_000);
    assert.equal(later.restart, true);
    assert.match(later.message, /restarting it \(1\/2\)/);
  });

  it("reset clears the count (a manual restart)", () => {
    const p = new CrashPolicy(1, 10_000);
    p.onCrash(0);
    assert.equal(p.onCrash(1).restart, false);
    p.reset();
    assert.equal(p.onCrash(2).restart, true);
  });
});

describe("approved edits", () => {
  it("the client declares workspace/applyEdit with documentChanges (the server then names the document version)", () => {
    assert.deepEqual(declareEditCapabilities({}), { workspace: { applyEdit: true, workspaceEdit: { documentChanges: true } } });
    const caps = declareEditCapabilities({ workspace: { workspaceEdit: { documentChanges: false, failureHandling: "abort" } } });
    assert.deepEqual(caps.workspace?.workspaceEdit, { documentChanges: true, failureHandling: "abort" });
    // vscode-languageclient declares it too; the extension registers the feature in server.ts.
    const client = fs.readFileSync(path.join(EXTENSION_ROOT, "node_modules", "vscode-languageclient", "lib", "common", "client.js"), "utf8");
    assert.match(client, /workspaceEdit\.documentChanges = true/);
    assert.match(fs.readFileSync(path.join(EXTENSION_ROOT, "src", "server.ts"), "utf8"), /fillClientCapabilities: \(caps\) => void declareEditCapabilities\(caps\)/);
  });

  it("nothing in the extension saves a document: the writer saves, and the server records the edit then", () => {
    const src = path.join(EXTENSION_ROOT, "src");
    for (const file of fs.readdirSync(src).filter((f) => f.endsWith(".ts"))) {
      const text = fs.readFileSync(path.join(src, file), "utf8");
      assert.ok(!/\.save\(|saveAll\(|workbench\.action\.files\.save/.test(text), `${file} saves a document`);
    }
  });
});
