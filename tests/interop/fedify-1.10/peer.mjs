// Entry point for this folder's pinned Fedify.  The peer itself lives in
// ../peer-core.mjs and is shared by all pinned versions; this file only hands
// it the packages resolved from *this* folder's node_modules.
//
//   node peer.mjs --port 8123            (see ../README.md)
import { readFileSync } from "node:fs";
import * as fedify from "@fedify/fedify";
import * as logtape from "@logtape/logtape";
import { Temporal } from "@js-temporal/polyfill";
import { runPeer } from "../peer-core.mjs";

const pkg = JSON.parse(
  readFileSync(new URL("./node_modules/@fedify/fedify/package.json", import.meta.url), "utf8"),
);

await runPeer({ fedify, logtape, Temporal, fedifyVersion: pkg.version });
