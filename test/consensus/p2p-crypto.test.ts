// The link protocol's crypto without sockets (gateway/p2p/handshake.ts, session-cipher.ts): the RFC
// primitives as node:crypto gives them, the version-2 known answer, what the handshake refuses (a
// man in the middle, a replayed old handshake even with its ephemeral key stolen, a reflected
// signature, wrong chain, version, self, small-order keys), what the cipher refuses (any bit
// flipped, replay, reorder, drop, short frames, the frame limit), and random or mutated input to
// every decoder, which must always end in a typed P2pError and never in anything else.
import { createCipheriv, createPrivateKey, createPublicKey, hkdfSync, randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { describe, expect, test } from "vitest";
import fc from "fast-check";
import { encode } from "../../shared/cbor.ts";
import { privateKeyObject, publicKeyFromSeed } from "../../shared/ed25519.ts";
import { P2pError } from "../../gateway/p2p/errors.ts";
import { decodeHello, deriveSessionKeys, encodeAuth, encodeHello, Handshake, newEphemeral, p2pDomain, sharedSecret, transcriptHash, verifyAuth, type Ephemeral, type LocalKeys } from "../../gateway/p2p/handshake.ts";
import { aeadTagBytes, FrameOpener, FrameSealer, frameNonce } from "../../gateway/p2p/session-cipher.ts";
import { errorCode } from "../support/error-code.ts";
import { simIdentity } from "./sim/keys.ts";

const vectors = JSON.parse(readFileSync(new URL("../vectors/p2p-v2.json", import.meta.url), "utf8"));
const x = (h: string) => new Uint8Array(Buffer.from(h, "hex"));
const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");
const code = (fn: () => unknown) => errorCode(P2pError, fn);

const x25519Pkcs8Prefix = Buffer.from("302e020100300506032b656e04220420", "hex");
function ephemeralFrom(privateHex: string): Ephemeral {
  const privateKey = createPrivateKey({ key: Buffer.concat([x25519Pkcs8Prefix, x(privateHex)]), format: "der", type: "pkcs8" });
  return { privateKey, publicKey: new Uint8Array(createPublicKey(privateKey).export({ format: "der", type: "spki" }).subarray(12)) };
}

const chainId = "p2p-crypto-test";
const local = (i: number, chain = chainId): LocalKeys => ({ chainId: chain, publicKey: simIdentity(i).publicKey, privateKey: simIdentity(i).privateKey });

/** Runs a whole handshake between two state machines; returns both ends' sessions. */
function connectPair(a = new Handshake("initiator", local(0)), b = new Handshake("responder", local(1))) {
  const aAuth = a.receive(b.hello).send;
  const bAuth = b.receive(a.hello).send;
  expect(aAuth.length).toBe(1);
  const aDone = a.receive(bAuth[0]).established!;
  const bDone = b.receive(aAuth[0]).established!;
  return { a: aDone, b: bDone };
}

describe("primitives and the version-2 known answer", () => {
  test("node:crypto's X25519, HKDF-SHA256 and ChaCha20-Poly1305 give the RFC vectors", () => {
    const v = vectors.rfc7748_x25519;
    const alice = ephemeralFrom(v.alicePrivate);
    const bob = ephemeralFrom(v.bobPrivate);
    expect([hex(alice.publicKey), hex(bob.publicKey)]).toEqual([v.alicePublic, v.bobPublic]);
    expect(hex(sharedSecret(alice.privateKey, bob.publicKey))).toBe(v.shared);
    expect(hex(sharedSecret(bob.privateKey, alice.publicKey))).toBe(v.shared);
    const h = vectors.rfc5869_hkdf_sha256;
    expect(Buffer.from(hkdfSync("sha256", x(h.ikm), x(h.salt), x(h.info), h.length)).toString("hex")).toBe(h.okm);
    const a = vectors.rfc8439_aead;
    const c = createCipheriv("chacha20-poly1305", x(a.key), x(a.nonce), { authTagLength: aeadTagBytes });
    c.setAAD(x(a.aad), { plaintextLength: Buffer.byteLength(a.plaintextUtf8) });
    expect(Buffer.concat([c.update(Buffer.from(a.plaintextUtf8)), c.final()]).toString("hex")).toBe(a.ciphertext);
    expect(c.getAuthTag().toString("hex")).toBe(a.tag);
  });

  test("the handshake's known answer: hellos, transcript, sealed auths and first frames", () => {
    const v = vectors.handshake;
    const id = (seed: string): LocalKeys => ({ chainId: v.chainId, privateKey: privateKeyObject(x(seed)), publicKey: publicKeyFromSeed(x(seed)) });
    const i = new Handshake("initiator", id(v.initiatorIdentitySeed), undefined, ephemeralFrom(v.initiatorEphemeralPrivate));
    const r = new Handshake("responder", id(v.responderIdentitySeed), undefined, ephemeralFrom(v.responderEphemeralPrivate));
    expect([hex(i.hello), hex(r.hello)]).toEqual([v.initiatorHello, v.responderHello]);
    const iAuth = i.receive(r.hello).send[0];
    const rAuth = r.receive(i.hello).send[0];
    expect([hex(iAuth), hex(rAuth)]).toEqual([v.initiatorAuthSealed, v.responderAuthSealed]);
    const si = i.receive(rAuth).established!;
    const sr = r.receive(iAuth).established!;
    expect(hex(si.transcript)).toBe(v.transcript);
    expect(hex(si.sealer.seal(Buffer.from(v.initiatorFrame1Utf8)))).toBe(v.initiatorFrame1Sealed);
    expect(hex(sr.sealer.seal(Buffer.from(v.responderFrame1Utf8)))).toBe(v.responderFrame1Sealed);
    expect(Buffer.from(sr.opener.open(x(v.initiatorFrame1Sealed))).toString()).toBe(v.initiatorFrame1Utf8);
  });

  test("nonce rule: 4 zero bytes then the frame's position as 64-bit big-endian; seal is plain RFC 8439 under it", () => {
    expect(hex(frameNonce(0))).toBe("000000000000000000000000");
    expect(hex(frameNonce(2 ** 32 + 5))).toBe("000000000000000100000005");
    expect(hex(frameNonce(2 ** 48 - 1))).toBe("000000000000ffffffffffff");
    const key = randomBytes(32);
    const s = new FrameSealer(key);
    for (let n = 0; n < 3; n++) {
      const msg = randomBytes(50);
      const c = createCipheriv("chacha20-poly1305", key, frameNonce(n), { authTagLength: aeadTagBytes });
      const expected = Buffer.concat([c.update(msg), c.final(), c.getAuthTag()]);
      expect(hex(s.seal(msg))).toBe(expected.toString("hex"));
    }
  });
});

describe("session cipher", () => {
  test("round trip of random frames, counters in step; each direction's key opens only its own frames", () => {
    const key = randomBytes(32);
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 2048 }), { maxLength: 20 }), (frames) => {
        const s = new FrameSealer(key);
        const o = new FrameOpener(key);
        for (const f of frames) expect(Buffer.from(o.open(s.seal(f))).equals(Buffer.from(f))).toBe(true);
        expect(s.counter).toBe(o.counter);
      }),
      { numRuns: 300 },
    );
    const { a, b } = connectPair();
    const sealed = a.sealer.seal(new Uint8Array([1, 2, 3]));
    expect(code(() => a.opener.open(sealed))).toBe("P2P_DECRYPT"); // our own frame reflected back
    expect(b.opener.open(sealed)).toEqual(new Uint8Array([1, 2, 3]));
  });

  test("any bit flipped anywhere in a sealed frame is P2P_DECRYPT", () => {
    const key = randomBytes(32);
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 600 }), fc.nat(), fc.integer({ min: 0, max: 7 }), (plain, pos, bit) => {
        const sealed = new FrameSealer(key).seal(plain);
        sealed[pos % sealed.length] ^= 1 << bit;
        expect(code(() => new FrameOpener(key).open(sealed))).toBe("P2P_DECRYPT");
      }),
      { numRuns: 2000 },
    );
  });

  test("replayed, reordered, dropped and injected frames fail; a skipped (rate-dropped) frame keeps the stream in step", () => {
    const key = randomBytes(32);
    const s = new FrameSealer(key);
    const frames = Array.from({ length: 5 }, (_, i) => s.seal(new Uint8Array([i])));
    const replay = new FrameOpener(key);
    replay.open(frames[0]);
    expect(code(() => replay.open(frames[0]))).toBe("P2P_DECRYPT");
    expect(code(() => new FrameOpener(key).open(frames[1]))).toBe("P2P_DECRYPT"); // reordered: 1 before 0
    const dropped = new FrameOpener(key);
    dropped.open(frames[0]);
    expect(code(() => dropped.open(frames[2]))).toBe("P2P_DECRYPT"); // frame 1 lost on the path
    const injected = new FrameOpener(key);
    expect(code(() => injected.open(new FrameSealer(randomBytes(32)).seal(new Uint8Array([0]))))).toBe("P2P_DECRYPT");
    const skipping = new FrameOpener(key);
    skipping.open(frames[0]);
    skipping.skip();
    expect(skipping.open(frames[2])).toEqual(new Uint8Array([2]));
  });

  test("frames shorter than the tag are P2P_MALFORMED; random bytes are always a typed refusal", () => {
    for (let n = 0; n < aeadTagBytes; n++) expect(code(() => new FrameOpener(randomBytes(32)).open(new Uint8Array(n)))).toBe("P2P_MALFORMED");
    const key = randomBytes(32);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        expect(["P2P_MALFORMED", "P2P_DECRYPT"]).toContain(code(() => new FrameOpener(key).open(bytes)));
      }),
      { numRuns: 3000 },
    );
  });

  test("a direction that reaches framesMax refuses to seal or open (P2P_SESSION_EXHAUSTED)", () => {
    const key = randomBytes(32);
    const s = new FrameSealer(key, 3);
    const o = new FrameOpener(key, 3);
    for (let i = 0; i < 3; i++) o.open(s.seal(new Uint8Array([i])));
    expect(code(() => s.seal(new Uint8Array(1)))).toBe("P2P_SESSION_EXHAUSTED");
    expect(code(() => o.open(new Uint8Array(17)))).toBe("P2P_SESSION_EXHAUSTED");
    expect(code(() => o.skip())).toBe("P2P_SESSION_EXHAUSTED");
    expect(() => new FrameSealer(key, 0)).toThrow(RangeError);
    expect(() => new FrameSealer(key, 2 ** 53 + 2)).toThrow(RangeError);
    expect(() => new FrameSealer(new Uint8Array(16))).toThrow(RangeError);
  });
});

