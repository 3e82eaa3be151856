// Typed errors of the HTTP API. Every refusal leaves as `{ error: { code, message } }` with a 4xx
// (or 503 when the gateway is busy): `code` is stable for programs, `message` says what to do.
import { MoteError } from "../../shared/errors.ts";

export class ApiError extends MoteError {
  constructor(
    readonly statusCode: number,
    code: string,
    message: string,
    /** Seconds before a retry makes sense (sent as Retry-After). */
    readonly retryAfterS?: number,
  ) {
    super(code, message);
  }
}

export const badRequest = (code: string, message: string): ApiError => new ApiError(400, code, message);
export const notFound = (code: string, message: string): ApiError => new ApiError(404, code, message);

export interface ErrorBody {
  error: { code: string; message: string };
}

export const errorBody = (code: string, message: string): ErrorBody => ({ error: { code, message } });
