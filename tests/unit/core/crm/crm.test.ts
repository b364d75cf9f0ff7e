import { describe, expect, test } from '@jest/globals';
import { MalformedBody, parseStatusMap, readHubSpotBody, readLeadsBody } from '../../../../src/core/crm/events.js';
import { checkHubSpotSignature, hubSpotSignature, signedUri } from '../../../../src/core/crm/hubspot-signature.js';

const NOW = Date.parse('2025-11-15T12:00:00Z');
const { map } = parseStatusMap('Hot Lead=qualified, Won=converted');

describe('CRM_STATUS_MAP', () => {
  test('adds to the defaults, case-insensitively', () => {
    expect(map.get('hot lead')).toBe('qualified');
    expect(map.get('open_deal')).toBe('qualified');
    expect(map.get('qualified')).toBe('qualified');
  });

  test('every bad pair is named with the fix', () => {
    expect(parseStatusMap('Hot=,=qualified,Warm=maybe,Won=converted').problems).toEqual([
      'CRM_STATUS_MAP: "Hot=" is not crm value=project status',
      'CRM_STATUS_MAP: "=qualified" is not crm value=project status',
      'CRM_STATUS_MAP: "Warm=maybe" maps to maybe; expected one of new, contacted, qualified, converted, lost, ' +
        'unqualified',
    ]);
  });
});

describe('POST /webhooks/leads bodies', () => {
  const read = (events: unknown) => readLeadsBody(JSON.stringify({ events }), map, NOW);

  test('sub-millisecond instants keep their microseconds, in any zone; nanoseconds are cut to them', () => {
    const at = (changed_at: string) =>
      read([{ event_id: 'u1', lead_id: 'L1', status: 'new', changed_at }])[0]!.changedAt;
    expect(at('2025-11-15T10:00:00.123456Z')).toBe('2025-11-15T10:00:00.123456Z');
    expect(at('2025-11-15T10:00:00.1234+02:00')).toBe('2025-11-15T08:00:00.123400Z');
    expect(at('2025-11-15T10:00:00.123456789Z')).toBe('2025-11-15T10:00:00.123456Z');
    expect(at('2025-11-15T10:00:00.5Z')).toBe('2025-11-15T10:00:00.500Z');
  });

  test('a valid event: mapped status, the instant in UTC', () => {
    expect(
      read([{ event_id: 'e1', lead_id: 'L1', status: 'Hot Lead', changed_at: '2025-11-15T10:00:00+02:00' }]),
    ).toEqual([
      {
        index: 0,
        eventId: 'e1',
        crm: 'crm',
        crmRecordId: null,
        leadId: 'L1',
        kind: 'status',
        rawStatus: 'Hot Lead',
        status: 'qualified',
        changedAt: '2025-11-15T08:00:00.000Z',
        reason: null,
      },
    ]);
  });

  test.each([
    [{ lead_id: 'L1', status: 'new', changed_at: '2025-11-15T10:00:00Z' }, 'event_id: expected a non-empty'],
    [
      { event_id: 'e', status: 'new', changed_at: '2025-11-15T10:00:00Z' },
      'give exactly one of lead_id and crm_record_id',
    ],
    [
      { event_id: 'e', lead_id: 'L', crm_record_id: 'R', status: 'new', changed_at: '2025-11-15T10:00:00Z' },
      'give exactly one',
    ],
    [{ event_id: 'e', lead_id: 'L', changed_at: '2025-11-15T10:00:00Z' }, 'status: missing'],
    [
      { event_id: 'e', lead_id: 'L', status: 'Cold', changed_at: '2025-11-15T10:00:00Z' },
      'status "Cold" is not mapped',
    ],
    [
      { event_id: 'e', lead_id: 'L', status: 'new', changed_at: '2025-11-15' },
      'changed_at: expected an ISO 8601 instant',
    ],
    [{ event_id: 'e', lead_id: 'L', status: 'new', changed_at: '2025-11-15T10:00:00' }, 'with its zone'],
    [{ event_id: 'e', lead_id: 'L', status: 'new', changed_at: '2025-02-30T10:00:00Z' }, 'not a real date'],
    [
      { event_id: 'e', lead_id: 'L', status: 'new', changed_at: '2025-11-17T10:00:00Z' },
      'more than a day in the future',
    ],
    ['just text', 'not an object'],
  ])('invalid, with its reason: %j', (event, reason) => {
    const [e] = read([event]);
    expect(e!.reason).toContain(reason);
    expect(e!.eventId).toMatch(/\S/);
  });

  test('an invalid event without an id is kept under a fingerprint: the same event sent again is the same', () => {
    const bad = { lead_id: 'L1', status: 'new' };
    expect(read([bad])[0]!.eventId).toBe(read([bad])[0]!.eventId);
    expect(read([bad])[0]!.eventId).toMatch(/^sha256:[0-9a-f]{32}$/);
  });

  test.each([
    ['not json', 'the body is not JSON'],
    ['[]', 'expected {"events": [ … ]}'],
    ['{"events": []}', '"events" is empty'],
    [JSON.stringify({ events: Array.from({ length: 1001 }, () => ({})) }), '1001 events; at most 1000'],
  ])('a body refused as a whole (400): %s', (body, message) => {
    expect(() => readLeadsBody(body.slice(0, 5000), map, NOW)).toThrow(MalformedBody);
    expect(() => readLeadsBody(body, map, NOW)).toThrow(message);
  });
});