describe("handshake", () => {
  test("both ends agree on the transcript and on each other's identity; frames flow both ways", () => {
    const { a, b } = connectPair();
    expect(hex(a.transcript)).toBe(hex(b.transcript));
    expect(a.peer.publicKey).toEqual(simIdentity(1).publicKey);
    expect(b.peer.publicKey).toEqual(simIdentity(0).publicKey);
    expect(b.opener.open(a.sealer.seal(new Uint8Array([7])))).toEqual(new Uint8Array([7]));
    expect(a.opener.open(b.sealer.seal(new Uint8Array([8])))).toEqual(new Uint8Array([8]));
    // Fresh ephemerals: the same two gateways get other keys next time.
    const again = connectPair();
    expect(hex(again.a.transcript)).not.toBe(hex(a.transcript));
    expect(code(() => again.b.opener.open(a.sealer.seal(new Uint8Array([9]))))).toBe("P2P_DECRYPT");
  });

  test("a man in the middle who swaps the ephemerals cannot complete either side", () => {
    // M relays the hellos with its own ephemerals in place of the real ones (identities untouched),
    // so it shares a key with A and another with B, and knows both.
    const mitm = (a: Handshake, b: Handshake) => {
      const mToA = newEphemeral();
      const mToB = newEphemeral();
      const aHello = decodeHello(a.hello, chainId);
      const bHello = decodeHello(b.hello, chainId);
      const forgedA = encodeHello({ ...aHello, ephemeral: mToB.publicKey });
      const forgedB = encodeHello({ ...bHello, ephemeral: mToA.publicKey });
      const thA = transcriptHash(a.hello, forgedB);
      const thB = transcriptHash(forgedA, b.hello);
      return {
        forgedA,
        forgedB,
        kA: deriveSessionKeys(sharedSecret(mToA.privateKey, aHello.ephemeral), thA),
        kB: deriveSessionKeys(sharedSecret(mToB.privateKey, bHello.ephemeral), thB),
      };
    };
    // Relayed as is, B's auth is sealed under the B–M key: A cannot open it.
    const [a1, b1] = [new Handshake("initiator", local(0)), new Handshake("responder", local(1))];
    const m1 = mitm(a1, b1);
    a1.receive(m1.forgedB);
    const bAuth1 = b1.receive(m1.forgedA).send[0];
    expect(code(() => a1.receive(bAuth1))).toBe("P2P_HANDSHAKE");
    // Re-sealed by M under the A–M key: it opens, but B signed B's transcript, not A's.
    const [a2, b2] = [new Handshake("initiator", local(0)), new Handshake("responder", local(1))];
    const m2 = mitm(a2, b2);
    const aAuth2 = a2.receive(m2.forgedB).send[0];
    const bAuth2 = b2.receive(m2.forgedA).send[0];
    const bSigned = new FrameOpener(m2.kB.responderToInitiator).open(bAuth2);
    expect(code(() => a2.receive(new FrameSealer(m2.kA.responderToInitiator).seal(bSigned)))).toBe("P2P_HANDSHAKE");
    const aSigned = new FrameOpener(m2.kA.initiatorToResponder).open(aAuth2);
    expect(code(() => b2.receive(new FrameSealer(m2.kB.initiatorToResponder).seal(aSigned)))).toBe("P2P_HANDSHAKE");
  });

  test("an old handshake replayed fails, even by someone who stole that session's ephemeral key", () => {
    // Session 1 between A and B, recorded; B's ephemeral private key of that session leaks later.
    const bEphemeral = newEphemeral();
    const [a1, b1] = [new Handshake("initiator", local(0)), new Handshake("responder", local(1), undefined, bEphemeral)];
    const bAuth1 = b1.receive(a1.hello).send[0];
    a1.receive(b1.hello);
    const th1 = a1.receive(bAuth1).established!.transcript;
    // The attacker poses as B to a new A: replays B's hello, and (knowing B's old ephemeral key)
    // computes the new session's keys and re-seals B's old signed auth under them.
    const a2 = new Handshake("initiator", local(0));
    a2.receive(b1.hello);
    const th2 = transcriptHash(a2.hello, b1.hello);
    const k2 = deriveSessionKeys(sharedSecret(bEphemeral.privateKey, decodeHello(a2.hello, chainId).ephemeral), th2);
    const oldSigned = new FrameOpener(deriveSessionKeys(sharedSecret(bEphemeral.privateKey, decodeHello(a1.hello, chainId).ephemeral), th1).responderToInitiator).open(bAuth1);
    expect(code(() => a2.receive(new FrameSealer(k2.responderToInitiator).seal(oldSigned)))).toBe("P2P_HANDSHAKE");
  });
});

