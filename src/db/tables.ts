import type { ColumnType, Generated, Insertable, Selectable, Updateable } from 'kysely';

/** numeric comes back from pg as an exact decimal string; we write strings too. */
type Numeric = ColumnType<string, string | number, string | number>;
type NullableNumeric = ColumnType<string | null, string | number | null, string | number | null>;
/** bigint comes back as a string (exact); counts are written as numbers or strings. */
type BigCount = ColumnType<string | null, string | number | null, string | number | null>;
/** date is parsed as a plain `YYYY-MM-DD` string (see connect.ts), never a JS Date. */
type DateText = ColumnType<string, string, string>;
type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;
type Json = ColumnType<unknown, string, string>;

export interface ClientsTable {
  client_id: string;
  client_name: string | null;
  target_cpql: NullableNumeric;
  /** sql/016: the client's own target cost per lead (lead mode of NO_QUALIFIED_DATA campaigns). */
  target_cpl: NullableNumeric;
  alert_emails: ColumnType<string[], string[] | undefined, string[]>;
  timezone: ColumnType<string, string | undefined, string>;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface CampaignsTable {
  campaign_id: string;
  client_id: string | null;
  campaign_name: string | null;
  daily_budget: NullableNumeric;
  start_date: ColumnType<string | null, string | null, string | null>;
  end_date: ColumnType<string | null, string | null, string | null>;
  platform: ColumnType<string, string | undefined, string>;
  status: string | null;
  account_id: string | null;
  currency: string | null;
  lifetime_budget: NullableNumeric;
  objective: string | null;
  effective_status: string | null;
  source_updated_at: ColumnType<Date | null, Date | string | null, Date | string | null>;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface CampaignMetricsTable {
  campaign_id: string;
  date: DateText;
  impressions: BigCount;
  clicks: BigCount;
  all_clicks: BigCount;
  spend: NullableNumeric;
  ctr: ColumnType<string | null, never, never>;
  /** spend in integer millionths, generated; NULL when spend has more than six decimals (sql/007). */
  spend_micros: ColumnType<string | null, never, never>;
  total_leads: number | null;
  qualified_leads: number | null;
  source: ColumnType<string, string | undefined, string>;
  /** Facebook's CTR string (a percentage), as sent. */
  source_ctr: NullableNumeric;
  lead_action: string | null;
  actions: ColumnType<unknown, string | null, string | null>;
  quality_flags: ColumnType<string[], string[] | undefined, string[]>;
  updated_at: Timestamp;
}

export interface FbSyncStateTable {
  account_id: string;
  stream: string;
  watermark: ColumnType<Date, Date | string, Date | string>;
  updated_at: Timestamp;
}

export interface FbAccountRunsTable {
  run_id: string;
  account_id: string;
  outcome: 'succeeded' | 'failed' | 'deferred';
  since: ColumnType<string | null, string | null, string | null>;
  until: ColumnType<string | null, string | null, string | null>;
  calls: ColumnType<number, number | undefined, number>;
  counts: Json;
  warnings: Json;
  error: string | null;
  finished_at: Timestamp;
}

export interface CampaignLeadsTable {
  lead_id: string;
  campaign_id: string;
  created_at: ColumnType<Date, Date | string, Date | string>;
  status: string;
  source: ColumnType<string, string | undefined, string>;
  updated_at: Timestamp;
}

export interface LeadStatusChangesTable {
  lead_id: string;
  status: string;
  changed_at: ColumnType<Date, Date | string, Date | string>;
  recorded_at: Timestamp;
}

export interface JobRunsTable {
  run_id: Generated<string>;
  job: string;
  args: Json;
  host: string;
  pid: number;
  started_at: Timestamp;
  finished_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  status: ColumnType<
    'running' | 'succeeded' | 'failed' | 'interrupted',
    'running' | undefined,
    'succeeded' | 'failed' | 'interrupted'
  >;
  exit_code: number | null;
  /** DEFAULT '{}' until the run ends. */
  counts: ColumnType<unknown, string | undefined, string>;
  summary: ColumnType<unknown, string | null | undefined, string | null>;
  error_summary: string | null;
}

export interface ScoringConfigsTable {
  config_id: string;
  config: Json;
  created_at: Timestamp;
}

export interface CampaignScoresTable {
  campaign_id: string;
  date: DateText;
  total_score: Numeric;
  cost_efficiency_score: Numeric;
  lead_quality_score: Numeric;
  volume_score: Numeric;
  trend_score: Numeric;
  engagement_score: Numeric;
  recommendation: string;
  recommendation_details: Json;
  is_new: boolean;
  flags: ColumnType<string[], string[] | undefined, string[]>;
  config_id: string;
  run_id: string | null;
  scored_at: Timestamp;
  /** docs/decisions.md; NULL on rows scored before sql/011. */
  action: string | null;
  action_candidate: string | null;
  action_gate: string | null;
  action_reason: string | null;
  window_spend: NullableNumeric;
  window_qualified_leads: number | null;
  /** sql/015; NULL on rows scored before it or with the decision layer off. */
  action_streak: number | null;
  /** sql/016: the window that triggered the cut in force; NULL when not a cut or scored before it. */
  action_window: string | null;
}

/** sql/015: the sums a scored date's client priors are built from ('' for no client or no currency). */
export interface ClientPriorsTable {
  date: DateText;
  client_id: string;
  currency: string;
  campaigns: number;
  spend: number;
  qualified_leads: ColumnType<string, number | string, number | string>;
  sum_rate: number;
  sum_rate_squared: number;
  sum_inverse_spend: number;
}

export interface ScoreHistoryTable {
  history_id: Generated<string>;
  run_id: string | null;
  campaign_id: string;
  date: DateText;
  total_score: Numeric;
  recommendation: string;
  config_id: string;
  scored_at: Timestamp;
  action: string | null;
}

export interface ScoringRunsTable {
  run_id: string;
  date: DateText;
  config_id: string;
  campaigns_scored: number;
  recommendations: Json;
  flags: Json;
  warnings: Json;
  scored_at: Timestamp;
}

export interface SchemaMigrationsTable {
  filename: string;
  checksum: string;
  applied_at: Timestamp;
}

export type DigestStatus = 'sending' | 'done' | 'abandoned';
export type DeliveryStatus = 'pending' | 'sending' | 'sent' | 'rejected' | 'failed' | 'unconfirmed';

export interface AlertDigestsTable {
  digest_id: Generated<string>;
  client_id: string;
  date: DateText;
  run_id: string | null;
  status: ColumnType<DigestStatus, DigestStatus | undefined, DigestStatus>;
  subject: string;
  items: Json;
  counts: Json;
  html: string;
  text: string;
  resend: ColumnType<boolean, boolean | undefined, boolean>;
  created_at: Timestamp;
  finished_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
}

export interface AlertDeliveriesTable {
  digest_id: string;
  recipient: string;
  status: ColumnType<DeliveryStatus, DeliveryStatus | undefined, DeliveryStatus>;
  transport: string | null;
  message_id: string | null;
  attempts: ColumnType<number, number | undefined, number>;
  error: string | null;
  attempted_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  finished_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
}

export interface BackupsTable {
  key: string;
  created_at: Timestamp;
  size: ColumnType<string, string | number, string | number>;
  sha256: string;
  server_version: string;
  encryption: string;
  run_id: string | null;
  verified_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  verify_method: 'readback' | 'restore' | null;
  verify_ok: boolean | null;
  verify_problems: ColumnType<unknown, string | undefined, string>;
  deleted_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
}

/** sql/012: who may sign in to status-server's pages. */
export interface DashboardUsersTable {
  username: string;
  password_hash: string;
  agency_wide: boolean;
  client_ids: Generated<string[]>;
  created_at: Generated<Date>;
  password_changed_at: Generated<Date>;
}

export interface Database {
  clients: ClientsTable;
  campaigns: CampaignsTable;
  campaign_metrics: CampaignMetricsTable;
  campaign_leads: CampaignLeadsTable;
  lead_status_changes: LeadStatusChangesTable;
  job_runs: JobRunsTable;
  scoring_configs: ScoringConfigsTable;
  campaign_scores: CampaignScoresTable;
  score_history: ScoreHistoryTable;
  client_priors: ClientPriorsTable;
  scoring_runs: ScoringRunsTable;
  schema_migrations: SchemaMigrationsTable;
  fb_sync_state: FbSyncStateTable;
  fb_account_runs: FbAccountRunsTable;
  alert_digests: AlertDigestsTable;
  alert_deliveries: AlertDeliveriesTable;
  backups: BackupsTable;
  dashboard_users: DashboardUsersTable;
}

export type Client = Selectable<ClientsTable>;
export type NewClient = Insertable<ClientsTable>;
export type Campaign = Selectable<CampaignsTable>;
export type NewCampaign = Insertable<CampaignsTable>;
export type CampaignUpdate = Updateable<CampaignsTable>;
export type CampaignMetric = Selectable<CampaignMetricsTable>;
export type NewCampaignMetric = Insertable<CampaignMetricsTable>;
export type CampaignLead = Selectable<CampaignLeadsTable>;
export type NewCampaignLead = Insertable<CampaignLeadsTable>;
export type NewLeadStatusChange = Insertable<LeadStatusChangesTable>;
export type JobRun = Selectable<JobRunsTable>;
export type CampaignScore = Selectable<CampaignScoresTable>;
export type ScoreHistoryRow = Selectable<ScoreHistoryTable>;
export type ScoringRun = Selectable<ScoringRunsTable>;
