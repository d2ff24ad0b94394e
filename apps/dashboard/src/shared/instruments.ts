/**
 * Forms from instrument definitions: items, answer options, stem and licence, derived from the kapkit
 * definition (plain data), so a new or user-registered instrument gets its form with no code. Item text is
 * shown only where the licence lets kapkit ship it (`licence.itemTextIncluded`); otherwise "Item n", and the
 * clinic uses its own licensed form for the wording. Pure and browser-safe (type-only imports).
 */
import type { InstrumentDefinition, ResponseScale } from '@kapkit/core/instruments';
import type { BandView, InstrumentView, ScaleView } from './api.js';

function scaleView(scale: ResponseScale): ScaleView {
  return {
    min: scale.min,
    max: scale.max,
    options: scale.options?.map((o) => ({ value: o.value, label: o.label })) ?? null,
    anchors: scale.anchors ?? null,
  };
}

function bandsOf(definition: InstrumentDefinition | undefined): BandView[] {
  return (definition?.bands ?? []).map((b) => ({ id: b.id, label: b.label, min: b.min, max: b.max }));
}

/** The form model of an instrument. */
export function instrumentForm(definition: InstrumentDefinition): InstrumentView {
  const shipText = definition.licence.itemTextIncluded;
  return {
    id: definition.id,
    name: definition.name,
    title: definition.title,
    purpose: definition.purpose,
    direction: definition.direction,
    recall: definition.recall,
    stem: shipText ? (definition.stem ?? null) : null,
    itemTextIncluded: shipText,
    licence: {
      holder: definition.licence.holder,
      terms: definition.licence.terms,
      url: definition.licence.url ?? null,
    },
    items: definition.items.map((item, i) => ({
      number: i + 1,
      id: item.id,
      text: shipText && item.text ? item.text : `Item ${i + 1}`,
      // The item's own scale, else the instrument's (as itemScale in @kapkit/core).
      scale: scaleView(item.scale ?? definition.scale),
    })),
    supplementary: (definition.supplementary ?? []).map((q, i) => ({
      id: q.id,
      text: shipText && q.text ? q.text : `Supplementary question ${i + 1}`,
      scale: scaleView(q.scale),
    })),
    range: { min: definition.range.min, max: definition.range.max },
    bands: bandsOf(definition),
    safetyItems: (definition.safety ?? []).map((r) => r.item),
  };
}
