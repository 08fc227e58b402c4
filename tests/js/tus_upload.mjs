// Uploads one file with tus-js-client, the reference tus client, and
// prints one JSON line: {"ok": true, "url": ..., "retries": N} or
// {"ok": false, "error": ...}.  The test in test_upload.py cuts the
// connection under it; the client must resume where the server stopped.
//
//   node tus_upload.mjs ENDPOINT FILE NAME
import { readFileSync } from "node:fs";
import * as tus from "tus-js-client";

const [endpoint, path, name] = process.argv.slice(2);
const data = readFileSync(path);
let retries = 0;

const upload = new tus.Upload(data, {
  endpoint,
  metadata: { filename: name, filetype: "application/octet-stream" },
  retryDelays: Array(20).fill(100),
  onShouldRetry: () => { retries++; return true; },
  onError: (err) => {
    console.log(JSON.stringify({ ok: false, error: String(err), retries }));
    process.exit(1);
  },
  onSuccess: () => {
    console.log(JSON.stringify({ ok: true, url: upload.url, retries }));
  },
});
upload.start();
