// Loopback ActivityPub peer built on Fedify, shared by every pinned Fedify
// version under tests/interop/fedify-*/.  Each version folder has a tiny
// `peer.mjs` that imports *its own* copy of Fedify and LogTape and calls
// `runPeer()` below, so this file never resolves a bare package name itself.
//
// The peer serves one actor, `peer`, on http://127.0.0.1:PORT and a small JSON
// control API under /control/* that the Python tests use to drive it.
//
// Everything stays on the loopback interface: the global fetch() is wrapped so
// that any request to a non-loopback host is refused (and recorded), which
// also makes unexpected network access (e.g. a JSON-LD context that Fedify
// does not preload) visible in /control/log instead of silently hanging.

import http from "node:http";
import { AsyncLocalStorage } from "node:async_hooks";
import { randomUUID } from "node:crypto";

const RING = 4000; // max records kept per log list

const LOOPBACK_HOSTS = new Set(["127.0.0.1", "localhost", "[::1]", "::1"]);
const CAVAGE = "draft-cavage-http-signatures-12";
const RFC9421 = "rfc9421";

const ACTOR_TYPES = ["Person", "Group"];

function parseArgs(argv) {
  const args = { port: 0, host: "127.0.0.1", name: "Fedify peer", username: "peer", firstKnock: null, actorType: "Person" };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => {
      if (i + 1 >= argv.length) throw new Error(`missing value for ${a}`);
      return argv[++i];
    };
    if (a === "--port") args.port = Number(next());
    else if (a === "--host") args.host = next();
    else if (a === "--name") args.name = next();
    else if (a === "--username") args.username = next();
    else if (a === "--first-knock") args.firstKnock = next();
    else if (a === "--actor-type") args.actorType = next();
    else if (a === "--help" || a === "-h") {
      console.log(
        "usage: node peer.mjs --port PORT [--host 127.0.0.1] [--name NAME] [--username peer]\n" +
          `       [--first-knock ${RFC9421}|${CAVAGE}] (Fedify >= 1.7) [--actor-type ${ACTOR_TYPES.join("|")}]`,
      );
      process.exit(0);
    } else throw new Error(`unknown argument: ${a}`);
  }
  if (!Number.isInteger(args.port) || args.port <= 0) {
    throw new Error("--port PORT is required (a free TCP port)");
  }
  if (!LOOPBACK_HOSTS.has(args.host)) throw new Error("--host must be a loopback address");
  if (args.firstKnock != null && args.firstKnock !== RFC9421 && args.firstKnock !== CAVAGE) {
    throw new Error(`--first-knock must be ${RFC9421} or ${CAVAGE}`);
  }
  if (!ACTOR_TYPES.includes(args.actorType)) throw new Error(`--actor-type must be one of ${ACTOR_TYPES.join(", ")}`);
  return args;
}

function versionAtLeast(version, major, minor) {
  const [ma, mi] = version.split(".").map((x) => parseInt(x, 10));
  return ma > major || (ma === major && mi >= minor);
}

function push(list, item) {
  list.push(item);
  if (list.length > RING) list.splice(0, list.length - RING);
}

/** JSON.stringify that never throws and keeps Errors/URLs/Headers readable. */
function safeJson(value, limit = 4000) {
  const seen = new WeakSet();
  let text;
  try {
    text = JSON.stringify(value, (_k, v) => {
      if (v instanceof Error) return { error: v.name, message: v.message };
      if (v instanceof URL) return v.href;
      if (typeof Headers !== "undefined" && v instanceof Headers) return Object.fromEntries(v.entries());
      if (typeof v === "bigint") return v.toString();
      if (typeof v === "object" && v !== null) {
        if (seen.has(v)) return "[circular]";
        seen.add(v);
      }
      return v;
    });
  } catch (e) {
    text = JSON.stringify(String(value));
  }
  if (text === undefined) text = "null";
  return text.length > limit ? text.slice(0, limit) + "…" : text;
}

function plain(value) {
  try {
    return JSON.parse(safeJson(value, 20000));
  } catch {
    return String(value);
  }
}

function renderMessage(parts) {
  // LogTape records carry the message as [text, value, text, value, ...].
  if (!Array.isArray(parts)) return String(parts);
  return parts
    .map((p, i) => {
      if (i % 2 === 0) return String(p);
      if (typeof p === "string") return p;
      if (p instanceof Error) return `${p.name}: ${p.message}`;
      return safeJson(p, 1500);
    })
    .join("");
}

/** Which HTTP signature headers does a request carry? (no verification) */
function signatureInfo(headers) {
  const input = headers.get("signature-input");
  const sig = headers.get("signature");
  if (input != null) {
    const keyId = /keyid="([^"]*)"/.exec(input)?.[1] ?? null;
    const alg = /alg="([^"]*)"/.exec(input)?.[1] ?? null;
    const components = /\(([^)]*)\)/.exec(input)?.[1]?.replace(/"/g, "").split(/\s+/).filter(Boolean) ?? [];
    return { scheme: RFC9421, key_id: keyId, algorithm: alg, covered: components };
  }
  if (sig != null) {
    const field = (name) => new RegExp(`(?:^|,)\\s*${name}="([^"]*)"`).exec(sig)?.[1] ?? null;
    const covered = field("headers");
    return {
      scheme: CAVAGE,
      key_id: field("keyId"),
      algorithm: field("algorithm"),
      covered: covered == null ? [] : covered.split(/\s+/).filter(Boolean),
    };
  }
  return null;
}

function isLoopbackUrl(url) {
  try {
    const u = new URL(url);
    return LOOPBACK_HOSTS.has(u.hostname) && (u.protocol === "http:" || u.protocol === "https:");
  } catch {
    return false;
  }
}

