// A real end-to-end encrypted Matrix client for Parvis's tests: matrix-js-sdk with its Rust
// crypto (@matrix-org/matrix-sdk-crypto-wasm), nothing written by Parvis's authors on the
// crypto path. Driven line by line on stdin by `tests/tests/e2ee.rs`; every answer is one line
// on stdout starting with `@@ ` and holding JSON (the SDK's own logs go elsewhere or are
// ignored).
//
// Environment: HS_URL, USER_ID, ACCESS_TOKEN, DEVICE_ID.
// Commands:
//   dm <bot user ID>                 create an encrypted direct chat with the bot, wait for it to join
//   join <room ID>                   join a room
//   send <room ID> <text…>           send an encrypted text message
//   big-page <room ID> <page ID> <marker>
//                                    a wiki page of over 48 KiB: its body an encrypted attachment
//   invite <room ID> <user ID>       invite someone
//   share-with-unverified yes|no     whether room keys go to unverified devices (yes by default)
//   cross-sign                       set up the account's cross-signing and sign this device,
//                                    as Element does at first sign-in
//   only-signed-devices              read and send only to devices their owner cross-signed
//                                    (MSC4153, as recent Element clients do)
//   all-devices                      back to reading and sending to every device (the default)
//   device-trust <user ID> <device ID>
//                                    how the client sees that device: signed by its owner or not
//   state <room ID> <type> <key> <JSON content>
//                                    send a state event (encrypted where the room says so)
//   wait-reply <room ID> <sender> <substring>
//                                    wait for a decrypted message from `sender` containing it
//   wait-state <room ID> <type> <key> <substring>
//                                    wait until the room's state of (type, key), decrypted,
//                                    holds the substring; answers its content and sender
//   quit
import { webcrypto } from "node:crypto";
import { createInterface } from "node:readline";

// matrix-js-sdk targets Node 22; Node 20 lacks this one function it uses.
if (typeof Promise.withResolvers !== "function") {
  Promise.withResolvers = function withResolvers() {
    let resolve;
    let reject;
    const promise = new Promise((yes, no) => {
      resolve = yes;
      reject = no;
    });
    return { promise, resolve, reject };
  };
}

const sdk = await import("matrix-js-sdk");
const cryptoApi = await import("matrix-js-sdk/lib/crypto-api/index.js");
// Keep stdout for the protocol; the SDK's warnings and errors go to stderr (all of its logs
// with PARVIS_E2EE_CLIENT_VERBOSE=1).
const verbose = process.env.PARVIS_E2EE_CLIENT_VERBOSE === "1";
for (const method of ["log", "info", "debug", "warn", "error"]) {
  const shown = verbose || method === "warn" || method === "error";
  console[method] = (...args) => shown && process.stderr.write(`[js-sdk] ${args.map(String).join(" ")}\n`);
}

const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`client: ${name} is not set`);
  return value;
};

const userId = env("USER_ID");
const client = sdk.createClient({
  baseUrl: env("HS_URL"),
  userId,
  accessToken: env("ACCESS_TOKEN"),
  deviceId: env("DEVICE_ID"),
  // MSC4362: state events in rooms that ask for it are encrypted too.
  enableEncryptedStateEvents: true,
});
await client.initRustCrypto({ useIndexedDB: false });
const prepared = new Promise((resolve) =>
  client.on(sdk.ClientEvent.Sync, (state) => {
    if (state === "PREPARED" || state === "SYNCING") resolve();
  }),
);
await client.startClient({ initialSyncLimit: 20 });
await prepared;

/** Decrypted messages from others: `{room, sender, type, body, eventId}`. */
const received = [];
const waiters = new Set();
async function take(event) {
  await client.decryptEventIfNeeded(event);
  if (event.getSender() === userId || event.isDecryptionFailure()) return;
  if (event.getType() !== "m.room.message") return;
  const message = {
    room: event.getRoomId(),
    sender: event.getSender(),
    encrypted: event.isEncrypted(),
    body: event.getContent().body ?? "",
    eventId: event.getId(),
  };
  received.push(message);
  for (const waiter of waiters) waiter();
}
client.on(sdk.RoomEvent.Timeline, (event) => void take(event));
client.on(sdk.MatrixEventEvent.Decrypted, (event) => void take(event));

