/**
 * A dataset's person-index coverage and quality record, in words: how many of its records have a person id, how
 * many matched a person already in the index, how precise and complete the linking is estimated (and, where truth
 * is known, measured) to be, the uncertain pairs held for clerical review and the decisions on them, and when the
 * index last took it in. The server sends the record only to the dataset's owner, delegates, admins and linkers;
 * anyone else gets nothing and sees nothing here.
 */

import { PersonIndexQuality, ReviewField, ReviewPair } from './api';
import { formatDate, formatNumber } from './labels';
import { errorText, formatCount, formatShare, h } from './render';

/** The index's identifying fields as people write them. */
export const INDEX_FIELD_WORDS: Record<string, string> = {
  given_name: 'given name',
  surname: 'surname',
  dob: 'date of birth',
  sex: 'sex',
  postcode: 'postcode',
  nhs_number: 'NHS number',
  nino: 'National Insurance number'
};

function plural(count: number | undefined, one: string, many: string): string {
  const n = count ?? 0;
  return `${formatCount(n)} ${n === 1 ? one : many}`;
}

function listed(words: string[]): string {
  return words.length <= 1 ? (words[0] ?? '') : `${words.slice(0, -1).join(', ')} and ${words[words.length - 1]}`;
}

/** "1 uncertain pair held for review; 2 decided, 1 waiting for the next index update". */
export function reviewText(q: PersonIndexQuality): string {
  const held = q.review_held ?? q.review ?? 0;
  let text = held
    ? `${plural(held, 'uncertain pair', 'uncertain pairs')} held for clerical review`
    : 'No uncertain pair held for clerical review';
  const decided = q.review_decided ?? 0;
  const pending = q.review_pending ?? 0;
  if (decided || pending) {
    const parts = [];
    if (decided) {
      parts.push(`${formatCount(decided)} decided and applied`);
    }
    if (pending) {
      parts.push(`${formatCount(pending)} decided, waiting for the next index update`);
    }
    text += `; ${parts.join(', ')}`;
  }
  return text;
}

/** An estimate from the linkage model, or why there is none. */
function estimate(value: number | null | undefined): string {
  return value === null || value === undefined
    ? 'Not estimated: no pair of records was uncertain enough to judge'
    : `${formatShare(value)} (the linkage model's estimate)`;
}

/** The record's facts as [key, label, value in words]; a fact the record does not hold is left out. */
export function indexFacts(q: PersonIndexQuality): [string, string, string][] {
  const facts: [string, string, string][] = [];
  const records = q.records ?? 0;
  facts.push([
    'coverage',
    'Coverage',
    `${formatShare(q.coverage ?? 0)} of ${plural(records, 'record', 'records')} have a person id`
  ]);
  facts.push([
    'match_rate',
    'Match rate',
    q.match_rate === null || q.match_rate === undefined
      ? 'No record has been compared with the index yet'
      : `${formatShare(q.match_rate)} of the records compared matched a person already in the index`
  ]);
  facts.push(['estimated_precision', 'Estimated precision', estimate(q.estimated_precision)]);
  facts.push(['estimated_recall', 'Estimated recall', estimate(q.estimated_recall)]);
  const m = q.measured;
  if (m) {
    facts.push([
      'measured_precision',
      'Measured precision',
      m.precision === null
        ? 'Not measured: no linked pair of records has known truth'
        : `${formatShare(m.precision)} (${formatCount(m.correct_pairs)} of ${plural(m.linked_pairs, 'linked pair', 'linked pairs')} right, against known truth)`
    ]);
    facts.push([
      'measured_recall',
      'Measured recall',
      m.recall === null
        ? 'Not measured: known truth holds no pair of records of one person'
        : `${formatShare(m.recall)} (${formatCount(m.correct_pairs)} of ${plural(m.true_pairs, 'true pair', 'true pairs')} found)`
    ]);
    if (m.f1 !== null) {
      facts.push(['measured_f1', 'Measured F1 score', formatNumber(m.f1)]);
    }
  }
  facts.push(['review', 'Clerical review', reviewText(q)]);
  const fields = Object.keys(q.fields ?? {}).map(f => INDEX_FIELD_WORDS[f] ?? f.replace(/_/g, ' '));
  if (fields.length) {
    facts.push(['fields', 'Linked on', listed(fields)]);
  }
  if (q.updated_at) {
    const by = q.updated_by ? ` by ${q.updated_by}` : '';
    const version = q.version ? `, index version ${q.version}` : '';
    const count = q.updates ? ` (${plural(q.updates, 'update', 'updates')} so far)` : '';
    facts.push(['updated', 'Last update', `${formatDate(q.updated_at, true)}${by}${version}${count}`]);
  }
  return facts;
}

