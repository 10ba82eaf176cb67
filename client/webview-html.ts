/**
 * The page of an NN Lens webview (the loss panel, the Backprop view): one script and one style
 * sheet from out/, under a Content-Security-Policy that allows only them (by nonce) and the
 * webview's own resources.
 */
import * as vscode from 'vscode';
import { randomBytes } from 'node:crypto';

export interface WebviewPage {
  /** out/NAME.js and out/NAME.css. */
  bundle: string;
  title: string;
  /** Image sources besides the webview's own and data: (the loss panel exports blob: images). */
  images?: string;
}

export function webviewHtml(webview: vscode.Webview, extensionUri: vscode.Uri, page: WebviewPage): string {
  const nonce = randomBytes(16).toString('base64');
  const asset = (name: string) => webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'out', name));
  const csp = [
    "default-src 'none'",
    `img-src ${webview.cspSource} data:${page.images ? ` ${page.images}` : ''}`,
    `style-src ${webview.cspSource} 'nonce-${nonce}'`,
    `script-src 'nonce-${nonce}'`,
    `font-src ${webview.cspSource}`,
  ].join('; ');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${asset(`${page.bundle}.css`)}" nonce="${nonce}">
<title>${page.title}</title>
</head>
<body>
<script nonce="${nonce}" src="${asset(`${page.bundle}.js`)}"></script>
</body>
</html>`;
}
