// Shared set-up of the browser tests: the service under test, Chromium through
// playwright-core, GraphQL calls from the test itself and the request log.
//
// tests/browser.rs starts `seatwarden serve --demo` and passes:
//   SEATWARDEN_URL              the service's base URL, e.g. http://127.0.0.1:40123
//   SEATWARDEN_DEMO_PASSWORD    the password the demo banner printed
//   SEATWARDEN_SCREENSHOT_DIR   the folder that receives the screenshots
//   SEATWARDEN_CHROMIUM         Chromium's executable (default /usr/bin/chromium)

import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { chromium } from "playwright-core";

function required(name) {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set; tests/browser.rs sets it when it runs these scripts`);
  return value;
}

export const baseUrl = required("SEATWARDEN_URL").replace(/\/$/, "");
export const password = required("SEATWARDEN_DEMO_PASSWORD");
export const screenshotDir = required("SEATWARDEN_SCREENSHOT_DIR");
const executablePath = process.env.SEATWARDEN_CHROMIUM || "/usr/bin/chromium";

/** Timeout of each Playwright wait, in milliseconds. */
export const WAIT_MS = 15000;

// Chromium's background services (updates, sync, field trials) would contact
// other hosts; these switches keep the browser on the service under test.
const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/**
 * Launches Chromium with a new, empty profile and returns the browser context
 * and a function that closes it and deletes the profile.
 */
export async function launchBrowser() {
  const profile = mkdtempSync(join(tmpdir(), "seatwarden-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1280, height: 900 },
    timezoneId: "UTC",
    locale: "en-GB",
  });
  context.setDefaultTimeout(WAIT_MS);
  const close = async () => {
    await context.close();
    rmSync(profile, { recursive: true, force: true });
  };
  return { context, close };
}

/**
 * Records every URL the context's pages request, WebSockets included, and
 * every console error, so a test can check that nothing left the origin.
 */
export function recordTraffic(context) {
  const urls = [];
  const consoleErrors = [];
  const watch = (page) => {
    page.on("websocket", (socket) => urls.push(socket.url()));
    page.on("console", (message) => {
      if (message.type() === "error") consoleErrors.push(`${page.url()}: ${message.text()}`);
    });
    page.on("pageerror", (error) => consoleErrors.push(`${page.url()}: uncaught ${error.message}`));
  };
  context.on("request", (request) => urls.push(request.url()));
  context.pages().forEach(watch);
  context.on("page", watch);
  return { urls, consoleErrors };
}

/** Asserts that every recorded URL is on the service's origin (or an inline data: URL). */
export function assertSameOrigin(urls) {
  const origin = new URL(baseUrl);
  const socketOrigin = `${origin.protocol === "https:" ? "wss:" : "ws:"}//${origin.host}`;
  assert.ok(urls.length > 0, "no request was recorded");
  for (const url of urls) {
    if (url.startsWith("data:") || url === "about:blank") continue;
    const parsed = new URL(url);
    const allowed = parsed.origin === origin.origin || `${parsed.protocol}//${parsed.host}` === socketOrigin;
    assert.ok(allowed, `request outside ${origin.origin}: ${url}`);
  }
}

/** Writes a full-page screenshot as NAME.png and returns its path. */
export async function screenshot(page, name) {
  mkdirSync(screenshotDir, { recursive: true });
  const path = join(screenshotDir, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

/** Sends a GraphQL operation to the service and returns `data`; fails on errors. */
export async function graphql(query, variables = {}, token = null) {
  const headers = { "Content-Type": "application/json" };
  if (token) headers.Authorization = `Bearer ${token}`;
  const response = await fetch(`${baseUrl}/graphql`, {
    method: "POST",
    headers,
    body: JSON.stringify({ query, variables }),
  });
  assert.equal(response.status, 200, `POST /graphql answered HTTP ${response.status}`);
  const body = await response.json();
  assert.equal(body.errors, undefined, `GraphQL errors for ${query}: ${JSON.stringify(body.errors)}`);
  return body.data;
}

/** Logs a demo user in through the API and returns the bearer token. */
export async function login(slice, username, channel = "WEB") {
  const data = await graphql(
    `mutation($input: LoginInput!) {
      login(input: $input) {
        __typename
        ... on LoginSuccess { token }
        ... on LoginRejected { reason message }
        ... on SessionLimitReached { message }
        ... on LicenseUnavailable { message }
      }
    }`,
    { input: { slice, username, password, channel, userAgent: "seatwarden browser test" } },
  );
  assert.equal(data.login.__typename, "LoginSuccess", `login of ${username} failed: ${JSON.stringify(data.login)}`);
  return data.login.token;
}

export const PRODUCTION = "northwind-prod";

/** Returns the id of the demo's production slice, looked up with `token`. */
export async function productionSliceId(token) {
  const data = await graphql("{ slices(filter: {search: \"northwind-prod\"}) { edges { node { id name } } } }", {}, token);
  const slice = data.slices.edges.map((edge) => edge.node).find((node) => node.name === PRODUCTION);
  assert.ok(slice, `the demo has no slice ${PRODUCTION}`);
  return slice.id;
}
