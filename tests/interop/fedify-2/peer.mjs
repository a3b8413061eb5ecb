// Entry point for this folder's pinned Fedify.  The peer itself lives in
// ../peer-core.mjs and is shared by all pinned versions; this file only hands
// it the packages resolved from *this* folder's node_modules.
//
// Fedify 2 split the Activity Vocabulary (Person, Note, Follow, isActor,
// getTypeId, PUBLIC_COLLECTION, ...) out of @fedify/fedify into the separate
// package @fedify/vocab (the @fedify/fedify/vocab shim is deprecated).  The
// core expects one namespace with everything, as Fedify 1.x exports it, so the
// two are merged here; @fedify/fedify wins on a (not expected) name clash.
//
//   node_modules/.bin/node peer.mjs --port 8125            (see ../README.md)
import { readFileSync } from "node:fs";
import * as federation from "@fedify/fedify";
import * as vocab from "@fedify/vocab";
import * as logtape from "@logtape/logtape";
import { Temporal } from "@js-temporal/polyfill";
import { runPeer } from "../peer-core.mjs";

const pkg = JSON.parse(
  readFileSync(new URL("./node_modules/@fedify/fedify/package.json", import.meta.url), "utf8"),
);

await runPeer({ fedify: { ...vocab, ...federation }, logtape, Temporal, fedifyVersion: pkg.version });
