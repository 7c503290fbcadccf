// Advice text from the API, as the page shows it.

// The API's advice may end in a shell command (cp <copy> config.yaml); the page offers
// a button for that instead.
export function withoutShellHint(text) {
  return String(text || "")
    .replace(/\s*To keep the rollback, restore the config it was pushed from:\s*cp\s[\s\S]*$/, "")
    .replace(/:?\s*\bcp\s+\S+\s+\S+/g, "");
}
