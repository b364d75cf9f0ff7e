/**
 * What real Meta Ads Manager exports look like (csv-import.md, "Real Ads
 * Manager exports"): the columns that break rows down below the campaign,
 * the result indicators that mean leads, and what to tell an analyst whose
 * export lacks a column, in Ads Manager's own words. Pure: no I/O.
 */

/**
 * Normalized header names that split a campaign's day over several rows: per
 * ad or ad set, per placement or device, per audience slice. Such rows are
 * summed per campaign and day.
 */
const BREAKDOWN_COLUMNS = new Set([
  'ad_id',
  'ad_name',
  'ad_set_id',
  'ad_set_name',
  'adset_id',
  'adset_name',
  'placement',
  'platform',
  'publisher_platform',
  'platform_position',
  'device_platform',
  'impression_device',
  'age',
  'gender',
  'region',
  'country',
  'dma_region',
  "time_of_day_(viewer's_time_zone)",
  'time_of_day_(ad_account_time_zone)',
]);

export function isBreakdownColumn(normalized: string): boolean {
  return BREAKDOWN_COLUMNS.has(normalized);
}

/**
 * Ads Manager exports in the language of the analyst's account: Spanish, Portuguese, French, Italian and German headers
 * (normalized), each with the English header it stands for (normalized). Taken from real exports in public
 * repositories. `Amount spent (XXX)` in those languages is LOCALIZED_SPENT.
 */