describe("handshake refusals and fuzz", () => {
  test("a reflected signature, wrong chain, old version, itself, a small-order key: each a typed refusal", () => {
    const a = new Handshake("initiator", local(0));
    const b = new Handshake("responder", local(1));
    a.receive(b.hello);
    const th = transcriptHash(a.hello, b.hello);
    // A's own signature (role initiator) offered back as B's: the role is signed.
    expect(code(() => verifyAuth(simIdentity(0).publicKey, "responder", th, encodeAuth(simIdentity(0).privateKey, "initiator", th)))).toBe("P2P_HANDSHAKE");
    expect(code(() => verifyAuth(simIdentity(1).publicKey, "responder", th, encodeAuth(simIdentity(1).privateKey, "initiator", th)))).toBe("P2P_HANDSHAKE");
    expect(code(() => verifyAuth(simIdentity(1).publicKey, "responder", th, encodeAuth(simIdentity(1).privateKey, "responder", th)))).toBeUndefined();
    expect(code(() => new Handshake("initiator", local(0)).receive(new Handshake("responder", local(1, "other-chain")).hello))).toBe("P2P_HANDSHAKE");
    const v1 = encode([p2pDomain, 1, chainId, simIdentity(1).publicKey, new Uint8Array(32)]);
    expect(() => new Handshake("initiator", local(0)).receive(v1)).toThrow(/version 1, this node 2/);
    expect(code(() => new Handshake("initiator", local(0)).receive(new Handshake("responder", local(0)).hello))).toBe("P2P_SELF");
    for (const low of [new Uint8Array(32), Uint8Array.from([1, ...new Uint8Array(31)])]) {
      const hello = encodeHello({ chainId, publicKey: simIdentity(1).publicKey, ephemeral: low });
      expect(() => new Handshake("initiator", local(0)).receive(hello)).toThrow(/no shared secret|all-zero/);
    }
    expect(() => a.receive(new Uint8Array(40))).toThrow(P2pError); // garbage where B's auth belongs
  });

  test("random and mutated hellos and auth frames: always a typed refusal or, for a harmless change, a hello", () => {
    const valid = new Handshake("responder", local(1)).hello;
    const mutate = (bytes: Uint8Array, edits: [number, number, number][]) => {
      let out = Buffer.from(bytes);
      for (const [pos, kind, byte] of edits) {
        const i = pos % Math.max(1, out.length);
        if (kind === 0) out[i] ^= 1 << byte % 8;
        else if (kind === 1) out[i] = byte;
        else if (kind === 2) out = out.subarray(0, i);
        else out = Buffer.concat([out.subarray(0, i), Buffer.from([byte]), out.subarray(i)]);
      }
      return new Uint8Array(out);
    };
    const edits = fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 3 }), fc.nat(255)), { minLength: 1, maxLength: 4 });
    let accepted = 0;
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 200 }), edits.map((e) => mutate(valid, e))), (hello) => {
        const c = code(() => new Handshake("initiator", local(0)).receive(hello));
        if (c === undefined) accepted++; // a changed ephemeral is still a hello: it fails later, at the auth
        else expect(["P2P_HANDSHAKE", "P2P_SELF"]).toContain(c);
      }),
      { numRuns: 3000 },
    );
    // Every auth frame other than the real one is refused, whatever it is.
    const b = new Handshake("responder", local(1));
    const a0 = new Handshake("initiator", local(0));
    a0.receive(b.hello);
    const realAuth = b.receive(a0.hello).send[0];
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 200 }), edits.map((e) => mutate(realAuth, e))), (auth) => {
        fc.pre(Buffer.compare(auth, realAuth) !== 0);
        const a = new Handshake("initiator", local(0));
        a.receive(b.hello);
        expect(code(() => a.receive(auth))).toBe("P2P_HANDSHAKE");
      }),
      { numRuns: 1000 },
    );
    expect(accepted).toBeLessThan(3000);
  });

  test("auth payloads that open but are not [signature]: P2P_HANDSHAKE", () => {
    const th = new Uint8Array(32);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 120 }), (bytes) => {
        expect(code(() => verifyAuth(simIdentity(1).publicKey, "responder", th, bytes))).toBe("P2P_HANDSHAKE");
      }),
      { numRuns: 2000 },
    );
  });
});
