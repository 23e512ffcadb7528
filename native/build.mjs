#!/usr/bin/env node
// Builds the native addon with node-gyp from local files only (g++, make, python3, Node's headers).
//
//   node native/build.mjs            (npm's "install" script) never fails: on any problem it prints
//                                    a warning and exits 0, and the pure-JS tfjs path is used.
//   node native/build.mjs --strict   (`npm run build:native`) exits 1 when the build fails.
//
// Nothing is downloaded: node-gyp gets --nodedir pointing at headers already on this machine
// (npm's `nodedir` setting, the headers installed beside the node binary, or node-gyp's cache);
// without any, the build is skipped with the reason.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const strict = process.argv.includes("--strict");
const nativeDir = path.dirname(fileURLToPath(import.meta.url));
const addon = path.join(nativeDir, "build", "Release", "llm2llm_native.node");

function giveUp(reason) {
  const message =
    `llm2llm: the native CPU kernels were not built: ${reason}\n` +
    "llm2llm: training falls back to the pure-JavaScript tfjs backend (much slower). " +
    "Install g++, make and python3 (and Node's headers), then run `npm run build:native`.";
  console.warn(message);
  process.exit(strict ? 1 : 0);
}

/** node-gyp's entry script: npm's own copy (npm tells its scripts where), a local one, or npm's bundled one. */
function findNodeGyp() {
  const candidates = [];
  if (process.env.npm_config_node_gyp) candidates.push(process.env.npm_config_node_gyp);
  try {
    candidates.push(createRequire(import.meta.url).resolve("node-gyp/bin/node-gyp.js"));
  } catch {
    // not installed locally
  }
  if (process.env.npm_execpath) {
    candidates.push(path.resolve(path.dirname(process.env.npm_execpath), "../node_modules/node-gyp/bin/node-gyp.js"));
  }
  const prefix = path.resolve(path.dirname(process.execPath), "..");
  candidates.push(path.join(prefix, "lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js"));
  candidates.push(path.join(prefix, "node_modules/npm/node_modules/node-gyp/bin/node-gyp.js")); // Windows layout
  return candidates.find((candidate) => existsSync(candidate));
}

/** A directory holding include/node/node_api.h and common.gypi for this Node version, or undefined. */
function findNodeHeaders() {
  const hasHeaders = (dir) =>
    existsSync(path.join(dir, "include/node/node_api.h")) && existsSync(path.join(dir, "include/node/common.gypi"));
  const candidates = [
    process.env.npm_config_nodedir,
    path.resolve(path.dirname(process.execPath), ".."),
    path.join(os.homedir(), ".cache/node-gyp", process.versions.node),
    path.join(os.homedir(), "Library/Caches/node-gyp", process.versions.node),
  ].filter(Boolean);
  return candidates.find(hasHeaders);
}

const nodeGyp = findNodeGyp();
if (!nodeGyp) giveUp("node-gyp was not found (it ships with npm)");
const nodedir = findNodeHeaders();
if (!nodedir) giveUp(`no local headers for Node ${process.versions.node} (looked beside ${process.execPath} and in node-gyp's cache)`);

const started = Date.now();
const jobs = String(Math.max(1, Math.min(4, os.availableParallelism?.() ?? os.cpus().length)));
const result = spawnSync(process.execPath, [nodeGyp, "rebuild", "--release", `--nodedir=${nodedir}`, `--jobs=${jobs}`], {
  cwd: nativeDir,
  stdio: ["ignore", "inherit", "inherit"],
  env: { ...process.env, npm_config_nodedir: nodedir },
});
if (result.error) giveUp(`node-gyp could not start: ${result.error.message}`);
if (result.status !== 0) giveUp(`node-gyp exited with status ${result.status} (see its output above)`);
if (!existsSync(addon)) giveUp(`node-gyp succeeded but ${path.relative(process.cwd(), addon)} is missing`);
console.log(`llm2llm: native CPU kernels built in ${((Date.now() - started) / 1000).toFixed(1)} s (${path.relative(process.cwd(), addon)})`);