const LOCALIZED_HEADERS: ReadonlyMap<string, string> = new Map([
  // Spanish
  ['nombre_de_la_campaña', 'campaign_name'],
  ['identificador_de_la_campaña', 'campaign_id'],
  ['id_de_la_campaña', 'campaign_id'],
  ['día', 'day'],
  ['inicio_del_informe', 'reporting_starts'],
  ['fin_del_informe', 'reporting_ends'],
  ['impresiones', 'impressions'],
  ['clics_en_el_enlace', 'link_clicks'],
  ['clics_(todos)', 'clicks_(all)'],
  ['resultados', 'results'],
  ['indicador_de_resultado', 'result_indicator'],
  ['indicador_de_resultados', 'result_indicator'],
  ['tipo_de_resultado', 'result_type'],
  ['clientes_potenciales', 'leads'],
  ['nombre_del_conjunto_de_anuncios', 'ad_set_name'],
  ['nombre_del_anuncio', 'ad_name'],
  ['identificador_del_anuncio', 'ad_id'],
  ['alcance', 'reach'],
  ['entrega_de_la_campaña', 'campaign_delivery'],
  ['estado_de_la_entrega', 'campaign_delivery'],
  ['costo_por_resultado', 'cost_per_result'],
  ['coste_por_resultado', 'cost_per_result'],
  ['configuración_de_atribución', 'attribution_setting'],
  ['edad', 'age'],
  ['sexo', 'gender'],
  ['ubicación', 'placement'],
  // Portuguese
  ['nome_da_campanha', 'campaign_name'],
  ['identificação_da_campanha', 'campaign_id'],
  ['id_da_campanha', 'campaign_id'],
  ['dia', 'day'],
  ['início_dos_relatórios', 'reporting_starts'],
  ['término_dos_relatórios', 'reporting_ends'],
  ['encerramento_dos_relatórios', 'reporting_ends'],
  ['impressões', 'impressions'],
  ['cliques_no_link', 'link_clicks'],
  ['cliques_(todos)', 'clicks_(all)'],
  ['indicador_de_resultados', 'result_indicator'],
  ['nome_do_conjunto_de_anúncios', 'ad_set_name'],
  ['nome_do_anúncio', 'ad_name'],
  ['veiculação_da_campanha', 'campaign_delivery'],
  ['custo_por_resultado', 'cost_per_result'],
  ['custo_por_resultados', 'cost_per_result'],
  ['configuração_de_atribuição', 'attribution_setting'],
  ['idade', 'age'],
  ['gênero', 'gender'],
  ['posicionamento', 'placement'],
  // French
  ['nom_de_la_campagne', 'campaign_name'],
  ['identifiant_de_la_campagne', 'campaign_id'],
  ['jour', 'day'],
  ['début_des_rapports', 'reporting_starts'],
  ['fin_des_rapports', 'reporting_ends'],
  ['clics_sur_un_lien', 'link_clicks'],
  ['clics_sur_le_lien', 'link_clicks'],
  ['clics_(tous)', 'clicks_(all)'],
  ['résultats', 'results'],
  ['indicateur_de_résultats', 'result_indicator'],
  ['indicateur_de_résultat', 'result_indicator'],
  ['prospects', 'leads'],
  ["nom_de_l'ensemble_de_publicités", 'ad_set_name'],
  ['nom_de_la_publicité', 'ad_name'],
  ['couverture', 'reach'],
  ['portée', 'reach'],
  ['diffusion_de_la_campagne', 'campaign_delivery'],
  ['coût_par_résultat', 'cost_per_result'],
  ['âge', 'age'],
  ['sexe', 'gender'],
  // Italian
  ['nome_della_campagna', 'campaign_name'],
  ['giorno', 'day'],
  ['impression', 'impressions'],
  ['impressioni', 'impressions'],
  ['clic_sul_link', 'link_clicks'],
  ['clic_(tutti)', 'clicks_(all)'],
  ['risultati', 'results'],
  ['indicatore_di_risultato', 'result_indicator'],
  ['nome_del_gruppo_di_inserzioni', 'ad_set_name'],
  ["nome_dell'inserzione", 'ad_name'],
  ['copertura', 'reach'],
  ['costo_per_risultato', 'cost_per_result'],
  ['costo_per_risultati', 'cost_per_result'],
  ['età', 'age'],
  ['sesso', 'gender'],
  // German
  ['kampagnenname', 'campaign_name'],
  ['kampagnen_id', 'campaign_id'],
  ['tag', 'day'],
  ['berichtsbeginn', 'reporting_starts'],
  ['berichtsende', 'reporting_ends'],
  ['impressionen', 'impressions'],
  ['link_klicks', 'link_clicks'],
  ['klicks_(alle)', 'clicks_(all)'],
  ['ergebnisse', 'results'],
  ['ergebnisindikator', 'result_indicator'],
  ['ergebnistyp', 'result_type'],
  ['name_der_anzeigengruppe', 'ad_set_name'],
  ['anzeigenname', 'ad_name'],
  ['reichweite', 'reach'],
  ['kampagnen_auslieferung', 'campaign_delivery'],
  ['kosten_pro_ergebnis', 'cost_per_result'],
  ['alter', 'age'],
  ['geschlecht', 'gender'],
]);

/**
 * `Importe gastado (MXN)`, `Valor usado (BRL)`, `Montant dépensé (EUR)`, `Importo speso (EUR)`,
 * `Ausgegebener Betrag (EUR)`, normalized.
 */
const LOCALIZED_SPENT =
  /^(importe_gastado|valor_usado|valor_gasto|montant_dépensé|importo_speso|ausgegebener_betrag)(_\([a-z]{3}\))?$/;

/**
 * The English Ads Manager header a normalized header stands for (`Nombre de la campaña` → `campaign_name`,
 * `Valor usado (BRL)` → `amount_spent_(brl)`), or the header itself.
 */
export function englishHeader(normalized: string): string {
  const spent = LOCALIZED_SPENT.exec(normalized);
  if (spent) return `amount_spent${spent[2] ?? ''}`;
  return LOCALIZED_HEADERS.get(normalized) ?? normalized;
}

/**
 * Header names only Meta's exports use: a file with one of them that fits no kind is a Meta export missing a column.
 */