const MEANINGS: [string, string][] = [
  ['Coverage', 'the share of the dataset’s records that carry a person id a project can be granted.'],
  ['Match rate', 'of the records compared at the latest update, the share linked to someone already in the index.'],
  [
    'Estimated precision and recall',
    'what the linkage model expects from its match probabilities: the share of links that are right, and the share of true matches it made.'
  ],
  ['Measured precision and recall', 'the same, counted against known truth where the workspace holds any.'],
  [
    'Clerical review',
    'pairs the model was unsure of; a linker decides each one a match or not, and the next index update applies it.'
  ]
];

/**
 * The quality record as a section: warnings first, then the facts in words and what they mean (a disclosure
 * that opens from the keyboard). Nothing (an empty string) when the server sent no record.
 */
export function personIndexView(q: PersonIndexQuality | null | undefined, heading = 'h4'): HTMLElement | string {
  if (!q) {
    return '';
  }
  const parts: (HTMLElement | string)[] = [h(heading, {}, 'Person index')];
  const warnings = q.warnings ?? [];
  if (warnings.length) {
    parts.push(
      h(
        'ul',
        { class: 'wb-warnings wb-index-warnings' },
        ...warnings.map(w => h('li', { class: 'wb-error' }, `⚠ ${w}`))
      )
    );
  }
  if (!q.indexed) {
    parts.push(
      h(
        'p',
        { class: 'wb-note', 'data-fact': 'not_indexed' },
        q.person_level === false
          ? 'This dataset is not about people, so it has no place in the person index.'
          : 'This dataset is not linked to the person index yet.'
      )
    );
  } else {
    const list = h('dl', { class: 'wb-facts wb-index-facts' });
    for (const [key, label, value] of indexFacts(q)) {
      list.append(h('dt', {}, label), h('dd', { 'data-index-fact': key }, value));
    }
    parts.push(list);
    parts.push(
      h(
        'details',
        { class: 'wb-index-meanings' },
        h('summary', {}, 'What these figures mean'),
        h('dl', {}, ...MEANINGS.flatMap(([term, meaning]) => [h('dt', {}, term), h('dd', {}, meaning)]))
      )
    );
  }
  return h(
    'section',
    { class: 'wb-person-index', 'aria-label': `Person index quality of ${q.dataset_id}`, 'data-dataset': q.dataset_id },
    ...parts
  );
}

/** A review pair in words: "Row 17 and person wbp_… of the index", "Rows 17 and 240 of this dataset". */
export function pairText(pair: ReviewPair): string {
  return pair.kind === 'person'
    ? `Row ${formatCount(pair.row)} and person ${pair.candidate} of the index`
    : `Rows ${formatCount(pair.row)} and ${formatCount(Number(pair.candidate))} of this dataset`;
}

/** Record a decision on a pair; resolves to what to tell the linker. */
export type DecidePair = (pair: ReviewPair, decision: 'match' | 'non-match', note: string) => Promise<string>;

/** "82.4% likely one person; the index links them" — a pair's probability and state in words. */
export function pairOdds(pair: ReviewPair): string {
  return `${formatShare(pair.match_probability)} likely one person; the index ${pair.accepted ? 'links them' : 'keeps them apart'}`;
}

/** How a field's two values agree, as the panel says it (never by colour alone). */
export const AGREEMENT_WORDS: Record<ReviewField['agreement'], string> = {
  same: 'same',
  differs: 'differs',
  missing: 'missing on one side'
};

