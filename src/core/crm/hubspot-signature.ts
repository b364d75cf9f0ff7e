import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * HubSpot's v3 request signature (developers.hubspot.com, "Validating requests"): X-HubSpot-Signature-v3 is the
 * base64 HMAC-SHA256, keyed with the app's client secret, of method + URI + body + X-HubSpot-Request-Timestamp, the
 * URI being the full address HubSpot called with some URL-encoded characters decoded; a timestamp (milliseconds)
 * more than 5 minutes old is refused, so that a captured request cannot be replayed.
 */

export const MAX_AGE_MS = 5 * 60_000;

/** The characters HubSpot decodes in the URI before signing. */
const DECODED: Record<string, string> = {
  '%3A': ':',
  '%2F': '/',
  '%3F': '?',
  '%40': '@',
  '%21': '!',
  '%24': '$',
  '%27': "'",
  '%28': '(',
  '%29': ')',
  '%2A': '*',
  '%2C': ',',
  '%3B': ';',
};

export function signedUri(uri: string): string {
  return uri.replace(/%(3A|2F|3F|40|21|24|27|28|29|2A|2C|3B)/gi, (m) => DECODED[m.toUpperCase()]!);
}

/** The signature HubSpot sends for this request. */
export function hubSpotSignature(secret: string, method: string, uri: string, body: string, timestamp: string): string {
  return createHmac('sha256', secret)
    .update(`${method}${signedUri(uri)}${body}${timestamp}`, 'utf8')
    .digest('base64');
}

export type SignatureCheck = { ok: true } | { ok: false; reason: string };

/** Checks a request's v3 signature and its age; compares in constant time. */
export function checkHubSpotSignature(
  secret: string,
  request: { method: string; uri: string; body: string; signature: string | undefined; timestamp: string | undefined },
  nowMs: number,
): SignatureCheck {
  const { signature, timestamp } = request;
  if (!signature || !timestamp)
    return { ok: false, reason: 'X-HubSpot-Signature-v3 and X-HubSpot-Request-Timestamp are required' };
  if (!/^\d{10,16}$/.test(timestamp))
    return { ok: false, reason: 'X-HubSpot-Request-Timestamp: expected milliseconds' };
  const age = nowMs - Number(timestamp);
  if (age > MAX_AGE_MS) return { ok: false, reason: 'the request is more than 5 minutes old (a replay is refused)' };
  if (age < -MAX_AGE_MS) return { ok: false, reason: 'the request timestamp is more than 5 minutes ahead' };
  const expected = Buffer.from(
    hubSpotSignature(secret, request.method, request.uri, request.body, timestamp),
    'base64',
  );
  const given = Buffer.from(signature.trim(), 'base64');
  if (given.length !== expected.length || !timingSafeEqual(given, expected))
    return { ok: false, reason: 'the signature does not match (check HUBSPOT_APP_SECRET and CRM_WEBHOOK_PUBLIC_URL)' };
  return { ok: true };
}