describe('HubSpot batches', () => {
  const settings = { statusProperty: 'hs_lead_status', leadIdProperty: 'fb_lead_id' };
  const event = (over: Record<string, unknown>) => ({
    eventId: 1,
    subscriptionId: 2,
    portalId: 3,
    occurredAt: NOW,
    subscriptionType: 'contact.propertyChange',
    attemptNumber: 0,
    objectId: 123,
    propertyName: 'hs_lead_status',
    propertyValue: 'OPEN_DEAL',
    ...over,
  });
  const read = (batch: unknown[]) => readHubSpotBody(JSON.stringify(batch), settings, map);

  test('a lead-status change of a contact, keyed by portal, subscription and event id', () => {
    expect(read([event({})])[0]).toMatchObject({
      eventId: '3:2:1',
      // Contact ids are per portal.
      crm: 'hubspot:3',
      crmRecordId: '123',
      status: 'qualified',
      changedAt: '2025-11-15T12:00:00.000Z',
      reason: null,
    });
  });

  test('the lead-id property links the contact to its lead', () => {
    expect(read([event({ propertyName: 'fb_lead_id', propertyValue: 'L42' })])[0]).toMatchObject({
      kind: 'link',
      leadId: 'L42',
      crmRecordId: '123',
      reason: null,
    });
  });

  test('the generic object.propertyChange of a contact (object type 0-1) reads as contact.propertyChange', () => {
    const generic = { subscriptionType: 'object.propertyChange', objectTypeId: '0-1', changeFlag: 'UPDATED' };
    expect(read([event(generic)])[0]).toMatchObject({ crmRecordId: '123', status: 'qualified', reason: null });
    const [deal, untyped] = read([
      event({ ...generic, objectTypeId: '0-3' }),
      event({ subscriptionType: 'object.propertyChange' }),
    ]);
    expect(deal!.reason).toBe(
      'object.propertyChange of object type 0-3 is not a contact (0-1); subscribe to contacts only',
    );
    expect(untyped!.reason).toBe(
      'object.propertyChange of object type (none) is not a contact (0-1); subscribe to contacts only',
    );
  });

  test('anything else is a dead letter that says what it was', () => {
    const [a, b, c] = read([
      event({ subscriptionType: 'deal.creation' }),
      event({ propertyName: 'email' }),
      event({ propertyValue: 'SOMETHING_NEW' }),
    ]);
    expect(a!.reason).toBe('deal.creation is not a contact.propertyChange; subscribe to those only');
    expect(b!.reason).toBe('property email is neither hs_lead_status nor a lead id property');
    expect(c!.reason).toBe('status "SOMETHING_NEW" is not mapped; add it to CRM_STATUS_MAP');
  });
});

describe('the v3 signature', () => {
  const secret = 'yyyyyyyy-yyyy-yyyy-yyyy-yyyyyyyyyyyy';
  const body =
    '[{"eventId":1,"subscriptionId":12345,"portalId":62515,"occurredAt":1564113600000,"subscriptionType":' +
    '"contact.propertyChange","attemptNumber":0,"objectId":123,"propertyName":"hs_lead_status","propertyValue":' +
    '"OPEN_DEAL","changeSource":"CRM","appId":54321}]';
  // Computed once with Python's hmac module, as HubSpot documents it (method + URI + body + timestamp, base64).
  const KNOWN = 'bC+wq2s4MtUYs7Cjkvh3HQQaHxnb1+ULU3h/DIyYJ8s=';
  const request = (over: Partial<Parameters<typeof checkHubSpotSignature>[1]> = {}) => ({
    method: 'POST',
    uri: 'https://hooks.example.com/webhooks/hubspot?portal=62515&name=a%3Ab',
    body,
    signature: KNOWN,
    timestamp: '1564113600123',
    ...over,
  });

  test('matches the value computed independently, with the URI decoded as HubSpot signs it', () => {
    expect(signedUri('https://h.example/x?a=%3A%2f%3F%40%21%24%27%28%29%2A%2C%3B%20')).toBe(
      "https://h.example/x?a=:/?@!$'()*,;%20",
    );
    const r = request();
    expect(hubSpotSignature(secret, r.method, r.uri, r.body, r.timestamp)).toBe(KNOWN);
    expect(checkHubSpotSignature(secret, r, 1564113600123 + 60_000)).toEqual({ ok: true });
  });

  test('refuses a changed body, another secret, an old or future timestamp, missing headers', () => {
    const at = 1564113600123;
    expect(checkHubSpotSignature(secret, request({ body: body.replace('OPEN_DEAL', 'NEW') }), at)).toMatchObject({
      ok: false,
    });
    expect(checkHubSpotSignature('another', request(), at).ok).toBe(false);
    expect(checkHubSpotSignature(secret, request(), at + 300_001)).toEqual({
      ok: false,
      reason: 'the request is more than 5 minutes old (a replay is refused)',
    });
    expect(checkHubSpotSignature(secret, request(), at - 300_001).ok).toBe(false);
    expect(checkHubSpotSignature(secret, request({ signature: undefined }), at).ok).toBe(false);
    expect(checkHubSpotSignature(secret, request({ timestamp: 'yesterday' }), at).ok).toBe(false);
  });
});