function until(check, what, timeoutMs = 60_000) {
  return new Promise((resolve, reject) => {
    const tryIt = () => {
      const value = check();
      if (value) {
        waiters.delete(tryIt);
        clearTimeout(timer);
        resolve(value);
      }
    };
    const timer = setTimeout(() => {
      waiters.delete(tryIt);
      reject(new Error(`timed out waiting for ${what}`));
    }, timeoutMs);
    waiters.add(tryIt);
    tryIt();
  });
}

// Room, membership and sync changes wake the waiters too.
const wake = () => waiters.forEach((waiter) => waiter());
client.on(sdk.RoomStateEvent.Members, wake);
client.on(sdk.ClientEvent.Room, wake);
client.on(sdk.RoomEvent.MyMembership, wake);
client.on(sdk.ClientEvent.Sync, wake);

const commands = {
  async dm(bot) {
    const { room_id: room } = await client.createRoom({
      invite: [bot],
      is_direct: true,
      preset: "trusted_private_chat",
      initial_state: [{ type: "m.room.encryption", state_key: "", content: { algorithm: "m.megolm.v1.aes-sha2" } }],
    });
    await until(() => client.getRoom(room)?.getMember(bot)?.membership === "join", `${bot} to join`);
    // As a careful user would: talk once the bot's device is published (its keys uploaded).
    const deadline = Date.now() + 60_000;
    for (;;) {
      const devices = await client.getCrypto().getUserDeviceInfo([bot], true);
      if ((devices.get(bot)?.size ?? 0) > 0) break;
      if (Date.now() > deadline) throw new Error(`${bot} has no device`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    return { room };
  },
  async join(room) {
    await client.joinRoom(room);
    await until(() => client.getRoom(room)?.getMyMembership() === "join", "the join");
    return { room };
  },
  async send(room, ...words) {
    await until(() => client.getRoom(room), `room ${room} in the sync`);
    const { event_id: eventId } = await client.sendMessage(room, { msgtype: "m.text", body: words.join(" ") });
    return { eventId };
  },
  async react(room, eventId, key) {
    // As Element does: an m.reaction, encrypted in an encrypted room (its relation in clear).
    await until(() => client.getRoom(room), `room ${room} in the sync`);
    const content = { "m.relates_to": { rel_type: "m.annotation", event_id: eventId, key } };
    const { event_id: sent } = await client.sendEvent(room, "m.reaction", content);
    return { eventId: sent };
  },
  async state(room, type, key, ...json) {
    await until(() => client.getRoom(room), `room ${room} in the sync`);
    const { event_id: eventId } = await client.sendStateEvent(room, type, JSON.parse(json.join(" ")), key);
    return { eventId };
  },
  async "share-with-unverified"(value) {
    // "no": like a client set to never send keys to unverified devices (Parvis's is one).
    client.getCrypto().globalBlacklistUnverifiedDevices = value === "no";
    return {};
  },
  async "cross-sign"() {
    // First keys of the account: no interactive authentication is asked (MSC3967).
    await client.getCrypto().bootstrapCrossSigning({
      authUploadDeviceSigningKeys: async (makeRequest) => {
        await makeRequest(null);
      },
    });
    return { ready: await client.getCrypto().isCrossSigningReady() };
  },
  async "only-signed-devices"() {
    client.getCrypto().setDeviceIsolationMode(new cryptoApi.OnlySignedDevicesIsolationMode());
    return {};
  },
  async "all-devices"() {
    client.getCrypto().setDeviceIsolationMode(new cryptoApi.AllDevicesIsolationMode(false));
    return {};
  },
  async "device-trust"(user, device) {
    // Signatures are uploaded just after the device: ask again for up to 20 s.
    const crypto = client.getCrypto();
    let status = null;
    for (let attempt = 0; attempt < 40 && !status?.signedByOwner; attempt++) {
      if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, 500));
      await crypto.getUserDeviceInfo([user], true);
      status = await crypto.getDeviceVerificationStatus(user, device);
    }
    return {
      known: status !== null,
      signedByOwner: status?.signedByOwner ?? false,
      crossSigningVerified: status?.crossSigningVerified ?? false,
    };
  },
  async "big-page"(room, id, marker) {
    // Over the event size limit, the body goes to the media repository — encrypted, as the
    // spec's encrypted attachments are (AES-CTR 256, SHA-256 of the ciphertext).
    const paragraph = `${marker} : une procédure longue, détaillée, paragraphe après paragraphe.\n\n`;
    const text = paragraph.repeat(Math.ceil(60_000 / paragraph.length)) + "Fin du document.\n";
    const plain = new TextEncoder().encode(text);
    const key = await webcrypto.subtle.generateKey({ name: "AES-CTR", length: 256 }, true, ["encrypt", "decrypt"]);
    const jwk = await webcrypto.subtle.exportKey("jwk", key);
    const iv = new Uint8Array(16);
    webcrypto.getRandomValues(iv.subarray(0, 8));
    const cipher = new Uint8Array(await webcrypto.subtle.encrypt({ name: "AES-CTR", counter: iv, length: 64 }, key, plain));
    const unpadded = (bytes) => Buffer.from(bytes).toString("base64").replace(/=+$/, "");
    const hex = (bytes) => Buffer.from(bytes).toString("hex");
    const { content_uri: url } = await client.uploadContent(new Blob([cipher]), {
      type: "application/octet-stream",
      name: `${id}.md.enc`,
    });
    const file = {
      v: "v2",
      url,
      key: { kty: "oct", key_ops: ["encrypt", "decrypt"], alg: "A256CTR", k: jwk.k, ext: true },
      iv: unpadded(iv),
      hashes: { sha256: unpadded(await webcrypto.subtle.digest("SHA-256", cipher)) },
    };
    const content = {
      title: `Document ${marker}`,
      slug: id,
      body: "",
      body_media: { file, size: plain.length, sha256: hex(await webcrypto.subtle.digest("SHA-256", plain)) },
    };
    const { event_id: eventId } = await client.sendStateEvent(room, "org.parvis.wiki.page", content, id);
    return { eventId, size: plain.length, url };
  },
  async invite(room, user) {
    await client.invite(room, user);
    return { room };
  },
  async "wait-reply"(room, sender, ...words) {
    const needle = words.join(" ");
    return until(
      () => received.find((m) => m.room === room && m.sender === sender && m.body.includes(needle)),
      `a message from ${sender} containing “${needle}”`,
    );
  },
  async "wait-state"(room, type, key, ...words) {
    const needle = words.join(" ");
    const deadline = Date.now() + 60_000;
    for (;;) {
      const joined = client.getRoom(room);
      if (joined) {
        const state = joined.getLiveTimeline().getState(sdk.EventTimeline.FORWARDS);
        // Encrypted state may be held under its wire type and packed key until decrypted.
        const candidates = [
          ...(state?.getStateEvents("m.room.encrypted") ?? []),
          ...(state?.getStateEvents(type) ?? []),
          ...joined.getLiveTimeline().getEvents().filter((event) => event.isState()),
        ];
        let found = null;
        for (const event of candidates) {
          await client.decryptEventIfNeeded(event);
          if (event.getType() !== type || event.getStateKey() !== key) continue;
          if (!JSON.stringify(event.getContent()).includes(needle)) continue;
          if (!found || event.getTs() > found.getTs()) found = event;
        }
        if (found) {
          return {
            content: found.getContent(),
            sender: found.getSender(),
            encrypted: found.isEncrypted(),
            eventId: found.getId(),
          };
        }
      }
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${type} ${key} with “${needle}”`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  },
  async quit() {
    client.stopClient();
    setTimeout(() => process.exit(0), 100);
    return {};
  },
};

process.stdout.write(`@@ ${JSON.stringify({ ready: true, deviceId: client.getDeviceId() })}\n`);
for await (const line of createInterface({ input: process.stdin })) {
  const [name, ...args] = line.trim().split(/\s+/);
  if (!name) continue;
  try {
    const command = commands[name];
    if (!command) throw new Error(`unknown command ${name}`);
    process.stdout.write(`@@ ${JSON.stringify({ ok: await command(...args) })}\n`);
  } catch (error) {
    process.stdout.write(`@@ ${JSON.stringify({ error: String(error?.stack ?? error) })}\n`);
  }
}
