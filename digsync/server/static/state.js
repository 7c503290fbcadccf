// The one mutable state of the page, shared by the modules that read and change it.

export const state = {
  config: null, // the whole config object being edited (unknown sections kept)
  original: null, // the config as loaded or last saved
  etag: null,
  previewSeq: 0,
  previewTimer: null,
  diffRequested: false,
  problems: [],
  problemsSignature: null,
  summaryShown: false,
  afterToken: null, // the write to repeat once a token is given
  saving: false,
  timeMemo: {}, // the time last used by hourly and by day-based frequencies
  confirmAction: null,
  confirmOpener: null, // the button to focus again when the dialog is cancelled
  enums: {}, // key path -> the values components.schemas.Config allows
  before: undefined, // the last schedule the server was known to run (a good preview)
  after: null,
  status: null, // the last good /status answer
};
