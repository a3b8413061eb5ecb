// masto (the library Elk and Phanpy are built on) as an app: each command prints its result as
// one JSON line. The browser step of the authorisation is the test's (tests/api/test_masto.py).
//
//   node client.mjs register URL REDIRECT SCOPES          -> {clientId, clientSecret}
//   node client.mjs token URL ID SECRET REDIRECT CODE SCOPES -> {accessToken}
//   node client.mjs act URL TOKEN SCENE_JSON IMAGE_PATH     -> what the member did and saw
//   node client.mjs refused URL TOKEN                       -> {statusCode} of a write
import { readFile } from "node:fs/promises";
import { createOAuthAPIClient, createRestAPIClient } from "masto";

const [command, url, ...rest] = process.argv.slice(2);
const print = (value) => process.stdout.write(JSON.stringify(value) + "\n");

async function register(redirect, scopes) {
  const masto = createRestAPIClient({ url });
  const app = await masto.v1.apps.create({ clientName: "masto", redirectUris: redirect, scopes, website: "https://masto.invalid" });
  print({ clientId: app.clientId, clientSecret: app.clientSecret });
}

async function token(clientId, clientSecret, redirectUri, code, scope) {
  const oauth = createOAuthAPIClient({ url });
  const answer = await oauth.token.create({ grantType: "authorization_code", clientId, clientSecret, redirectUri, code, scope });
  print({ accessToken: answer.accessToken });
}

async function act(accessToken, sceneJson, imagePath) {
  const scene = JSON.parse(sceneJson);
  const masto = createRestAPIClient({ url, accessToken });
  const me = await masto.v1.accounts.verifyCredentials();
  const instance = await masto.v2.instance.fetch();
  const file = new Blob([await readFile(imagePath)], { type: "image/jpeg" });
  const image = await masto.v2.media.create({ file, description: "Een molen in de polder" });
  const params = { status: "Vanuit de trein #onderweg", mediaIds: [image.id], language: "nl" };
  const key = { requestInit: { headers: { "Idempotency-Key": "masto-1" } } };
  const status = await masto.v1.statuses.create(params, key);
  const replay = await masto.v1.statuses.create(params, key);
  const home = await masto.v1.timelines.home.list({ limit: 40 });
  const pub = await masto.v1.timelines.public.list({ local: true });
  const blog = home.find((s) => s.url === scene.blogUrl);
  const context = await masto.v1.statuses.$select(blog.id).context.fetch();
  const remark = context.descendants.find((s) => s.uri === scene.remarkUri);
  const answer = await masto.v1.statuses.create({ status: "Met een laptop in de trein", inReplyToId: remark.id });
  const carols = home.find((s) => s.uri === scene.carolsPostUri);
  const liked = await masto.v1.statuses.$select(carols.id).favourite();
  const notifications = await masto.v1.notifications.list();
  print({
    me: me.acct, version: instance.version, image, status, replay: replay.id,
    home: home.map((s) => s.id), public: pub.map((s) => s.id), remark: remark.id, answer, liked: liked.favourited,
    notifications: notifications.map((n) => ({ type: n.type, acct: n.account.acct, status: n.status?.id ?? null })),
  });
}

async function refused(accessToken) {
  const masto = createRestAPIClient({ url, accessToken });
  try {
    await masto.v1.statuses.create({ status: "Mag niet" });
    print({ statusCode: 200 });
  } catch (error) {
    print({ statusCode: error.statusCode ?? null, message: error.message });
  }
}

const commands = { register, token, act, refused };
if (!(command in commands)) {
  console.error(`unknown command ${command}`);
  process.exit(2);
}
await commands[command](...rest);