function typeName(json) {
  if (json == null) return null;
  const t = json.type ?? json["@type"];
  return Array.isArray(t) ? t.join(",") : t ?? null;
}

function idOf(v) {
  if (v == null) return null;
  if (typeof v === "string") return v;
  if (typeof v === "object") return v.id ?? v["@id"] ?? v.href ?? null;
  return null;
}

function ids(v) {
  if (v == null) return [];
  return (Array.isArray(v) ? v : [v]).map(idOf).filter((x) => x != null);
}

/** Summary of an activity's `object` as it appeared on the wire. */
function summarizeObject(obj) {
  if (obj == null) return null;
  if (typeof obj === "string") return { id: obj };
  if (typeof obj !== "object") return { value: obj };
  const out = { type: typeName(obj), id: idOf(obj) };
  for (const k of ["content", "name", "summary", "url", "published", "mediaType"]) {
    if (obj[k] !== undefined) out[k] = obj[k];
  }
  if (obj.inReplyTo !== undefined) out.inReplyTo = idOf(obj.inReplyTo);
  if (obj.attributedTo !== undefined) out.attributedTo = idOf(obj.attributedTo);
  if (obj.actor !== undefined) out.actor = idOf(obj.actor);
  if (obj.object !== undefined) out.object = typeof obj.object === "object" ? summarizeObject(obj.object) : obj.object;
  if (obj.to !== undefined) out.to = ids(obj.to);
  if (obj.cc !== undefined) out.cc = ids(obj.cc);
  return out;
}