function fieldWords(field: string): string {
  const words = INDEX_FIELD_WORDS[field] ?? field.replace(/_/g, ' ');
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** "Differs: surname, postcode. Same: given name and date of birth." — the fields' agreement in one sentence. */
export function agreementText(fields: ReviewField[]): string {
  const order: ReviewField['agreement'][] = ['differs', 'same', 'missing'];
  const parts = order
    .map(word => {
      const named = fields.filter(f => f.agreement === word).map(f => INDEX_FIELD_WORDS[f.field] ?? f.field);
      const label = AGREEMENT_WORDS[word];
      return named.length ? `${label.charAt(0).toUpperCase()}${label.slice(1)}: ${listed(named)}.` : '';
    })
    .filter(Boolean);
  return parts.join(' ');
}

let described = 0;

/**
 * A pair's identifying fields as a table of two aligned columns (the record, the candidate), one row per field:
 * the field's name with its agreement in words ("differs"), and a class per agreement so that differences also
 * stand out in colour. A note instead when the fields cannot be shown.
 */
export function pairFieldsView(pair: ReviewPair): HTMLElement {
  if (pair.fields === null || pair.fields === undefined) {
    return h(
      'p',
      { class: 'wb-note wb-review-no-fields' },
      'The identifying fields cannot be shown: the dataset’s file changed since its last index update. An index update makes a new queue.'
    );
  }
  const other = pair.kind === 'person' ? 'Index person' : `Row ${formatCount(Number(pair.candidate))}`;
  const rows = pair.fields.map(f =>
    h(
      'tr',
      { class: `wb-agree-${f.agreement}`, 'data-field': f.field, 'data-agreement': f.agreement },
      h(
        'th',
        { scope: 'row' },
        fieldWords(f.field),
        ' ',
        h('span', { class: 'wb-agreement' }, AGREEMENT_WORDS[f.agreement])
      ),
      h('td', { class: f.record === null ? 'wb-field-none' : '' }, f.record ?? 'not recorded'),
      h('td', { class: f.candidate === null ? 'wb-field-none' : '' }, f.candidate ?? 'not recorded')
    )
  );
  return h(
    'table',
    { class: 'wb-review-fields' },
    h('caption', {}, `Identifying fields of ${pairText(pair)}, normalised`),
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        h('th', { scope: 'col' }, 'Field'),
        h('th', { scope: 'col' }, `Row ${formatCount(pair.row)}`),
        h('th', { scope: 'col' }, other)
      )
    ),
    h('tbody', {}, ...rows)
  );
}

/**
 * The clerical review queue for a linker, one card per uncertain pair (it fits a narrow side panel): the pair and
 * its match probability in words, its identifying fields side by side with their agreement (also in one sentence,
 * which the decision buttons are described by, so a keyboard or screen reader user hears it), a note, and "Match" / "Not a match" buttons, each labelled with its pair for
 * screen readers. A pair decided says so on its card; the next index update applies it.
 */
export function reviewQueueView(pairs: ReviewPair[], decide: DecidePair): HTMLElement {
  if (!pairs.length) {
    return h('p', { class: 'wb-note wb-review-empty' }, 'No uncertain pair awaits a decision.');
  }
  const list = h('ul', { class: 'wb-review-pairs', 'aria-label': 'Uncertain pairs to decide' });
  for (const pair of pairs) {
    const words = pairText(pair);
    const note = h('input', {
      type: 'text',
      name: 'note',
      class: 'wb-review-note',
      maxlength: '2000',
      placeholder: 'Note (optional)',
      'aria-label': `Note on ${words}`
    }) as HTMLInputElement;
    const outcome = h('p', { class: 'wb-review-outcome', role: 'status' });
    const summaryId = `wb-review-agreement-${++described}`;
    const summary = h(
      'p',
      { class: 'wb-review-agreement', id: summaryId },
      pair.fields?.length ? agreementText(pair.fields) : ''
    );
    const buttons = (['match', 'non-match'] as const).map(decision => {
      const label = decision === 'match' ? 'Match' : 'Not a match';
      const button = h(
        'button',
        {
          type: 'button',
          class: `wb-review-${decision} jp-mod-styled`,
          'data-decision': decision,
          'aria-label': `${label}: ${words}`,
          'aria-describedby': summaryId
        },
        label
      ) as HTMLButtonElement;
      button.addEventListener('click', () => {
        buttons.forEach(b => (b.disabled = true));
        outcome.className = 'wb-review-outcome';
        outcome.textContent = 'Sending…';
        decide(pair, decision, note.value.trim())
          .then(text => {
            outcome.textContent = text;
            outcome.classList.add('wb-ok');
            note.disabled = true;
          })
          .catch(error => {
            outcome.textContent = errorText(error);
            outcome.classList.add('wb-error');
            buttons.forEach(b => (b.disabled = false));
          });
      });
      return button;
    });
    list.append(
      h(
        'li',
        { class: 'wb-review-card', 'data-row': String(pair.row), 'data-candidate': pair.candidate },
        h('p', { class: 'wb-review-pair' }, words),
        h('p', { class: 'wb-note wb-review-odds' }, pairOdds(pair)),
        pairFieldsView(pair),
        summary,
        note,
        h('div', { class: 'wb-buttons' }, ...buttons),
        outcome
      )
    );
  }
  return list;
}
