export interface DocsPageOptions {
  /** URL of the OpenAPI document, e.g. `/api/openapi.json`. */
  specUrl: string;
  /** URL path where the swagger-ui-dist files are served, e.g. `/api/docs/assets`. */
  assetsPath: string;
}

/** sessionStorage key of the API key the page sends; per tab, gone when the tab closes. */
const STORAGE_KEY = 'crm.apiKey';

/**
 * The HTML of the Swagger UI page. The OpenAPI document itself needs an API key, so the page
 * first asks for one (kept in sessionStorage), then lets Swagger UI load the document with
 * `Authorization: Bearer <key>` through its `requestInterceptor`; the same key is pre-filled
 * as the `bearerAuth` authorization for "Try it out". A refused key brings the form back.
 *
 * Only the two URLs come from the server, HTML-escaped; the script reads the spec URL from a
 * data attribute, so no server value is ever spliced into JavaScript.
 */
export function renderDocsPage(options: DocsPageOptions): string {
  const assets = escapeHtml(options.assetsPath.replace(/\/+$/, ''));
  const specUrl = escapeHtml(options.specUrl);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>CRM API documentation</title>
<link rel="stylesheet" href="${assets}/swagger-ui.css">
<style>
  body { margin: 0; font-family: sans-serif; }
  #api-key-form { max-width: 28rem; margin: 4rem auto; padding: 1.5rem; border: 1px solid #d8dde7; border-radius: 6px; }
  #api-key-form h1 { font-size: 1.25rem; margin-top: 0; }
  #api-key-form input { display: block; width: 100%; box-sizing: border-box; margin: .5rem 0 1rem; padding: .5rem; }
  #api-key-error { color: #b00020; min-height: 1.2em; }
  #docs-bar { display: flex; justify-content: flex-end; padding: .5rem 1rem; }
  [hidden] { display: none !important; }
</style>
</head>
<body>
<form id="api-key-form" hidden autocomplete="off">
  <h1>CRM API documentation</h1>
  <p>The API description is only shown to API key holders. The key stays in this browser tab.</p>
  <label for="api-key">API key</label>
  <input id="api-key" name="api-key" type="password" required spellcheck="false">
  <button type="submit">Show documentation</button>
  <p id="api-key-error" role="alert"></p>
</form>
<div id="docs-bar" hidden><button type="button" id="forget-key">Forget API key</button></div>
<div id="swagger-ui" data-spec-url="${specUrl}"></div>
<script src="${assets}/swagger-ui-bundle.js"></script>
<script>
(function () {
  'use strict';
  var STORAGE_KEY = '${STORAGE_KEY}';
  var root = document.getElementById('swagger-ui');
  var form = document.getElementById('api-key-form');
  var input = document.getElementById('api-key');
  var error = document.getElementById('api-key-error');
  var bar = document.getElementById('docs-bar');
  var specUrl = new URL(root.dataset.specUrl, window.location.href).href;

  function readKey() {
    try { return window.sessionStorage.getItem(STORAGE_KEY); } catch (e) { return null; }
  }
  function storeKey(key) {
    try { window.sessionStorage.setItem(STORAGE_KEY, key); } catch (e) { /* private mode: keep it in memory only */ }
  }
  function forgetKey() {
    try { window.sessionStorage.removeItem(STORAGE_KEY); } catch (e) { /* nothing stored */ }
    // persistAuthorization keeps Swagger UI's own copy in localStorage.
    try { window.localStorage.removeItem('authorized'); } catch (e) { /* nothing stored */ }
  }
  function askForKey(message) {
    root.textContent = '';
    bar.hidden = true;
    form.hidden = false;
    error.textContent = message || '';
    input.value = '';
    input.focus();
  }

  function showDocs(key) {
    form.hidden = true;
    bar.hidden = false;
    var ui = window.SwaggerUIBundle({
      url: specUrl,
      domNode: root,
      deepLinking: true,
      persistAuthorization: true,
      requestInterceptor: function (request) {
        // Keep an Authorization the user set in the Authorize dialog; otherwise send the page's key.
        request.headers = request.headers || {};
        if (!request.headers.Authorization) request.headers.Authorization = 'Bearer ' + key;
        return request;
      },
      responseInterceptor: function (response) {
        if (response.url === specUrl && (response.status === 401 || response.status === 403)) {
          forgetKey();
          askForKey(response.status === 401 ? 'The API key was not accepted.' : 'This API key may not read the API description.');
        }
        return response;
      },
      onComplete: function () {
        ui.preauthorizeApiKey('bearerAuth', key);
      }
    });
  }

  form.addEventListener('submit', function (event) {
    event.preventDefault();
    var key = input.value.trim();
    if (!key) return askForKey('Enter an API key.');
    storeKey(key);
    showDocs(key);
  });
  document.getElementById('forget-key').addEventListener('click', function () {
    forgetKey();
    window.location.reload();
  });

  if (typeof window.SwaggerUIBundle !== 'function') {
    askForKey('Swagger UI could not be loaded.');
    return;
  }
  var saved = readKey();
  if (saved) showDocs(saved); else askForKey('');
})();
</script>
</body>
</html>
`;
}

/**
 * Directory of the swagger-ui-dist files (swagger-ui.css, swagger-ui-bundle.js), to serve
 * statically at the page's `assetsPath`.
 */
export function swaggerUiAssetsDir(): string {
  // The same function as require('swagger-ui-dist').getAbsoluteFSPath(), without the package
  // index, which would also load the 1.5 MB browser bundle into the server process.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const getAbsoluteFSPath = require('swagger-ui-dist/absolute-path.js') as () => string;
  return getAbsoluteFSPath();
}

function escapeHtml(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}
