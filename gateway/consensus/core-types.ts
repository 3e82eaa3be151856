// The core's interface to its driver: what it needs (CoreConfig) and what it asks for (CoreAction).
// Kept apart from core.ts so drivers and tests can name the types without the state machine.
import type { Logger } from "pino";
import type { SignatureCheck } from "../../shared/consensus-certificate.ts";
import type { ConsensusMessage } from "../../shared/consensus-messages.ts";
import type { ConsensusApp } from "./app.ts";
import type { ConsensusEvidence } from "./evidence.ts";
import type { ConsensusOptions } from "./options.ts";
import type { WalRecord } from "./wal.ts";

export interface Signer {
  readonly id: Uint8Array;
  readonly publicKey: Uint8Array;
  sign(message: Uint8Array): Uint8Array;
}

export type TimerName = "propose" | "round" | "resend";

export type CoreAction =
  | { kind: "persist"; record: WalRecord }
  | { kind: "broadcast"; bytes: Uint8Array; message?: ConsensusMessage }
  | { kind: "timer"; timer: TimerName; atMs: number; height: number; round: number }
  | { kind: "decided"; height: number; round: number; blockHash: Uint8Array }
  | { kind: "needBlock"; height: number; blockHash: Uint8Array }
  | { kind: "evidence"; evidence: ConsensusEvidence }
  | { kind: "peerBehind"; peer: string; height: number }
  | { kind: "peerAhead"; peer: string; height: number };

export interface CoreConfig {
  app: ConsensusApp;
  /** Null for a node that follows consensus without voting. */
  signer: Signer | null;
  check: SignatureCheck;
  options: ConsensusOptions;
  log: Logger;
  pendingEvidence: () => readonly ConsensusEvidence[];
}

