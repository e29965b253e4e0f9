// A search's own settings, under the box: the relative cut-off (results scoring under that
// fraction of the best are hidden) and the prompt template the description is wrapped in. Left
// at "server default", the server's settings apply; they hold for the next search only as long
// as they are set here, and travel in its URL.
import type { Tuning } from './api.js';
import { h } from './dom.js';

/** The template choices; "custom" reads the text field. */
const TEMPLATE_CHOICES: Array<{ value: string; label: string }> = [
  { value: '', label: 'Server default' },
  { value: 'a photo of {}', label: '“a photo of {}”' },
  { value: '{}', label: 'None (the words as typed)' },
  { value: 'custom', label: 'My own…' },
];

/** The settings' controls and a way to read and set them. */
export interface TuningControls {
  /** The <details> holding the controls. */
  element: HTMLElement;
  /** What is set now. */
  read(): Tuning;
  /** Shows a search's settings (from its URL). */
  show(tuning: Tuning): void;
}

export function tuningControls(): TuningControls {
  const cutOff = h('input', { type: 'number', id: 'min-score', min: '0', max: '100', step: '5', inputmode: 'numeric', placeholder: 'default' });
  const template = h('select', { id: 'template' }, ...TEMPLATE_CHOICES.map((c) => h('option', { value: c.value }, c.label)));
  const custom = h('input', { type: 'text', id: 'template-custom', placeholder: 'a sketch of {}', maxlength: '200', hidden: true, 'aria-label': 'Your prompt template, with {} where the description goes' });
  template.addEventListener('change', () => {
    custom.hidden = template.value !== 'custom';
    if (!custom.hidden) custom.focus();
  });
  const element = h(
    'details',
    { class: 'tuning' },
    h('summary', {}, 'Search settings'),
    h('div', { class: 'tuning-fields' },
      h('label', { for: 'min-score', title: 'Results scoring under this share of the best result are hidden; 0 shows all.' }, 'Cut-off ', cutOff, ' % of the best score'),
      h('label', { for: 'template' }, 'Prompt template ', template),
      custom,
    ),
  );
  return {
    element,
    read: () => {
      const tuning: Tuning = {};
      if (cutOff.value.trim() !== '' && Number.isFinite(cutOff.valueAsNumber)) tuning.minScore = Math.min(100, Math.max(0, cutOff.valueAsNumber)) / 100;
      if (template.value === 'custom') {
        if (custom.value.trim() !== '') tuning.template = custom.value.trim();
      } else if (template.value !== '') {
        tuning.template = template.value;
      }
      return tuning;
    },
    show: (tuning) => {
      cutOff.value = tuning.minScore === undefined ? '' : String(Math.round(tuning.minScore * 100));
      const known = TEMPLATE_CHOICES.find((c) => c.value !== 'custom' && c.value === (tuning.template ?? ''));
      template.value = known?.value ?? 'custom';
      custom.value = known === undefined ? (tuning.template ?? '') : '';
      custom.hidden = template.value !== 'custom';
      if (tuning.minScore !== undefined || tuning.template !== undefined) (element as HTMLDetailsElement).open = true;
    },
  };
}