const META_MARKER_NAMES = [
  'reporting_starts?',
  'reporting_ends?',
  'amount_spent(_\\([a-z]{3}\\))?',
  'campaign_name',
  'ad_set_name',
  'ad_name',
  'result_indicator',
  'result_type',
  'results',
  'reach',
  'link_clicks',
  'clicks_\\(all\\)',
  'cost_per_result',
  'campaign_delivery',
  'attribution_setting',
];
const META_MARKERS = new RegExp(`^(${META_MARKER_NAMES.join('|')})$`);

export function looksLikeMetaExport(normalized: readonly string[]): boolean {
  return normalized.some((h) => META_MARKERS.test(h));
}

/**
 * A `Result indicator` (or `Result type`) naming a lead action:
 * `actions:lead`, `actions:onsite_conversion.lead_grouped`,
 * `actions:offsite_conversion.fb_pixel_lead`, `Leads`, `On-Facebook leads`,
 * `Website leads`, `Meta leads`, and in a Spanish or French account
 * `Clientes potenciales`, `Prospects`. PostgreSQL regular expression, matched
 * case-insensitively.
 */
export const LEAD_RESULT_PATTERN = '(^|[^a-z])(leads?|clientes? potenciales?|prospects?)($|[^a-z])';

/** What a metrics file needs and a Meta export may lack, said in Ads Manager's words. */
export function missingInMetaWords(missing: { date: boolean; campaign: boolean }): string[] {
  const out: string[] = [];
  if (missing.campaign) {
    out.push(
      'no campaign column: add Campaign name (or Campaign ID: Columns ' +
        '→ Customize → Campaign ID) to the export, or name yours with ' +
        "--map 'Your column=campaign_name'",
    );
  }
  if (missing.date) {
    out.push(
      'no date column: export with Breakdown → By time → Day (a Day ' +
        "column), or name yours with --map 'Your column=date'; a report " +
        'over a range without Day cannot be split into days',
    );
  }
  return out;
}

/** Date layouts `--date-format` accepts besides ISO `YYYY-MM-DD`. */
export const DATE_FORMATS = ['DD/MM/YYYY', 'MM/DD/YYYY', 'DD-MM-YYYY', 'DD.MM.YYYY'] as const;
export type DateFormat = (typeof DATE_FORMATS)[number];

export function isDateFormat(s: string): s is DateFormat {
  return (DATE_FORMATS as readonly string[]).includes(s);
}

/** Separator and the order of day and month in a `DateFormat`. */
export function dateLayout(f: DateFormat): { sep: '/' | '-' | '.'; dayFirst: boolean } {
  return { sep: f[2] as '/' | '-' | '.', dayFirst: f.startsWith('DD') };
}

/**
 * `--map 'Their column=our_column,…'`: pairs of a header name as the file
 * writes it and a contract column. Returns the pairs (keys normalized) or
 * the problems with the text.
 */
export function parseColumnMap(
  text: string,
  known: ReadonlySet<string>,
  normalize: (s: string) => string,
): { map: Map<string, string> } | { problems: string[] } {
  const map = new Map<string, string>();
  const problems: string[] = [];
  for (const part of text.split(',')) {
    if (part.trim() === '') continue;
    const eq = part.lastIndexOf('=');
    if (eq <= 0 || eq === part.length - 1) {
      problems.push(`"${part.trim()}": expected Their column=our_column`);
      continue;
    }
    const from = normalize(part.slice(0, eq));
    const to = normalize(part.slice(eq + 1));
    if (!known.has(to))
      problems.push(`"${part.trim()}": ${to} is not a column of any kind (known: ${[...known].sort().join(', ')})`);
    else if (map.has(from)) problems.push(`"${part.trim()}": ${part.slice(0, eq).trim()} is mapped twice`);
    else map.set(from, to);
  }
  if (problems.length === 0 && map.size === 0)
    problems.push("no pairs given: expected --map 'Their column=our_column,…'");
  return problems.length > 0 ? { problems } : { map };
}
