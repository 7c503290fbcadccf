// After every edit: the Save button follows the draft, and the preview follows soon after.

import { updateDirty } from "./draft.js";
import { schedulePreview } from "./preview.js";

const PREVIEW_DELAY_MS = 300;

export function edited() {
  updateDirty();
  schedulePreview(PREVIEW_DELAY_MS);
}
