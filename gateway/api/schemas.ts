// Response schemas of the OpenAPI document (components.schemas), matching views.ts and the route
// handlers. test/api checks real responses against them, so they stay true.
import type { JsonSchema } from "./route-spec.ts";

const hexBytes = (n: number, description?: string): JsonSchema => ({ type: "string", pattern: `^[0-9a-f]{${n * 2}}$`, ...(description && { description }) });
const hexAny: JsonSchema = { type: "string", pattern: "^[0-9a-f]*$" };
const amount: JsonSchema = { type: "string", pattern: "^[0-9]+$", description: "decimal integer (may exceed 2^53)" };
const int: JsonSchema = { type: "integer", minimum: 0 };
const timeMs: JsonSchema = { type: "integer", minimum: 0, description: "Unix milliseconds" };
const nullable = (s: JsonSchema): JsonSchema => ({ anyOf: [s, { type: "null" }] });
const obj = (properties: Record<string, JsonSchema>, required = Object.keys(properties)): JsonSchema => ({ type: "object", required, properties });
const ref = (name: string): JsonSchema => ({ $ref: `#/components/schemas/${name}` });

const header = {
  height: int,
  hash: hexBytes(32),
  previousHash: hexBytes(32),
  timeMs,
  proposer: hexBytes(16, "validator id of the proposer"),
  chainId: { type: "string" },
  version: int,
  validatorSetHash: hexBytes(32),
  nextValidatorSetHash: hexBytes(32),
  txRoot: hexBytes(32, "RFC 6962 Merkle root of the transactions"),
  stateRoot: hexBytes(32, "sparse Merkle root of the state after the block"),
  lastCommitHash: hexBytes(32),
  resultsRoot: hexBytes(32, "RFC 6962 Merkle root of the transactions' results (each reading's outcome)"),
};

const certificate = nullable({
  type: "object",
  required: ["raw"],
  properties: {
    height: int,
    round: int,
    blockHash: hexBytes(32),
    signatures: { type: "array", items: obj({ validatorId: hexBytes(16), signature: hexBytes(64) }) },
    raw: hexAny,
  },
});

const certificateCheck = obj(
  {
    present: { type: "boolean" },
    valid: { type: "boolean", description: "a quorum of the block's validator set signed this block" },
    round: int,
    signers: { type: "array", items: obj({ validatorId: hexBytes(16), valid: { type: "boolean" }, inSet: { type: "boolean" } }) },
    quorum: nullable(int),
    setSize: nullable(int),
  },
  ["present", "valid", "signers", "quorum", "setSize"],
);

const reading = obj({
  deviceId: hexBytes(16),
  sequence: int,
  receivedAtMs: timeMs,
  height: int,
  txIndex: int,
  position: int,
  gatewayId: hexBytes(16),
  digest: hexBytes(32, "SHA-256 of the COSE_Sign1 bytes"),
  records: nullable({
    type: "array",
    description: "SenML records (RFC 8428); null once the reading expired (its values were pruned, docs/expiry.md)",
    items: obj({ name: { type: "string" }, unit: { type: "string" }, value: { type: "number" }, stringValue: { type: "string" }, boolValue: { type: "boolean" }, dataValue: { type: "string", description: "vd (RFC 8428 §4.3), hex" }, contentFormat: { type: "string", description: "ct (RFC 9193)" }, time: { type: "number" } }, ["name"]),
  }),
  expired: { type: "boolean", description: "present (true) once the reading passed its device's retention: its bytes and values are pruned on every gateway, its digest stays provable" },
  expiredAtMs: nullable({ ...timeMs, description: "provenance only: block time + retention in force" }),
}, ["deviceId", "sequence", "receivedAtMs", "height", "txIndex", "position", "gatewayId", "digest", "records"]);

const stateProof = obj({
  key: { type: "string", description: "the state key (gateway/chain/keys.ts)" },
  value: nullable({ ...hexAny, description: "the state value (CBOR) the proof is for; null: the key is absent" }),
  siblings: { type: "array", items: hexBytes(32), description: "sparse Merkle sibling hashes, root level first" },
  terminal: nullable(obj({ keyHash: hexBytes(32), valueHash: hexBytes(32) })),
  valid: { type: "boolean", description: "the proof verifies against the head's state root (gateway/chain/proof.ts verifyStateProof)" },
});

const criterion = {
  type: "object",
  required: ["kind"],
  description: "a reading triggers the contract when any one criterion matches: its device, its device's owner, or a metadata entry",
  properties: { kind: { enum: ["device", "owner", "metadata"] }, deviceId: hexBytes(16), ownerId: hexBytes(16), key: { type: "string" }, value: { type: "string" } },
};