// `fedify` is one namespace with the federation API *and* the Activity
// Vocabulary: Fedify 1.x exports both from @fedify/fedify; for Fedify 2, which
// moved the vocabulary into @fedify/vocab, fedify-2/peer.mjs merges the two.
export async function runPeer({ fedify, logtape, Temporal, fedifyVersion, argv = process.argv.slice(2) }) {
  const args = parseArgs(argv);
  const {
    Accept,
    Activity,
    Announce,
    Create,
    CryptographicKey,
    Endpoints,
    Follow,
    Group,
    Mention,
    MemoryKvStore,
    Note,
    Person,
    PUBLIC_COLLECTION,
    Reject,
    Undo,
    createFederation,
    fetchKey,
    generateCryptoKeyPair,
    verifyRequest,
    // Fedify >= 2.1 only: like verifyRequest() but says why it failed.
    verifyRequestDetailed,
    getTypeId,
    isActor,
  } = fedify;

  const origin = `http://${args.host}:${args.port}`;
  const handleHost = `${args.host}:${args.port}`;
  // Fedify >= 1.6 signs with RFC 9421 first and falls back to draft-cavage
  // after a 4xx ("double knock"); older versions only know draft-cavage.
  const rfc9421Capable = versionAtLeast(fedifyVersion, 1, 6);
  // Fedify >= 1.7 lets the first knock be chosen (createFederation's
  // `firstKnock`, default "rfc9421", unchanged in 2.x).  The peer always sets
  // it explicitly on those versions, so a changed default cannot slip in.
  const firstKnockConfigurable = versionAtLeast(fedifyVersion, 1, 7);
  if (args.firstKnock != null && !firstKnockConfigurable) {
    throw new Error(`--first-knock needs Fedify >= 1.7 (this is ${fedifyVersion})`);
  }
  const firstKnock = rfc9421Capable ? args.firstKnock ?? RFC9421 : CAVAGE;
  const ActorClass = args.actorType === "Group" ? Group : Person;
  const username = args.username;

  // ----------------------------------------------------------- state & logs
  const als = new AsyncLocalStorage(); // per inbound HTTP request info
  const records = []; // every Fedify log record (debug and up)
  const errors = []; // warnings/errors from Fedify + inbox/outbox error hooks
  const requests = []; // inbound HTTP requests (non-control)
  const outgoing = []; // outbound fetches (deliveries and lookups)
  const blocked = []; // refused non-loopback fetches
  const inbox = []; // activities that reached an inbox listener (= verified)
  const sent = []; // activities this peer sent via the control API
  const followers = new Map(); // actor id -> {id, inbox, sharedInbox, follow_id}
  const following = new Map(); // actor id -> {actor, actor_type, follow_id, state, follow}
  const notes = new Map(); // note local id -> Note
  const creates = new Map(); // note local id -> its Create (dereferenceable, e.g. for a Group's Announce)
  const activities = new Map(); // activity local id -> Activity (Follow etc.)
  const announceRecipients = new Map(); // Announce id -> its recipients (for the Undo)
  let seq = 0;

  // ------------------------------------------------------------- logging
  const memorySink = (record) => {
    const store = als.getStore();
    const entry = {
      seq: ++seq,
      time: new Date(record.timestamp).toISOString(),
      level: record.level,
      category: record.category.join("."),
      message: renderMessage(record.message),
      request: store?.rid ?? null,
    };
    push(records, entry);
    if (record.level === "warning" || record.level === "error" || record.level === "fatal") {
      push(errors, { ...entry, source: "fedify-log", properties: plain(record.properties) });
    }
    if (store != null) {
      store.logs.push(entry);
      const text = entry.message;
      if (text.startsWith("HTTP Signatures are verified")) store.verifiedBy = "http-signatures";
      else if (text.startsWith("Linked Data Signatures are verified")) store.verifiedBy = "ld-signatures";
      else if (text.startsWith("Object Integrity Proofs are verified")) store.verifiedBy = "object-integrity-proofs";
    }
  };
  const stderrSink = (record) => {
    process.stderr.write(`[${record.level}] ${record.category.join(".")}: ${renderMessage(record.message)}\n`);
  };
  await logtape.configure({
    reset: true,
    contextLocalStorage: new AsyncLocalStorage(),
    sinks: { memory: memorySink, stderr: stderrSink },
    loggers: [
      { category: "fedify", lowestLevel: "debug", sinks: ["memory"] },
      { category: ["logtape", "meta"], lowestLevel: "warning", sinks: ["stderr"] },
    ],
  });

  // ------------------------------------------------- loopback-only fetch()
  const realFetch = globalThis.fetch;
  globalThis.fetch = async function loopbackFetch(input, init) {
    const url = typeof input === "string" ? input : input instanceof URL ? input.href : input.url;
    const method = (init?.method ?? (input instanceof Request ? input.method : "GET")).toUpperCase();
    const headers = new Headers(init?.headers ?? (input instanceof Request ? input.headers : undefined));
    const entry = {
      seq: ++seq,
      time: new Date().toISOString(),
      method,
      url,
      accept: headers.get("accept"),
      content_type: headers.get("content-type"),
      signature: signatureInfo(headers),
      status: null,
    };
    if (!isLoopbackUrl(url)) {
      entry.status = "blocked";
      push(blocked, entry);
      push(outgoing, entry);
      push(errors, { ...entry, source: "blocked-fetch", message: `refused non-loopback fetch: ${method} ${url}` });
      throw new TypeError(`interop peer: refusing non-loopback fetch to ${url}`);
    }
    if (method === "POST" && input instanceof Request && init?.body === undefined) {
      try {
        const body = JSON.parse(await input.clone().text());
        entry.activity = { type: typeName(body), id: idOf(body) };
      } catch {
        /* not JSON */
      }
    }
    try {
      const res = await realFetch(input, init);
      entry.status = res.status;
      return res;
    } catch (e) {
      entry.status = "error";
      entry.error = String(e?.cause ?? e);
      throw e;
    } finally {
      push(outgoing, entry);
    }
  };

  // ------------------------------------------------------------ federation
  const kv = new MemoryKvStore();
  const federation = createFederation({
    kv,
    origin,
    allowPrivateAddress: true,
    ...(firstKnockConfigurable ? { firstKnock } : {}),
    // No queue: deliveries happen during the control call, so the control
    // API can report the delivery result synchronously.
    onOutboxError: (error, activity) => {
      push(errors, {
        seq: ++seq,
        time: new Date().toISOString(),
        source: "outbox",
        message: String(error),
        activity: activity?.id?.href ?? null,
      });
    },
  });

  const keyPairs = [
    await generateCryptoKeyPair("RSASSA-PKCS1-v1_5"),
    await generateCryptoKeyPair("Ed25519"),
  ];

  const ctxFor = () => federation.createContext(new URL(origin), undefined);

  federation
    .setActorDispatcher("/users/{identifier}", async (ctx, identifier) => {
      if (identifier !== username) return null;
      const keys = await ctx.getActorKeyPairs(identifier);
      return new ActorClass({
        id: ctx.getActorUri(identifier),
        preferredUsername: identifier,
        name: args.name,
        summary: `Loopback interop peer running Fedify ${fedifyVersion}`,
        url: ctx.getActorUri(identifier),
        inbox: ctx.getInboxUri(identifier),
        endpoints: new Endpoints({ sharedInbox: ctx.getInboxUri() }),
        followers: ctx.getFollowersUri(identifier),
        manuallyApprovesFollowers: false,
        discoverable: true,
        publicKey: keys[0].cryptographicKey,
        assertionMethods: keys.map((k) => k.multikey),
      });
    })
    .setKeyPairsDispatcher(async (_ctx, identifier) => (identifier === username ? keyPairs : []))
    .mapHandle(async (_ctx, name) => (name === username ? username : null));

  federation
    .setFollowersDispatcher("/users/{identifier}/followers", async (_ctx, identifier) => {
      if (identifier !== username) return null;
      return { items: [...followers.values()].map(toRecipient) };
    })
    .setCounter(async (_ctx, identifier) => (identifier === username ? followers.size : null));

  federation.setObjectDispatcher(Note, "/notes/{id}", async (_ctx, values) => notes.get(values.id) ?? null);
  federation.setObjectDispatcher(Create, "/notes/{id}/activity", async (_ctx, values) => creates.get(values.id) ?? null);
  federation.setObjectDispatcher(Follow, "/follows/{id}", async (_ctx, values) => activities.get(values.id) ?? null);
  federation.setObjectDispatcher(Announce, "/announces/{id}", async (_ctx, values) => activities.get(values.id) ?? null);

  function toRecipient(f) {
    return {
      id: new URL(f.id),
      inboxId: new URL(f.inbox),
      endpoints: f.sharedInbox == null ? null : { sharedInbox: new URL(f.sharedInbox) },
    };
  }

  const actorUri = () => new URL(`${origin}/users/${username}`);
  const followersUri = () => new URL(`${origin}/users/${username}/followers`);

  /** Record an activity that reached an inbox listener, i.e. Fedify verified it. */
  async function record(ctx, activity) {
    const store = als.getStore();
    const raw = store?.json ?? null;
    const entry = {
      seq: ++seq,
      received_at: new Date().toISOString(),
      type: typeName(raw),
      id: activity.id?.href ?? idOf(raw),
      actor: activity.actorId?.href ?? idOf(raw?.actor),
      object: summarizeObject(raw?.object),
      inbox: store?.path ?? null,
      content_type: store?.contentType ?? null,
      verified_by: store?.verifiedBy ?? null,
      signature: null,
      ld_signature: raw != null && raw.signature != null,
      object_integrity_proof: raw != null && raw.proof != null,
      raw,
    };
    const sig = store?.signature ?? null;
    if (sig != null) {
      // Which scheme Fedify verified: 1.6+ verifies RFC 9421 whenever a
      // Signature-Input header is present, older versions only know cavage.
      const verifiedScheme = sig.scheme === RFC9421 && rfc9421Capable ? RFC9421 : CAVAGE;
      entry.signature = { ...sig, verified_scheme: entry.verified_by === "http-signatures" ? verifiedScheme : null };
    }
    entry.http_signature = store?.http_signature ?? null;
    entry.scheme = entry.http_signature?.verified ? entry.http_signature.scheme : entry.signature?.verified_scheme ?? null;
    // What Fedify itself parsed out of a Create's or an Announce's object.
    // Announce: the object is dereferenced (or, if embedded, taken from the
    // wire, subject to Fedify's own origin checks); when it is an activity
    // itself (a Group announcing a member's Create, FEP-1b12), its object is
    // parsed too, as `object_parsed.object`.
    if (activity instanceof Create || activity instanceof Announce) {
      try {
        const obj = await activity.getObject({ documentLoader: ctx.documentLoader, contextLoader: ctx.contextLoader });
        if (obj != null) entry.object_parsed = await describeParsed(ctx, obj, 1);
      } catch (e) {
        entry.object_parse_error = String(e);
      }
    }
    push(inbox, entry);
    return entry;
  }

  /** The fields of a Fedify vocabulary object that the tests look at. */
  async function describeParsed(ctx, obj, depth) {
    const out = {
      type: getTypeId(obj)?.href?.replace(/^.*[#/]/, "") ?? null,
      id: obj.id?.href ?? null,
      content: obj.content?.toString() ?? null,
      inReplyTo: obj.replyTargetId?.href ?? null,
      attributedTo: obj.attributionId?.href ?? null,
      to: obj.toIds.map((u) => u.href),
      cc: obj.ccIds.map((u) => u.href),
    };
    if (obj instanceof Activity) {
      out.actor = obj.actorId?.href ?? null;
      if (depth > 0) {
        try {
          const inner = await obj.getObject({ documentLoader: ctx.documentLoader, contextLoader: ctx.contextLoader });
          out.object = inner == null ? null : await describeParsed(ctx, inner, depth - 1);
        } catch (e) {
          out.object_parse_error = String(e);
        }
      } else {
        out.object = obj.objectId == null ? null : { id: obj.objectId.href };
      }
    }
    return out;
  }

  /**
   * Verify the HTTP signature of an inbox request with Fedify's own
   * verifyRequest(), independently of how Fedify's inbox authenticated the
   * activity (it skips HTTP signatures when a Linked Data signature or an
   * Object Integrity Proof verifies first).
   */
  async function verifyHttpSignature(makeRequest, sig) {
    if (sig == null) return { verified: false, reason: "no signature headers" };
    const ctx = ctxFor();
    const before = records.length ? records[records.length - 1].seq : 0;
    try {
      const opts = { documentLoader: ctx.documentLoader, contextLoader: ctx.contextLoader };
      let key;
      let failure = null;
      if (typeof verifyRequestDetailed === "function") {
        // Fedify >= 2.1: same verification, plus a structured failure reason.
        const detailed = await verifyRequestDetailed(makeRequest(), opts);
        key = detailed.verified ? detailed.key : null;
        if (!detailed.verified) failure = plain(detailed.reason);
      } else {
        key = await verifyRequest(makeRequest(), opts);
      }
      const out = {
        verified: key != null,
        scheme: sig.scheme === RFC9421 && rfc9421Capable ? RFC9421 : CAVAGE,
        key_id: key?.id?.href ?? sig.key_id,
        key_owner: key?.ownerId?.href ?? null,
      };
      if (failure != null) out.failure = failure;
      if (key == null) {
        out.reason = records
          .filter((r) => r.seq > before && r.category.startsWith("fedify.sig"))
          .map((r) => r.message)
          .join(" | ");
      }
      return out;
    } catch (e) {
      return { verified: false, scheme: sig.scheme, key_id: sig.key_id, reason: String(e) };
    }
  }

  function background(label, promise) {
    promise.then(
      () => push(sent, { seq: ++seq, time: new Date().toISOString(), label, ok: true }),
      (e) => {
        push(sent, { seq: ++seq, time: new Date().toISOString(), label, ok: false, error: String(e) });
        push(errors, { seq: ++seq, time: new Date().toISOString(), source: "send", message: `${label}: ${e}` });
      },
    );
  }

  const listeners = federation.setInboxListeners("/users/{identifier}/inbox", "/inbox");
  // Deduplicate incoming activity ids per receiving server, on every version.
  // Fedify 1.9/1.10 warn unless a strategy is explicit (their default was
  // "per-origin"); Fedify 2.0 changed the default to "per-inbox".  Older
  // versions have no withIdempotency() and always dedupe per origin.
  if (typeof listeners.withIdempotency === "function") listeners.withIdempotency("per-origin");
  listeners
    .on(Follow, async (ctx, follow) => {
      const entry = await record(ctx, follow);
      if (follow.objectId?.href !== actorUri().href) {
        entry.note = "Follow not addressed to this peer's actor; ignored";
        return;
      }
      const follower = await follow.getActor({ documentLoader: ctx.documentLoader, contextLoader: ctx.contextLoader });
      if (follower == null || follower.id == null || follower.inboxId == null) {
        entry.note = "could not resolve the follower actor";
        push(errors, { seq: ++seq, time: new Date().toISOString(), source: "inbox", message: `Follow ${follow.id?.href}: follower actor not resolvable` });
        return;
      }
      followers.set(follower.id.href, {
        id: follower.id.href,
        inbox: follower.inboxId.href,
        sharedInbox: follower.endpoints?.sharedInbox?.href ?? null,
        follow_id: follow.id?.href ?? null,
      });
      const accept = new Accept({
        id: new URL(`${origin}/activities/${randomUUID()}`),
        actor: actorUri(),
        object: follow,
        to: follower.id,
      });
      entry.accept_id = accept.id.href;
      // Reply after the inbox request has been answered, so that the sender's
      // delivery does not have to wait for our Accept delivery.
      setImmediate(() =>
        als.exit(() => background(`Accept ${follow.id?.href}`, ctx.sendActivity({ identifier: username }, follower, accept))),
      );
    })
    .on(Undo, async (ctx, undo) => {
      const entry = await record(ctx, undo);
      const obj = entry.raw?.object;
      const followId = idOf(obj);
      for (const [id, f] of followers) {
        if ((followId != null && f.follow_id === followId) || (typeName(obj) === "Follow" && id === undo.actorId?.href)) {
          followers.delete(id);
          entry.note = `removed follower ${id}`;
        }
      }
      // Undo(Announce): flag the Announce entry (same actor) as undone.
      for (const a of inbox) {
        if (a.type === "Announce" && followId != null && a.id === followId && a.actor === undo.actorId?.href) {
          a.undone_by = undo.id?.href ?? entry.id;
          entry.note = `undid Announce ${a.id}`;
        }
      }
    })
    .on(Accept, async (ctx, accept) => {
      const entry = await record(ctx, accept);
      const obj = entry.raw?.object;
      const objId = idOf(obj);
      for (const f of following.values()) {
        const matchesId = objId != null && objId === f.follow_id;
        const matchesEmbedded =
          typeof obj === "object" && obj != null && idOf(obj.actor) === actorUri().href && idOf(obj.object) === f.actor;
        if ((matchesId || matchesEmbedded || accept.actorId?.href === f.actor) && f.state === "pending") {
          f.state = "accepted";
          f.accept_id = accept.id?.href ?? null;
          entry.note = `follow of ${f.actor} accepted`;
        }
      }
    })
    .on(Reject, async (ctx, reject) => {
      const entry = await record(ctx, reject);
      for (const f of following.values()) {
        if (reject.actorId?.href === f.actor) {
          f.state = "rejected";
          entry.note = `follow of ${f.actor} rejected`;
        }
      }
    })
    .on(Create, async (ctx, create) => {
      await record(ctx, create);
    })
    .on(Announce, async (ctx, announce) => {
      // E.g. a Group (fediverse-a2's @netwerk) boosting a member's post to
      // its followers.  Listed on /control/inbox like every activity and, for
      // convenience, on GET /control/announces.
      const entry = await record(ctx, announce);
      entry.announced = {
        object_id: entry.object_parsed?.id ?? entry.object?.id ?? null,
        object_type: entry.object_parsed?.type ?? entry.object?.type ?? null,
        // The Note reached through the Announce, directly or via an announced Create.
        note: entry.object_parsed?.type === "Note" ? entry.object_parsed : entry.object_parsed?.object ?? null,
      };
    })
    .on(Activity, async (ctx, activity) => {
      await record(ctx, activity);
    })
    .onError(async (_ctx, error) => {
      const store = als.getStore();
      push(errors, {
        seq: ++seq,
        time: new Date().toISOString(),
        source: "inbox-listener",
        message: String(error),
        stack: error?.stack ?? null,
        activity: store?.json ? { type: typeName(store.json), id: idOf(store.json) } : null,
      });
    });

  // ---------------------------------------------------------- control API
  async function resolveHandle(handle) {
    // Fedify's own WebFinger client always uses https for acct: URIs, which
    // cannot work on a plain-http loopback server; resolve over http here.
    const m = /^(?:acct:)?@?([^@]+)@([^@]+)$/.exec(handle);
    if (m == null) return null;
    const wf = `http://${m[2]}/.well-known/webfinger?resource=${encodeURIComponent(`acct:${m[1]}@${m[2]}`)}`;
    const res = await fetch(wf, { headers: { Accept: "application/jrd+json" } });
    if (!res.ok) throw new Error(`WebFinger ${wf} answered ${res.status}`);
    const jrd = await res.json();
    const self = (jrd.links ?? []).find(
      (l) => l.rel === "self" && /application\/(activity\+json|ld\+json)/.test(l.type ?? ""),
    );
    if (self?.href == null) throw new Error(`WebFinger ${wf} has no rel=self ActivityPub link`);
    return { subject: jrd.subject ?? null, href: self.href };
  }

  async function lookup(target) {
    const ctx = ctxFor();
    let url = target;
    let webfinger = null;
    if (!/^https?:\/\//.test(target)) {
      webfinger = await resolveHandle(target);
      if (webfinger == null) throw new Error(`not a URL or acct handle: ${target}`);
      url = webfinger.href;
    }
    const obj = await ctx.lookupObject(url);
    return { ctx, obj, url, webfinger };
  }

  async function describeActorKeys(ctx, actor) {
    const opts = { documentLoader: ctx.documentLoader, contextLoader: ctx.contextLoader };
    const out = { public_keys: [], assertion_methods: [], key_usable: false, problems: [] };
    for await (const key of actor.getPublicKeys(opts)) {
      const info = {
        id: key.id?.href ?? null,
        owner: key.ownerId?.href ?? null,
        algorithm: key.publicKey?.algorithm?.name ?? null,
      };
      if (key.id != null) {
        // The exact path Fedify uses when it verifies an HTTP signature with
        // this keyId: dereference the key id and import the key.
        try {
          const fetched = await fetchKey(key.id, CryptographicKey, opts);
          info.fetch_key_ok = fetched.key != null;
          info.fetched_owner = fetched.key?.ownerId?.href ?? null;
          info.fetched_algorithm = fetched.key?.publicKey?.algorithm?.name ?? null;
        } catch (e) {
          info.fetch_key_ok = false;
          info.fetch_key_error = String(e);
        }
      }
      info.usable =
        info.fetch_key_ok === true &&
        info.fetched_algorithm === "RSASSA-PKCS1-v1_5" &&
        info.fetched_owner === actor.id?.href;
      if (!info.usable) out.problems.push(`publicKey ${info.id}: not usable for HTTP signatures (${safeJson(info, 500)})`);
      out.public_keys.push(info);
    }
    try {
      for await (const m of actor.getAssertionMethods(opts)) {
        out.assertion_methods.push({
          id: m.id?.href ?? null,
          controller: m.controllerId?.href ?? null,
          algorithm: m.publicKey?.algorithm?.name ?? null,
        });
      }
    } catch (e) {
      out.problems.push(`assertionMethod: ${e}`);
    }
    if (out.public_keys.length === 0) out.problems.push("actor has no publicKey");
    out.key_usable = out.public_keys.some((k) => k.usable);
    return out;
  }

  async function compact(ctx, obj) {
    return await obj.toJsonLd({ format: "compact", contextLoader: ctx.contextLoader });
  }

  async function resolveActor(target) {
    const { ctx, obj } = await lookup(target);
    if (obj == null) throw new Error(`Fedify lookupObject(${target}) returned null; see /control/log`);
    if (!isActor(obj)) throw new Error(`${target} is not an actor`);
    return { ctx, actor: obj };
  }

  function recipientsFrom(actors) {
    const out = new Map();
    for (const a of actors) {
      if (a == null) continue;
      const r = "inbox" in a && typeof a.inbox === "string" ? toRecipient(a) : a;
      if (r.id != null) out.set(r.id.href, r);
    }
    return [...out.values()];
  }

  async function deliver(ctx, label, recipients, activity) {
    const start = outgoing.length ? outgoing[outgoing.length - 1].seq : 0;
    const result = { label, activity_id: activity.id?.href ?? null, recipients: recipients.map((r) => r.id.href), ok: true };
    try {
      if (recipients.length > 0) {
        await ctx.sendActivity({ identifier: username }, recipients, activity, { preferSharedInbox: true });
      }
    } catch (e) {
      result.ok = false;
      result.error = String(e);
    }
    result.requests = outgoing.filter((o) => o.seq > start && o.method === "POST");
    push(sent, { seq: ++seq, time: new Date().toISOString(), ...result });
    return result;
  }

  async function readJson(request) {
    const text = await request.text();
    if (text.trim() === "") return {};
    return JSON.parse(text);
  }

  const json = (status, body) =>
    new Response(JSON.stringify(body, null, 1), { status, headers: { "Content-Type": "application/json" } });

  async function knownSpecs() {
    const origins = new Set(outgoing.filter((o) => o.status !== "blocked").map((o) => new URL(o.url).origin));
    const remembered = {};
    for (const o of origins) {
      const v = await kv.get(["_fedify", "httpMessageSignaturesSpec", o]);
      if (v != null) remembered[o] = v;
    }
    return remembered;
  }

  async function control(request, url) {
    const path = url.pathname;
    const method = request.method;
    if (method === "GET" && path === "/control/health") {
      return json(200, {
        ok: true,
        fedify: fedifyVersion,
        node: process.version,
        actor: actorUri().href,
        handle: `${username}@${handleHost}`,
        actor_type: args.actorType,
        signs_first_with: firstKnock,
      });
    }
    if (method === "GET" && path === "/control/inbox") {
      const full = url.searchParams.get("raw") !== "0";
      return json(200, {
        activities: full ? inbox : inbox.map(({ raw, ...rest }) => rest),
        followers: [...followers.values()],
        following: [...following.values()].map(({ follow, ...rest }) => rest),
        notes: [...notes.keys()].map((id) => `${origin}/notes/${id}`),
      });
    }
    if (method === "GET" && path === "/control/announces") {
      // The Announce entries of /control/inbox (each with `object`,
      // `object_parsed` and `announced: {object_id, object_type, note}`).
      const full = url.searchParams.get("raw") !== "0";
      const list = inbox.filter((a) => a.type === "Announce");
      return json(200, { announces: full ? list : list.map(({ raw, ...rest }) => rest) });
    }
    if (method === "GET" && path === "/control/log") {
      const inboxFailures = requests.filter((r) => r.inbox && (typeof r.status !== "number" || r.status >= 400));
      const body = {
        errors,
        inbox_failures: inboxFailures,
        blocked_fetches: blocked,
        outgoing,
        requests: requests.map(({ logs, ...rest }) => rest),
        sent,
      };
      if (url.searchParams.get("all") === "1") body.records = records;
      return json(200, body);
    }
    if (method === "GET" && path === "/control/specs") {
      return json(200, {
        fedify: fedifyVersion,
        rfc9421_capable: rfc9421Capable,
        first_knock: firstKnock,
        remembered: await knownSpecs(),
      });
    }
    if (method !== "POST") return json(404, { ok: false, error: `no such control route: ${method} ${path}` });

    let body;
    try {
      body = await readJson(request);
    } catch (e) {
      return json(400, { ok: false, error: `bad JSON: ${e}` });
    }

    try {
      if (path === "/control/lookup") {
        if (typeof body.url !== "string") return json(400, { ok: false, error: "url is required" });
        const { ctx, obj, url: resolved, webfinger } = await lookup(body.url);
        if (obj == null) {
          return json(200, {
            ok: false,
            error: `Fedify lookupObject(${resolved}) returned null`,
            log: records.slice(-40),
          });
        }
        const out = { ok: true, url: resolved, webfinger, object: await compact(ctx, obj), key_usable: false };
        if (isActor(obj)) {
          const keys = await describeActorKeys(ctx, obj);
          Object.assign(out, keys);
          out.actor = {
            id: obj.id?.href ?? null,
            inbox: obj.inboxId?.href ?? null,
            shared_inbox: obj.endpoints?.sharedInbox?.href ?? null,
            preferred_username: obj.preferredUsername?.toString() ?? null,
            name: obj.name?.toString() ?? null,
            followers: obj.followersId?.href ?? null,
            outbox: obj.outboxId?.href ?? null,
          };
        }
        return json(200, out);
      }

      if (path === "/control/follow") {
        const target = body.actor ?? body.url ?? body.handle;
        if (typeof target !== "string") return json(400, { ok: false, error: "actor is required" });
        const { ctx, actor } = await resolveActor(target);
        const localId = randomUUID();
        const follow = new Follow({
          id: new URL(`${origin}/follows/${localId}`),
          actor: actorUri(),
          object: actor.id,
          to: actor.id,
        });
        activities.set(localId, follow);
        following.set(actor.id.href, {
          actor: actor.id.href,
          actor_type: getTypeId(actor)?.href?.replace(/^.*[#/]/, "") ?? null, // Person, Group, ...
          follow_id: follow.id.href,
          state: "pending",
          follow,
        });
        const result = await deliver(ctx, "Follow", recipientsFrom([actor]), follow);
        return json(result.ok ? 200 : 502, { ...result, id: follow.id.href, actor: actor.id.href, inbox: actor.inboxId?.href ?? null });
      }

      if (path === "/control/unfollow") {
        const target = body.actor ?? body.url ?? body.handle;
        if (typeof target !== "string") return json(400, { ok: false, error: "actor is required" });
        const { ctx, actor } = await resolveActor(target);
        const f = following.get(actor.id.href);
        if (f == null) return json(404, { ok: false, error: `not following ${actor.id.href}` });
        const undo = new Undo({
          id: new URL(`${origin}/activities/${randomUUID()}`),
          actor: actorUri(),
          object: f.follow,
          to: actor.id,
        });
        const result = await deliver(ctx, "Undo(Follow)", recipientsFrom([actor]), undo);
        if (result.ok) following.delete(actor.id.href);
        return json(result.ok ? 200 : 502, { ...result, id: undo.id.href });
      }

      if (path === "/control/announce") {
        // Boost an object (by URL) to Public, cc followers; delivered to the
        // followers, `to_actors` and the object's author.  `embed: true`
        // embeds the object as Fedify looked it up (as groups embed the
        // announced activity) instead of referring to it by id.
        if (typeof body.object !== "string") return json(400, { ok: false, error: "object is required" });
        const ctx = ctxFor();
        const target = await ctx.lookupObject(body.object);
        if (target == null) return json(400, { ok: false, error: `Fedify lookupObject(${body.object}) returned null` });
        const authorId = target instanceof Activity ? target.actorId : target.attributionId;
        const author = authorId != null && authorId.href !== actorUri().href ? (await resolveActor(authorId.href)).actor : null;
        const extraTo = [];
        for (const t of Array.isArray(body.to_actors) ? body.to_actors : []) extraTo.push((await resolveActor(t)).actor);
        const toFollowers = body.to_followers !== false;
        const localId = randomUUID();
        const tos = [PUBLIC_COLLECTION, ...(author ? [author.id] : []), ...extraTo.map((a) => a.id)];
        const ccs = toFollowers ? [followersUri()] : [];
        const announce = new Announce({
          id: new URL(`${origin}/announces/${localId}`),
          actor: actorUri(),
          object: body.embed === true ? target : target.id ?? new URL(body.object),
          published: Temporal.Now.instant(),
          tos,
          ccs,
        });
        const recipients = recipientsFrom([
          ...(author ? [author] : []),
          ...extraTo,
          ...(toFollowers ? [...followers.values()] : []),
        ]);
        activities.set(localId, announce);
        announceRecipients.set(announce.id.href, recipients);
        const result = await deliver(ctx, "Announce", recipients, announce);
        return json(result.ok ? 200 : 502, { ...result, id: announce.id.href, object: target.id?.href ?? body.object });
      }

      if (path === "/control/unannounce") {
        // Undo(Announce) of an Announce sent by /control/announce, to the same recipients.
        const announce = [...activities.values()].find((a) => a instanceof Announce && a.id?.href === body.id);
        if (announce == null) return json(404, { ok: false, error: `no Announce ${body.id} sent by this peer` });
        const undo = new Undo({
          id: new URL(`${origin}/activities/${randomUUID()}`),
          actor: actorUri(),
          object: announce,
          tos: announce.toIds,
          ccs: announce.ccIds,
        });
        const result = await deliver(ctxFor(), "Undo(Announce)", announceRecipients.get(body.id) ?? [], undo);
        return json(result.ok ? 200 : 502, { ...result, id: undo.id.href });
      }

      if (path === "/control/note" || path === "/control/reply") {
        const content = body.content;
        if (typeof content !== "string") return json(400, { ok: false, error: "content is required" });
        const ctx = ctxFor();
        const isReply = path === "/control/reply";
        let author = null;
        if (isReply) {
          if (typeof body.in_reply_to !== "string") return json(400, { ok: false, error: "in_reply_to is required" });
          let authorUrl = body.to;
          if (typeof authorUrl !== "string") {
            const target = await ctx.lookupObject(body.in_reply_to);
            authorUrl = target?.attributionId?.href;
            if (authorUrl == null) return json(400, { ok: false, error: "cannot find the author; pass `to`" });
          }
          author = (await resolveActor(authorUrl)).actor;
        }
        const extraTo = [];
        for (const t of Array.isArray(body.to_actors) ? body.to_actors : []) extraTo.push((await resolveActor(t)).actor);
        const toFollowers = body.to_followers !== false;
        const localId = randomUUID();
        const noteUrl = new URL(`${origin}/notes/${localId}`);
        const published = Temporal.Now.instant();
        const tos = [PUBLIC_COLLECTION, ...(author ? [author.id] : []), ...extraTo.map((a) => a.id)];
        const ccs = toFollowers ? [followersUri()] : [];
        const note = new Note({
          id: noteUrl,
          url: noteUrl,
          attribution: actorUri(),
          content,
          mediaType: "text/html",
          published,
          tos,
          ccs,
          replyTarget: isReply ? new URL(body.in_reply_to) : null,
          tags: author ? [new Mention({ href: author.id, name: author.preferredUsername?.toString() ?? null })] : [],
        });
        notes.set(localId, note);
        const create = new Create({
          id: new URL(`${noteUrl.href}/activity`),
          actor: actorUri(),
          object: note,
          published,
          tos,
          ccs,
        });
        creates.set(localId, create);
        const recipients = recipientsFrom([
          ...(author ? [author] : []),
          ...extraTo,
          ...(toFollowers ? [...followers.values()] : []),
        ]);
        const result = await deliver(ctx, isReply ? "Create(Note reply)" : "Create(Note)", recipients, create);
        return json(result.ok ? 200 : 502, { ...result, id: noteUrl.href, create_id: create.id.href });
      }
    } catch (e) {
      push(errors, { seq: ++seq, time: new Date().toISOString(), source: "control", message: `${path}: ${e}`, stack: e?.stack ?? null });
      return json(500, { ok: false, error: String(e), stack: e?.stack ?? null, log: records.slice(-40) });
    }
    return json(404, { ok: false, error: `no such control route: ${method} ${path}` });
  }

  // ------------------------------------------------------------ HTTP glue
  async function handle(req, res) {
    const chunks = [];
    for await (const c of req) chunks.push(c);
    const body = Buffer.concat(chunks);
    const url = new URL(req.url, origin);
    const headers = new Headers();
    for (let i = 0; i < req.rawHeaders.length; i += 2) headers.append(req.rawHeaders[i], req.rawHeaders[i + 1]);
    const hasBody = !["GET", "HEAD"].includes(req.method) && body.length > 0;
    const request = new Request(url, { method: req.method, headers, body: hasBody ? body : undefined });

    let response;
    if (url.pathname.startsWith("/control/")) {
      response = await control(request, url);
    } else {
      const isInbox = req.method === "POST" && (url.pathname === "/inbox" || /^\/users\/[^/]+\/inbox$/.test(url.pathname));
      let parsed = null;
      if (isInbox) {
        try {
          parsed = JSON.parse(body.toString("utf8"));
        } catch {
          parsed = null;
        }
      }
      const info = {
        rid: ++seq,
        time: new Date().toISOString(),
        method: req.method,
        path: url.pathname + url.search,
        inbox: isInbox,
        accept: headers.get("accept"),
        content_type: headers.get("content-type"),
        contentType: headers.get("content-type"),
        user_agent: headers.get("user-agent"),
        signature: signatureInfo(headers),
        activity: parsed == null ? null : { type: typeName(parsed), id: idOf(parsed), actor: idOf(parsed.actor) },
        json: parsed,
        verifiedBy: null,
        logs: [],
        status: null,
      };
      if (isInbox && info.signature != null) {
        // Checked before Fedify handles the request, and outside the request's
        // log context, so that record() can attach the result to the entry
        // before the entry becomes visible on /control/inbox.
        info.http_signature = await als.exit(() =>
          verifyHttpSignature(
            () => new Request(url, { method: req.method, headers, body: hasBody ? body : undefined }),
            info.signature,
          ),
        );
      }
      try {
        response = await als.run(info, () =>
          federation.fetch(request, {
            contextData: undefined,
            onNotFound: () => new Response("Not Found", { status: 404, headers: { "Content-Type": "text/plain" } }),
            onNotAcceptable: () =>
              new Response("Not Acceptable (this peer only speaks ActivityPub JSON)", {
                status: 406,
                headers: { "Content-Type": "text/plain", Vary: "Accept" },
              }),
          }),
        );
      } catch (e) {
        push(errors, { seq: ++seq, time: new Date().toISOString(), source: "http", message: String(e), stack: e?.stack ?? null });
        response = new Response(`Internal error: ${e}`, { status: 500 });
      }
      info.status = response.status;
      const { json: _json, contentType: _ct, ...logged } = info;
      if (isInbox) {
        logged.verified_by = info.verifiedBy;
        if (response.status >= 400) {
          logged.response_body = await response.clone().text();
          logged.fedify_log = info.logs.map((l) => `${l.level} ${l.category}: ${l.message}`);
        }
      }
      delete logged.verifiedBy;
      push(requests, logged);
    }

    const outHeaders = {};
    response.headers.forEach((v, k) => {
      outHeaders[k] = v;
    });
    const payload = Buffer.from(await response.arrayBuffer());
    res.writeHead(response.status, outHeaders);
    res.end(req.method === "HEAD" ? undefined : payload);
  }

  const server = http.createServer((req, res) => {
    handle(req, res).catch((e) => {
      push(errors, { seq: ++seq, time: new Date().toISOString(), source: "http", message: String(e), stack: e?.stack ?? null });
      if (!res.headersSent) res.writeHead(500, { "Content-Type": "text/plain" });
      res.end(String(e));
    });
  });
  server.keepAliveTimeout = 1000;

  await new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(args.port, args.host, resolve);
  });
  const shutdown = () => {
    server.close();
    server.closeAllConnections?.();
    process.exit(0);
  };
  process.on("SIGTERM", shutdown);
  process.on("SIGINT", shutdown);
  console.log(`ready ${origin} fedify=${fedifyVersion} node=${process.version} actor=${actorUri().href}`);
}