const event = { topic: hexAny, topicText: { ...nullable({ type: "string" }), description: "the topic as text when it is printable UTF-8" }, data: hexAny };

const contract = {
  id: hexBytes(16),
  codeHash: hexBytes(32, "SHA-256 of the WebAssembly code as deployed"),
  codeBytes: int,
  owner: hexBytes(16, "the deploying account"),
  criteria: { type: "array", items: criterion },
  readingGasLimit: int,
  deployedHeight: int,
  balance: amount,
  methods: { type: "array", items: { type: "string" }, description: "exported functions a callContract may name" },
  onReading: { type: "boolean", description: "exports on_reading (readings can trigger it)" },
  runs: { ...int, description: "runs in finalized blocks (calls and reading triggers, failed included)" },
  failedRuns: int,
  gasUsed: { ...int, description: "gas used by all its runs" },
  events: int,
  lastRunHeight: nullable(int),
};

export const componentSchemas: Record<string, JsonSchema> = {
  Error: obj({ error: obj({ code: { type: "string", description: "stable, for programs" }, message: { type: "string", description: "what was wrong and what to do" } }) }),
  Head: obj({
    chainId: { type: "string" },
    height: int,
    hash: hexBytes(32),
    timeMs,
    proposer: hexBytes(16),
    stateRoot: hexBytes(32),
    finalizedHeight: int,
    finality: obj({ mode: { enum: ["solo", "pbft"] }, blocks: int, meanMs: nullable(int), lastMs: nullable(int) }),
    consensus: obj({ height: int, round: int, proposer: nullable(hexBytes(16)) }),
  }),
  Consensus: obj({
    mode: { enum: ["solo", "pbft"] },
    height: int,
    round: int,
    proposer: nullable(hexBytes(16)),
    roundChangesTotal: int,
    decidedTotal: int,
    peersConnected: nullable(int),
    finalizedHeight: int,
    validators: { type: "array", items: obj({ id: hexBytes(16), power: amount, prepare: { type: "boolean" }, commit: { type: "boolean" }, signedHead: { type: "boolean" } }) },
  }),
  BlockSummary: obj({ height: int, hash: hexBytes(32), timeMs, proposer: hexBytes(16), txs: int, readings: int, bodyBytes: int, certified: { type: "boolean" } }),
  Block: obj({
    ...header,
    txCount: int,
    readings: int,
    txs: { type: "array", items: obj({ id: hexBytes(32), index: int, kind: nullable({ type: "string" }), author: hexBytes(16) }) },
    certificate: nullable({ allOf: [certificate, { type: "object", properties: { check: certificateCheck } }] }),
    lastCommit: certificate,
  }),
  Tx: obj(
    {
      id: hexBytes(32),
      kind: { enum: ["transfer", "stake", "unstake", "registerCandidate", "vote", "enrollDevice", "revokeDevice", "readingBatch", "reportDevice", "paramVote", "validatorEvidence", "deployContract", "callContract", "publishRelease", "startRollout", "stopRollout", "liftQuarantine", "setRetention"] },
      author: hexBytes(16),
      authorPublicKey: hexBytes(32),
      nonce: int,
      fee: amount,
      bytes: int,
      status: { enum: ["finalized", "pending"] },
      height: int,
      index: int,
      result: {
        type: "object",
        description:
          "finalized only: what the block made of it (under the header's resultsRoot). failure: the reject code of a body that failed after its fee was paid (a call's run failing: CONTRACT_OUT_OF_GAS, CONTRACT_TRAP, ...), else null; readings: each reading's outcome, in batch order; runs: the contract runs (a call's, or those its readings triggered)",
        properties: {
          failure: { type: ["string", "null"] },
          runsTotal: int,
          runs: {
            type: "array",
            items: obj({ contractId: hexBytes(16), position: { ...nullable(int), description: "the triggering reading's position in the batch; null for a call" }, gasUsed: int, failure: nullable({ type: "string" }), events: { type: "array", items: obj(event) } }),
          },
          readings: { type: "array", items: { enum: ["READING_RECORDED", "READING_DUPLICATE", "READING_EQUIVOCATION", "READING_MALFORMED", "DEVICE_UNKNOWN", "DEVICE_NOT_ACTIVE", "READING_BAD_SIGNATURE", "READING_FROM_FUTURE", "READING_SEQUENCE_STALE"] } },
        },
      },
      body: {
        type: "object",
        description:
          "kind-specific fields (shared/tx-body.ts); amounts as decimal strings, bytes as hex. deployContract: contractId, codeHash, codeBytes, criteria, readingGasLimit; callContract: contractId, method, input, gasLimit, amount",
      },
    },
    ["id", "kind", "author", "authorPublicKey", "nonce", "fee", "bytes", "status", "body"],
  ),
  Contract: obj(contract),
  ContractDetail: obj({
    ...contract,
    recentRuns: {
      type: "array",
      description: "its latest runs, newest first (at most 50)",
      items: obj({ height: int, txIndex: int, runIndex: int, position: nullable(int), gasUsed: int, failure: nullable({ type: "string" }), events: int }),
    },
    atHeight: int,
    record: { ...stateProof, description: "the contract's record (contract/<id>) proven against the head's state root" },
  }),
  ContractEvent: obj({ contractId: hexBytes(16), height: int, txIndex: int, runIndex: int, eventIndex: int, position: { ...nullable(int), description: "the triggering reading's position in its batch; null for a call" }, ...event, cursor: { type: "string" } }),
  ContractStoragePage: obj({
    atHeight: int,
    stateRoot: hexBytes(32),
    items: { type: "array", items: obj({ key: hexAny, value: nullable(hexAny), proof: stateProof }) },
    next: { type: ["string", "null"], description: "cursor of the next page (pass as ?cursor=), null on the last page" },
  }),
  ContractStorageProof: obj({ atHeight: int, stateRoot: hexBytes(32), key: hexAny, value: nullable(hexAny), proof: stateProof }),
  Params: { type: "object", required: ["txFee", "codeByteFee", "gasPerToken", "contractGasMax", "contractsEnabled"], additionalProperties: { anyOf: [{ type: "integer" }, amount] } },
  TxAccepted: obj({ id: hexBytes(32), status: { const: "pending" } }),
  Validators: obj({
    epoch: int,
    epochBlocks: int,
    nextEpochAtHeight: int,
    quorum: int,
    lastProposer: hexBytes(16),
    nextProposer: nullable(hexBytes(16)),
    validators: {
      type: "array",
      items: obj({
        id: hexBytes(16),
        publicKey: hexBytes(32),
        rank: int,
        power: amount,
        votes: amount,
        selfStake: amount,
        endpoint: nullable({ type: "string" }),
        blocksProduced: int,
        signedHead: { type: "boolean" },
        proposing: { type: "boolean" },
      }),
    },
    candidates: {
      type: "array",
      items: obj({ id: hexBytes(16), endpoint: { type: "string" }, votes: amount, selfStake: amount, blocksProduced: int, jailedUntilEpoch: int, registeredHeight: int, elected: { type: "boolean" } }),
    },
  }),
  Account: obj({ id: hexBytes(16), balance: amount, staked: amount, unbonding: amount, nonce: int, nextNonce: int, votes: { type: "array", items: hexBytes(16) } }),
  Device: obj({
    id: hexBytes(16),
    publicKey: hexBytes(32),
    owner: hexBytes(16),
    status: { enum: ["active", "revoked", "quarantined"] },
    lastSequence: { type: "integer", minimum: -1 },
    readings: int,
    evidence: int,
    enrolledHeight: int,
    ttlDays: int,
    metadata: { type: "object", additionalProperties: { type: "string" } },
    lastReading: nullable(obj({ sequence: int, receivedAtMs: timeMs, height: int })),
    statusSinceMs: { ...nullable(timeMs), description: "block time at which the device left the active status; readings its gateways received before still land" },
    shortKid: { ...nullable({ type: "string", pattern: "^[0-9a-f]{2,8}$" }), description: "the short COSE kid the chain assigned at enrollment (compact readings name the device by it); null for devices enrolled before short kids" },
    evidenceRecords: {
      type: "array",
      description: "GET /v1/devices/:id only: the evidence on chain (at most 64 records), each with a one-line summary",
      items: { type: "object", required: ["kind", "summary", "reporter", "height"], properties: { kind: { enum: ["equivocation", "observed"] }, summary: { type: "string" }, reporter: hexBytes(16), height: int, sequence: nullable(int) } },
    },
    quarantine: {
      type: "object",
      description: "GET /v1/devices/:id of a quarantined device only: equivocation (two readings under one sequence: not liftable, the key is compromised) or reports from f + 1 validators (the owner may lift it: mote device lift)",
      required: ["cause", "liftable", "reporters", "sinceHeight"],
      properties: { cause: { enum: ["reports", "equivocation"] }, liftable: { type: "boolean" }, reporters: { type: "array", items: hexBytes(16) }, sinceHeight: nullable(int) },
    },
  }, ["id", "publicKey", "owner", "status", "lastSequence", "readings", "evidence", "enrolledHeight", "ttlDays", "metadata", "lastReading", "statusSinceMs", "shortKid"]),
  Reading: reading,
  Provenance: obj({
    reading: { allOf: [reading, obj({ cose: nullable({ ...hexAny, description: "null once the reading expired" }) })] },
    device: nullable(obj({ id: hexBytes(16), publicKey: nullable(hexBytes(32)), algorithm: { type: "string" }, signature: hexBytes(64), signedBytes: { ...hexAny, description: "the COSE Sig_structure (RFC 9052 §4.4)" }, valid: { type: "boolean" } })),
    gateway: obj({
      id: hexBytes(16),
      publicKey: hexBytes(32),
      attestation: obj({ version: int, count: int, root: hexBytes(32), signature: hexBytes(64) }),
      leafIndex: int,
      leaf: hexBytes(32),
      merklePath: { type: "array", items: hexBytes(32) },
      valid: { type: "boolean" },
    }),
    block: obj({ header: obj(header), txId: hexBytes(32), txIndex: int, txCount: int, txLeaf: hexBytes(32, "RFC 6962 leaf hash of the transaction bytes"), txMerklePath: { type: "array", items: hexBytes(32) }, txIncluded: { type: "boolean" } }),
    certificate: { allOf: [certificateCheck, obj({ canonical: nullable({ type: "boolean" }), decoded: certificate })] },
    state: {
      ...obj({
        atHeight: int,
        stateRoot: hexBytes(32, "the head's state root, against which both steps are proven"),
        device: {
          ...obj({
            key: { type: "string", description: "state key of the device record: device/<id hex>" },
            value: nullable({ ...hexAny, description: "the device record, CBOR (gateway/chain/records.ts deviceCodec); elements 7 (readings: the log size) and 9 (the log frontier), 0-based, of its array" }),
            siblings: { type: "array", items: hexBytes(32), description: "sparse Merkle sibling hashes, root level first" },
            terminal: nullable(obj({ keyHash: hexBytes(32), valueHash: hexBytes(32) })),
            valid: { type: "boolean", description: "the record is under the state root" },
          }),
          description: "step 1: the device's record in the state tree",
        },
        log: nullable({
          ...obj({
            record: obj({ sequence: int, digest: hexBytes(32), height: int, gatewayId: hexBytes(16), receivedAtMs: timeMs }),
            leafData: { ...hexAny, description: "cbor([sequence, digest, height, gatewayId, receivedAtMs]) of the record" },
            leaf: hexBytes(32, "RFC 6962 leaf hash: SHA-256(0x00 || leafData)"),
            index: { ...int, description: "0-based position of the reading in the device's log" },
            size: { ...int, description: "leaves in the device's log: the record's reading count" },
            auditPath: { type: "array", items: hexBytes(32), description: "RFC 9162 §2.1.3 inclusion proof, bottom-up" },
            frontier: { type: "array", items: hexBytes(32), description: "the record's log frontier: roots of the log's perfect subtrees, largest first" },
            root: hexBytes(32, "the log's root from the frontier: H(0x01 || p1 || H(0x01 || p2 || ... pk))"),
            matchesReading: { type: "boolean", description: "the record's sequence, digest, height, gateway and receipt time are this reading's" },
            valid: { type: "boolean", description: "the audit path puts the leaf at index under the root" },
          }),
          description: "step 2: the reading's entry in the device's log (null if the chain has none)",
        }),
        valid: { type: "boolean", description: "both steps verify (gateway/chain/reading-proof.ts verifyReadingPresent) and the entry is this reading" },
      }),
      description: "the chain state at the head commits to the reading through its device's record and reading log",
    },
    verified: { type: "boolean", description: "every link verified" },
  }),
  Health: obj({
    status: { enum: ["ok", "degraded"] },
    reasons: { type: "array", items: { type: "string" } },
    chainId: { type: "string" },
    nodeId: nullable(hexBytes(16)),
    height: int,
    headAgeMs: int,
    consensus: obj({ mode: { enum: ["solo", "pbft"] }, round: int, peersConnected: nullable(int) }),
    mempool: obj({ txs: int, bytes: int }),
    pendingReadings: nullable(int),
    streams: int,
    uptimeS: int,
  }),
};

export { ref };
